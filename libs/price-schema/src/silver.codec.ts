import { parquetMetadata, parquetRead, type FileMetaData } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { SilverValueError } from './price-schema.errors';
import { PRICE_TICK_COLUMNS, PRICE_TICK_FIELDS, type PriceTick, type PriceTickField } from './price-tick.schema';

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

export const SILVER_DECIMAL_PRECISION = 38;
export const SILVER_DECIMAL_SCALE = 18;
const INT_DIGITS = SILVER_DECIMAL_PRECISION - SILVER_DECIMAL_SCALE;
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

const PRODUCT_KEY = 'btc-etl.product_id';

// ---------------------------------------------------------------------------------------------------------- values

const DECIMAL_TEXT = /^\d+(\.\d+)?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;
const NO_FORM = '-';

function refuse(tick: PriceTick, column: string, value: unknown, reason: string): never {
  throw new SilverValueError(tick.record_id, column, String(value), reason);
}

/** A decimal string as DECIMAL(38,18) bytes (big-endian two's complement) and its written fraction digit count. */
function decimalBytes(tick: PriceTick, column: string, text: string): [Uint8Array, number] {
  const [int, frac] = decimalParts(tick, column, text);
  return [unscaledBytes(int + frac.slice(0, SILVER_DECIMAL_SCALE).padEnd(SILVER_DECIMAL_SCALE, '0')), frac.length];
}

/** The integer and fraction digits of a decimal string that fits DECIMAL(38,18); refuses one that does not. */
function decimalParts(tick: PriceTick, column: string, text: string): [string, string] {
  if (typeof text !== 'string' || !DECIMAL_TEXT.test(text)) refuse(tick, column, text, 'not a decimal string');
  const dot = text.indexOf('.');
  const int = dot === -1 ? text : text.slice(0, dot);
  const frac = dot === -1 ? '' : text.slice(dot + 1);
  if (int.length > 1 && int.charCodeAt(0) === 48) {
    refuse(tick, column, text, 'leading zeros cannot be kept exactly in a DECIMAL');
  }
  if (int.length > INT_DIGITS) {
    refuse(tick, column, text, `more than ${INT_DIGITS} integer digits do not fit DECIMAL(38,18)`);
  }
  if (frac.length > 35) refuse(tick, column, text, 'more than 35 fraction digits cannot be kept');
  if (frac.length > SILVER_DECIMAL_SCALE && /[1-9]/.test(frac.slice(SILVER_DECIMAL_SCALE))) {
    refuse(
      tick,
      column,
      text,
      `more than ${SILVER_DECIMAL_SCALE} significant fraction digits do not fit DECIMAL(38,18)`,
    );
  }
  return [int, frac];
}

/**
 * The 16 big-endian bytes of a decimal digit string (at most 38 digits), without BigInt: four 32-bit limbs,
 * multiplied by 10^4 and added to four digits at a time (every step stays below 2^53, so doubles are exact).
 */
function unscaledBytes(digits: string): Uint8Array {
  const limbs = [0, 0, 0, 0]; // most significant first
  let at = 0;
  while (at < digits.length) {
    const take = Math.min(4, digits.length - at);
    let carry = Number(digits.slice(at, at + take));
    const factor = 10 ** take;
    for (let i = 3; i >= 0; i--) {
      const v = (limbs[i] as number) * factor + carry;
      limbs[i] = v % 4294967296;
      carry = Math.floor(v / 4294967296);
    }
    at += take;
  }
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) view.setUint32(i * 4, limbs[i] as number);
  return bytes;
}

/** The unscaled value of DECIMAL(38,18) bytes (non-negative: silver holds no signed decimals). */
function unscaledOf(bytes: Uint8Array): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (view.getBigUint64(0) << 64n) | view.getBigUint64(8);
}

function decimalText(bytes: Uint8Array, digits: number): string {
  const s = unscaledOf(bytes)
    .toString()
    .padStart(SILVER_DECIMAL_SCALE + 1, '0');
  const int = s.slice(0, s.length - SILVER_DECIMAL_SCALE);
  if (digits === 0) return int;
  const frac = s.slice(s.length - SILVER_DECIMAL_SCALE);
  return `${int}.${digits <= SILVER_DECIMAL_SCALE ? frac.slice(0, digits) : frac.padEnd(digits, '0')}`;
}

/** An ISO-8601 UTC string as epoch microseconds and its written fraction digit count. */
function timestampMicros(tick: PriceTick, column: string, text: string): [bigint, number] {
  const m = typeof text === 'string' ? ISO.exec(text) : null;
  if (!m) refuse(tick, column, text, 'not an ISO-8601 UTC time');
  const [, y, mo, d, h, mi, s, frac = ''] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (frac.length > 6 && /[1-9]/.test(frac.slice(6))) {
    refuse(tick, column, text, 'digits below the microsecond do not fit TIMESTAMP(MICROS)');
  }
  // ms * 1000 stays below 2^53 for any 4-digit year: one exact double, one BigInt
  return [BigInt(ms * 1000 + Number(frac.slice(0, 6).padEnd(6, '0'))), frac.length];
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
  if (time === null || time === undefined) refuse(tick, 'event_time', time, 'a record needs an event time');
  return timestampMicros(tick, tick.exchange_time != null ? 'exchange_time' : 'scheduled_time', time)[0];
}

