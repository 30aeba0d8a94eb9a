export * from './price-tick.schema';
export * from './price-schema.errors';
export * from './record-id';
export * from './validate';
export * from './ndjson.codec';
export * from './parquet.codec';
export * from './glue.columns';
