import { parquetMetadata, parquetRead, type FileMetaData } from 'hyparquet';
import { SilverValueError } from './price-schema.errors';
import { PRICE_TICK_COLUMNS, PRICE_TICK_FIELDS, type PriceTick, type PriceTickField } from './price-tick.schema';
import { SilverColumnBatch, silverTimeParts } from './silver.columns';
import {
  SILVER_DECIMAL_PRECISION,
  SILVER_DECIMAL_SCALE,
  SILVER_PRODUCT_KEY as PRODUCT_KEY,
  SilverParquetWriter,
  type SilverWriterOptions,
} from './silver.writer';

export { SILVER_DECIMAL_PRECISION, SILVER_DECIMAL_SCALE };

/**
 * The silver layer's Parquet file: one partition (product, UTC event hour) of deduplicated records, sorted by event
 * time then record_id. Typed for analytics without casts, and exact:
 * - decimal strings are DECIMAL(38,18) (FIXED_LEN_BYTE_ARRAY(16)): 20 integer and 18 fraction digits; a value that
 *   does not fit (more digits, leading zeros) is refused with a SilverValueError, never rounded;
 * - ISO times are TIMESTAMP(MICROS, UTC); a time with non-zero digits below the microsecond is refused;
 * - `event_time` = `exchange_time ?? scheduled_time` (the time every query ranges over) is stored too, so row-group
 *   statistics on it prune ranges directly;
 * - `lexical_forms` keeps how many fraction digits each decimal and time was written with, so decoding gives back the
 *   raw strings character for character ("97123.40" stays "97123.40", "…15Z" stays without a fraction). One character
 *   per column of SILVER_LEXICAL_COLUMNS: `-` for null, else the digit count in base 36 (`0` = no fraction part).
 * `product_id` is the partition (folder `product_id=`), and is also kept in the file's key-value metadata.
 */

export type SilverKind = 'string' | 'decimal' | 'timestamp' | 'int64' | 'int32' | 'boolean';

export interface SilverColumn {
  name: string;
  kind: SilverKind;
  /** The Glue/Athena type of the column. */
  glue: string;
  /** The PriceTick field it holds; undefined for derived columns (`event_time`, `lexical_forms`). */
  field?: PriceTickField;
}

const GLUE_OF: Record<SilverKind, string> = {
  string: 'string',
  decimal: `decimal(${SILVER_DECIMAL_PRECISION},${SILVER_DECIMAL_SCALE})`,
  timestamp: 'timestamp',
  int64: 'bigint',
  int32: 'int',
  boolean: 'boolean',
};

const fieldColumns: SilverColumn[] = PRICE_TICK_COLUMNS.flatMap((name) => {
  const kind = PRICE_TICK_FIELDS[name].silver;
  return kind === 'partition' ? [] : [{ name, kind, glue: GLUE_OF[kind], field: name }];
});

/** The columns of a silver file in order: every record field but `product_id`, then `event_time`, `lexical_forms`. */
export const SILVER_COLUMNS: readonly SilverColumn[] = [
  ...fieldColumns,
  { name: 'event_time', kind: 'timestamp', glue: 'timestamp' },
  { name: 'lexical_forms', kind: 'string', glue: 'string' },
];

/** The fields whose written form `lexical_forms` keeps, in its character order. */
export const SILVER_LEXICAL_COLUMNS: readonly PriceTickField[] = fieldColumns
  .filter((c) => c.kind === 'decimal' || c.kind === 'timestamp')
  .map((c) => c.field as PriceTickField);

/** The partition keys of the silver table (Hive folders), in order. */
export const SILVER_PARTITION_KEYS = [
  { name: 'product_id', type: 'string' },
  { name: 'dt', type: 'string', comment: 'YYYY-MM-DD of the UTC event hour' },
  { name: 'hour', type: 'int', comment: 'UTC hour of the event time, 0-23' },
] as const;

// ---------------------------------------------------------------------------------------------------------- values

function decimalText(bytes: Uint8Array, digits: number): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const s = ((view.getBigUint64(0) << 64n) | view.getBigUint64(8)).toString().padStart(SILVER_DECIMAL_SCALE + 1, '0');
  const int = s.slice(0, s.length - SILVER_DECIMAL_SCALE);
  if (digits === 0) return int;
  const frac = s.slice(s.length - SILVER_DECIMAL_SCALE);
  return `${int}.${digits <= SILVER_DECIMAL_SCALE ? frac.slice(0, digits) : frac.padEnd(digits, '0')}`;
}