/**
 * Why a valid record cannot be stored in silver exactly (the first problem found), or undefined when it can. The
 * compactor quarantines such records; the encoder refuses them with the same message.
 */
export function silverFitIssue(tick: PriceTick): SilverValueError | undefined {
  try {
    for (const column of SILVER_COLUMNS) {
      const value = column.field === undefined ? undefined : tick[column.field];
      if (value === null || value === undefined) continue;
      if (column.kind === 'decimal') decimalParts(tick, column.name, value as string);
      else if (column.kind === 'timestamp') timestampMicros(tick, column.name, value as string);
    }
    silverEventMicros(tick);
    return undefined;
  } catch (error) {
    if (error instanceof SilverValueError) return error;
    throw error;
  }
}

// --------------------------------------------------------------------------------------------------------- writing

function schemaElement(column: SilverColumn) {
  const base = { name: column.name, repetition_type: column.name === 'record_id' ? 'REQUIRED' : 'OPTIONAL' } as const;
  switch (column.kind) {
    case 'string':
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'decimal':
      return {
        ...base,
        type: 'FIXED_LEN_BYTE_ARRAY',
        type_length: 16,
        precision: SILVER_DECIMAL_PRECISION,
        scale: SILVER_DECIMAL_SCALE,
        logical_type: { type: 'DECIMAL', precision: SILVER_DECIMAL_PRECISION, scale: SILVER_DECIMAL_SCALE },
      };
    case 'timestamp':
      return {
        ...base,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MICROS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
      };
    case 'int64':
      return { ...base, type: 'INT64' };
    case 'int32':
      return { ...base, type: 'INT32' };
    case 'boolean':
      return { ...base, type: 'BOOLEAN' };
  }
}

/** A hyparquet-writer Writer that hands out each finished row group's bytes, so a file never sits in one buffer. */
class ChunkWriter extends ByteWriter {
  readonly chunks: Uint8Array[] = [];
  constructor(
    initialSize: number,
    private readonly onChunk?: (chunk: Uint8Array) => void,
  ) {
    super(initialSize);
  }
  flush(): void {
    if (this.index > 0) {
      const chunk = new Uint8Array(this.buffer, 0, this.index).slice();
      if (this.onChunk) this.onChunk(chunk);
      else this.chunks.push(chunk);
    }
    this.index = 0;
  }
  override finish(): void {
    this.flush();
  }
}

/** String min/max statistics kept whole (ISO-free now, but record ids are 32 bytes; the default cuts at 16). */
const STATISTICS_TRUNCATE_LENGTH = 64;
/**
 * Rows per row group: a writer holds one group as objects while it encodes it, so this bounds its memory (~100 MiB per
 * 100k rows); 25k rows of ~47 bytes are ~1.2 MiB groups, still fine-grained statistics for time pruning.
 */
export const SILVER_ROW_GROUP_SIZE = 25_000;
const DECIMAL_CACHE = 65_536;

export interface SilverEncoderOptions {
  /** Every record written must be of this product (the partition's). */
  productId: string;
  createdBy?: string;
  /**
   * Handed each finished piece of the file, in order (after every row group, and the footer at `finish`), instead
   * of keeping them: a writer streaming to disk then holds one row group at most. `finish` returns [] then.
   */
  onChunk?: (chunk: Uint8Array) => void;
}

/**
 * Streaming silver writer: feed records in (event time, record_id) order, one or more row groups per `write`, then
 * `finish` for the file's bytes in chunks. Refuses (SilverValueError) a record of another product, out of order, or
 * with a value that does not fit; nothing is rounded.
 * @example
 * const encoder = new SilverParquetEncoder({ productId: 'BTC-USD' });
 * encoder.write(sortedTicks);
 * const chunks = encoder.finish();
 */
export class SilverParquetEncoder {
  readonly #writer: ChunkWriter;
  readonly #parquet: ParquetWriter;
  readonly #productId: string;
  #last: { micros: bigint; id: string } | undefined;
  #rows = 0;
  readonly #decimals = new Map<string, [Uint8Array, number]>();

