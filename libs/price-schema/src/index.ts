export {
  DecimalString,
  IsoUtcString,
  MISS_REASONS,
  MissReason,
  PRICE_SOURCES,
  PRICE_TICK_COLUMNS,
  PRICE_TICK_FIELDS,
  PriceSource,
  PriceTickSchema,
  ProductId,
  TICK_STATUSES,
  TickStatus,
  type PriceTick,
  type PriceTickField,
} from './price-tick.schema';
export {
  InvalidPriceTickError,
  NdjsonLineError,
  PriceSchemaError,
  SilverValueError,
  type LineIssue,
} from './price-schema.errors';
export { recordId, type RecordIdParts } from './record-id';
export { isPriceTick, parsePriceTick, toLineIssues } from './validate';
export { decodeNdjson, decodeNdjsonStream, encodeNdjson, encodeNdjsonLine, type DecodeOptions } from './ndjson.codec';
export { decodeParquet, encodeParquet, PARQUET_COLUMNS } from './parquet.codec';
export { athenaColumnsDdl, GLUE_COLUMNS, GLUE_PARTITION_KEYS, type GlueColumn } from './glue.columns';
export {
  compareSilverOrder,
  decodeSilverParquet,
  encodeSilverParquet,
  SILVER_COLUMNS,
  SILVER_DECIMAL_PRECISION,
  SILVER_DECIMAL_SCALE,
  SILVER_LEXICAL_COLUMNS,
  SILVER_PARTITION_KEYS,
  SILVER_ROW_GROUP_SIZE,
  silverEventMicros,
  silverFileProduct,
  silverFitIssue,
  SilverParquetEncoder,
  silverReadOptions,
  silverRowToPriceTick,
  type SilverColumn,
  type SilverDecodeOptions,
  type SilverEncoderOptions,
  type SilverKind,
} from './silver.codec';
export {
  BIG_DECIMAL,
  copySilverRow,
  daysFromCivil,
  EXCHANGE_TIME,
  INGEST_TIME,
  NULL_CODE,
  readRecordId,
  SCHEDULED_TIME,
  SILVER_FIELD_INDEX,
  SILVER_FIELDS,
  SilverColumnBatch,
  silverDecimalParts,
  silverTimeParts,
  writeRecordId,
  type SilverField,
  type SilverFieldKind,
} from './silver.columns';
export { SilverParquetWriter, silverRowGroups, type SilverWriterOptions } from './silver.writer';