function isoText(micros: bigint, digits: number): string {
  let sec = micros / 1_000_000n;
  let us = micros % 1_000_000n;
  if (us < 0n) {
    us += 1_000_000n;
    sec -= 1n;
  }
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  if (digits === 0) return `${base}Z`;
  return `${base}.${us.toString().padStart(6, '0').padEnd(digits, '0').slice(0, digits)}Z`;
}

/** Epoch microseconds of a record's event time (`exchange_time ?? scheduled_time`), the sort key of silver files. */
export function silverEventMicros(tick: PriceTick): bigint {
  const time = tick.exchange_time ?? tick.scheduled_time;
  if (time === null || time === undefined) {
    throw new SilverValueError(tick.record_id, 'event_time', String(time), 'a record needs an event time');
  }
  const [ms, us] = silverTimeParts(
    tick.record_id,
    tick.exchange_time != null ? 'exchange_time' : 'scheduled_time',
    time,
  );
  return BigInt(ms) * 1000n + BigInt(us);
}

const fitScratch = new SilverColumnBatch(1);

/**
 * Why a valid record cannot be stored in silver exactly (the first problem found), or undefined when it can. The
 * compactor quarantines such records; the encoder refuses them with the same message.
 */
export function silverFitIssue(tick: PriceTick): SilverValueError | undefined {
  try {
    fitScratch.setTick(0, tick);
    return undefined;
  } catch (error) {
    if (error instanceof SilverValueError) return error;
    throw error;
  }
}

// --------------------------------------------------------------------------------------------------------- writing

/**
 * Rows per row group: 25k rows of ~47 bytes are ~1.2 MiB groups, fine-grained statistics for time pruning, and the
 * writer holds one group's typed columns at a time.
 */
export const SILVER_ROW_GROUP_SIZE = 25_000;

export type SilverEncoderOptions = SilverWriterOptions;

/**
 * Streaming silver writer over records: feed them in (event time, record_id) order, one or more row groups per
 * `write`, then `finish` for the file's bytes in chunks. Refuses (SilverValueError) a record of another product, out
 * of order, or with a value that does not fit; nothing is rounded. (The compactor writes typed columns through
 * SilverParquetWriter directly; this is the same writer fed from objects.)
 * @example
 * const encoder = new SilverParquetEncoder({ productId: 'BTC-USD' });
 * encoder.write(sortedTicks);
 * const chunks = encoder.finish();
 */
export class SilverParquetEncoder {
  readonly #writer: SilverParquetWriter;
  readonly #productId: string;
  #batch: SilverColumnBatch | undefined;

  constructor(options: SilverEncoderOptions) {
    this.#productId = options.productId;
    this.#writer = new SilverParquetWriter(options);
  }

  get rows(): number {
    return this.#writer.rows;
  }

  /** Bytes handed out so far plus the ones still buffered. */
  get bytes(): number {
    return this.#writer.bytes;
  }