  constructor(options: SilverEncoderOptions) {
    this.#productId = options.productId;
    this.#writer = new ChunkWriter(1 << 20, options.onChunk);
    const schema = [
      { name: 'root', num_children: SILVER_COLUMNS.length },
      ...SILVER_COLUMNS.map(schemaElement),
    ] as never;
    this.#parquet = new ParquetWriter({
      writer: this.#writer,
      schema,
      statisticsTruncateLength: STATISTICS_TRUNCATE_LENGTH,
      createdBy: options.createdBy ?? 'bitcoin-stream-etl compactor',
      kvMetadata: [{ key: PRODUCT_KEY, value: options.productId }],
    });
  }

  get rows(): number {
    return this.#rows;
  }

  /** Bytes handed out so far plus the ones still buffered. */
  get bytes(): number {
    return this.#writer.offset;
  }

  write(ticks: readonly PriceTick[], rowGroupSize = SILVER_ROW_GROUP_SIZE): void {
    if (ticks.length === 0) return;
    const n = ticks.length;
    const data: unknown[][] = SILVER_COLUMNS.map(() => new Array<unknown>(n));
    const eventCol = SILVER_COLUMNS.findIndex((c) => c.name === 'event_time');
    const lexicalCol = SILVER_COLUMNS.length - 1;
    const exchangeCol = SILVER_COLUMNS.findIndex((c) => c.name === 'exchange_time');
    const scheduledCol = SILVER_COLUMNS.findIndex((c) => c.name === 'scheduled_time');
    for (let i = 0; i < n; i++) {
      const tick = ticks[i] as PriceTick;
      if (tick.product_id !== this.#productId) {
        refuse(tick, 'product_id', tick.product_id, `this file holds ${this.#productId} only`);
      }
      let forms = '';
      for (let c = 0; c < eventCol; c++) {
        const column = SILVER_COLUMNS[c] as SilverColumn;
        const value = tick[column.field as PriceTickField];
        const isLexical = column.kind === 'decimal' || column.kind === 'timestamp';
        if (value === null || value === undefined) {
          (data[c] as unknown[])[i] = null;
          if (isLexical) forms += NO_FORM;
          continue;
        }
        switch (column.kind) {
          case 'decimal': {
            // prices repeat (and bids, asks): convert each distinct text once per file
            let converted = this.#decimals.get(value as string);
            if (converted === undefined) {
              converted = decimalBytes(tick, column.name, value as string);
              if (this.#decimals.size >= DECIMAL_CACHE) this.#decimals.clear();
              this.#decimals.set(value as string, converted);
            }
            const [bytes, digits] = converted;
            (data[c] as unknown[])[i] = bytes;
            forms += digits.toString(36);
            break;
          }
          case 'timestamp': {
            const [micros, digits] = timestampMicros(tick, column.name, value as string);
            (data[c] as unknown[])[i] = micros;
            forms += digits.toString(36);
            break;
          }
          case 'int64':
            (data[c] as unknown[])[i] = BigInt(value as number);
            break;
          default:
            (data[c] as unknown[])[i] = value;
        }
      }
      const micros = (tick.exchange_time != null ? data[exchangeCol]?.[i] : data[scheduledCol]?.[i]) as
        | bigint
        | undefined;
      if (micros === undefined || micros === null) refuse(tick, 'event_time', null, 'a record needs an event time');
      const last = this.#last;
      if (last !== undefined && (micros < last.micros || (micros === last.micros && tick.record_id <= last.id))) {
        refuse(tick, 'event_time', micros, 'records must come in (event time, record_id) order, without repeats');
      }
      this.#last = { micros, id: tick.record_id };
      (data[eventCol] as unknown[])[i] = micros;
      (data[lexicalCol] as unknown[])[i] = forms;
    }
    // Decimals go in as the bytes computed above: the writer's own DECIMAL path converts through BigInt again (slow)
    // and wants numbers. The column is declared DECIMAL by its logical type; converted_type is added for old readers
    // just before the footer is written (see finish).
    this.#parquet.write({
      columnData: SILVER_COLUMNS.map((column, c) => ({
        name: column.name,
        data: data[c] as never,
        // record ids are distinct hashes: a dictionary can never pay, so skip trying one (the costliest column)
        ...(column.kind === 'timestamp' || column.kind === 'int64'
          ? { encoding: 'DELTA_BINARY_PACKED' as const }
          : column.name === 'record_id'
            ? { encoding: 'PLAIN' as const }
            : {}),
      })),
      rowGroupSize,
    });
    this.#rows += n;
  }

  /** Write the footer; returns the whole file in chunks (concatenate them, or stream them out), or [] with onChunk. */
  finish(): Uint8Array[] {
    // Old readers know DECIMAL by converted_type only: add it now, and turn the decimal statistics (computed over the
    // bytes written) into the unscaled bigints the footer writer expects of a converted DECIMAL.
    const decimals = new Set<string>();
    for (const element of this.#parquet.schema as {
      name: string;
      logical_type?: { type: string };
      converted_type?: string;
    }[]) {
      if (element.logical_type?.type === 'DECIMAL') {
        element.converted_type = 'DECIMAL';
        decimals.add(element.name);
      }
    }
    for (const group of this.#parquet.row_groups) {
      for (const chunk of group.columns) {
        const stats = chunk.meta_data?.statistics as Record<string, unknown> | undefined;
        if (!stats || !decimals.has(chunk.meta_data?.path_in_schema[0] ?? '')) continue;
        for (const key of ['min', 'max', 'min_value', 'max_value']) {
          if (stats[key] instanceof Uint8Array) stats[key] = unscaledOf(stats[key]);
        }
      }
    }
    this.#parquet.finish();
    return this.#writer.chunks;
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