  write(ticks: readonly PriceTick[], rowGroupSize = SILVER_ROW_GROUP_SIZE): void {
    for (let start = 0; start < ticks.length; start += rowGroupSize) {
      const n = Math.min(rowGroupSize, ticks.length - start);
      if (this.#batch === undefined || this.#batch.capacity < n) this.#batch = new SilverColumnBatch(n);
      const batch = this.#batch;
      batch.clear(n);
      for (let i = 0; i < n; i++) {
        const tick = ticks[start + i] as PriceTick;
        if (tick.product_id !== this.#productId) {
          throw new SilverValueError(
            tick.record_id,
            'product_id',
            String(tick.product_id),
            `this file holds ${this.#productId} only`,
          );
        }
        batch.setTick(i, tick);
      }
      this.#writer.writeBatch(batch, n);
    }
  }

  /** Write the footer; returns the whole file in chunks (concatenate them, or stream them out), or [] with onChunk. */
  finish(): Uint8Array[] {
    return this.#writer.finish();
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** Compare two records in silver order: event time, then record_id. */
export function compareSilverOrder(a: PriceTick, b: PriceTick): number {
  const ta = silverEventMicros(a);
  const tb = silverEventMicros(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.record_id === b.record_id ? 0 : a.record_id < b.record_id ? -1 : 1;
}

/**
 * One silver file from records of one product (sorted here; record ids must be distinct).
 * @example const bytes = encodeSilverParquet(ticks, { productId: 'BTC-USD' });
 */
export function encodeSilverParquet(ticks: readonly PriceTick[], options: SilverEncoderOptions): Uint8Array {
  const encoder = new SilverParquetEncoder(options);
  encoder.write([...ticks].sort(compareSilverOrder));
  return concat(encoder.finish());
}

// --------------------------------------------------------------------------------------------------------- reading

function toArrayBuffer(bytes: Uint8Array | ArrayBuffer): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * The file's metadata with DECIMAL annotations taken off, so hyparquet hands over the exact bytes instead of a
 * rounded JavaScript number.
 */
function exactMetadata(metadata: FileMetaData): FileMetaData {
  return {
    ...metadata,
    schema: metadata.schema.map((e) =>
      e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL'
        ? { ...e, converted_type: undefined, logical_type: undefined }
        : e,
    ),
  };
}

/** A silver row (as hyparquet reads it with the exact options below) back to the record it came from. */
export function silverRowToPriceTick(row: Record<string, unknown>, productId: string): PriceTick {
  const forms = row.lexical_forms as string;
  const out: Record<string, unknown> = {};
  let lexical = 0;
  for (const name of PRICE_TICK_COLUMNS) {
    const kind = PRICE_TICK_FIELDS[name].silver;
    if (kind === 'partition') {
      out[name] = productId;
      continue;
    }
    let value = row[name];
    if (kind === 'decimal' || kind === 'timestamp') {
      const digits = parseInt(forms.charAt(lexical++), 36);
      if (value !== null && value !== undefined) {
        value =
          kind === 'decimal' ? decimalText(value as Uint8Array, digits) : isoText(value as bigint, Number(digits));
      }
    } else if (typeof value === 'bigint') {
      value = Number(value);
    }
    if (value === undefined || (value === null && !PRICE_TICK_FIELDS[name].required)) continue;
    out[name] = value;
  }
  return out as PriceTick;
}

export interface SilverDecodeOptions {
  /** Default: the product in the file's metadata. */
  productId?: string;
  /** Row range to read (default all). */
  rowStart?: number;
  rowEnd?: number;
}

/** The product a silver file holds, from its key-value metadata. */
export function silverFileProduct(metadata: FileMetaData): string | undefined {
  return metadata.key_value_metadata?.find((kv) => kv.key === PRODUCT_KEY)?.value;
}

/**
 * Read a silver file back into records, exactly as they were written (strings equal to the raw ones).
 * @example const ticks = await decodeSilverParquet(bytes);
 */
export async function decodeSilverParquet(
  bytes: Uint8Array | ArrayBuffer,
  options: SilverDecodeOptions = {},
): Promise<PriceTick[]> {
  const file = toArrayBuffer(bytes);
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(file);
  } catch (cause) {
    throw new SilverValueError('', 'file', '', `not a readable Parquet file: ${(cause as Error).message}`, { cause });
  }
  const productId = options.productId ?? silverFileProduct(metadata);
  if (productId === undefined) {
    throw new SilverValueError('', 'file', '', 'no product id given and none in the file metadata');
  }
  const out: PriceTick[] = [];
  await parquetRead({
    file,
    metadata: exactMetadata(metadata),
    rowFormat: 'object',
    parsers: { timestampFromMicroseconds: (micros: bigint) => micros },
    ...(options.rowStart !== undefined ? { rowStart: options.rowStart } : {}),
    ...(options.rowEnd !== undefined ? { rowEnd: options.rowEnd } : {}),
    onComplete: (rows: Record<string, unknown>[]) => {
      for (const row of rows) out.push(silverRowToPriceTick(row, productId));
    },
  });
  return out;
}

/** Options for hyparquet (`parquetRead`/`parquetReadObjects`) that read silver values exactly, for custom readers. */
export function silverReadOptions(metadata: FileMetaData) {
  return {
    metadata: exactMetadata(metadata),
    parsers: { timestampFromMicroseconds: (micros: bigint) => micros },
  };
}
