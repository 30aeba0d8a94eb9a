import { parquetMetadata, type ColumnChunk, type PageHeader, type RowGroup } from 'hyparquet';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { deltaBinaryPack } from 'hyparquet-writer/src/delta.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { SilverValueError } from './price-schema.errors';
import {
  BIG_DECIMAL,
  EXCHANGE_TIME,
  NULL_CODE,
  readRecordId,
  SCHEDULED_TIME,
  SILVER_FIELDS,
  silverDecimalParts,
  type SilverColumnBatch,
  type SilverField,
} from './silver.columns';

/**
 * The silver Parquet writer: encodes row groups straight from typed columns (SilverColumnBatch), no object per value.
 * hyparquet-writer frames the file (header, footer, statistics in the footer); the pages are written here:
 * - record_id PLAIN; source/status/reason/lexical_forms RLE_DICTIONARY;
 * - decimals FIXED_LEN_BYTE_ARRAY(16) big-endian unscaled, RLE_DICTIONARY when values repeat (prices), else PLAIN;
 * - times and 64-bit integers DELTA_BINARY_PACKED; int32 and booleans PLAIN;
 * - one DATA_PAGE_V2 per column chunk, SNAPPY; definition levels RLE/bit-packed;
 * - min/max statistics on every column (whole values), null counts.
 */

export const SILVER_DECIMAL_PRECISION = 38;
export const SILVER_DECIMAL_SCALE = 18;
export const SILVER_PRODUCT_KEY = 'btc-etl.product_id';
/** String min/max statistics kept whole (record ids are 32 bytes; the default cuts at 16). */
const STATISTICS_TRUNCATE_LENGTH = 64;
const TWO32 = 4294967296;
/**
 * Epoch milliseconds whose microseconds (ms * 1000 + us) are exact doubles, zigzag-encoded too (-2v - 1 of a negative
 * v must stay below 2^53; 2v of a positive one is even, exact below 2^54). Outside (before 1843, after 2255) the chunk
 * is delta-encoded through BigInt.
 */
const EXACT_MS_MIN = -4_000_000_000_000;
const EXACT_MS_MAX = 9_000_000_000_000;

type Kind = 'string' | 'decimal' | 'timestamp' | 'int64' | 'int32' | 'boolean';

interface ColumnSpec {
  name: string;
  kind: Kind;
  required: boolean;
}

/** The writer's schema: the record fields, then `event_time`, `lexical_forms`. */
const COLUMNS: ColumnSpec[] = [
  ...SILVER_FIELDS.map((f): ColumnSpec => {
    const kind: Kind = f.kind === 'id' || f.kind === 'enum' ? 'string' : f.kind;
    return { name: f.name, kind, required: f.kind === 'id' };
  }),
  { name: 'event_time', kind: 'timestamp', required: false },
  { name: 'lexical_forms', kind: 'string', required: false },
];

/** Parquet schema elements of a silver file. */
export function silverSchema() {
  const element = (c: ColumnSpec) => {
    const base = { name: c.name, repetition_type: c.required ? 'REQUIRED' : 'OPTIONAL' } as const;
    switch (c.kind) {
      case 'string':
        return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
      case 'decimal':
        return {
          ...base,
          type: 'FIXED_LEN_BYTE_ARRAY',
          type_length: 16,
          converted_type: 'DECIMAL',
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
  };
  return [{ name: 'root', num_children: COLUMNS.length }, ...COLUMNS.map(element)];
}

// ------------------------------------------------------------------------------------------------------------ bytes

/** A growable byte buffer written in place (no per-byte bounds call beyond `ensure`). */
class Bytes {
  buf = new Uint8Array(1 << 16);
  at = 0;
  reset(): this {
    this.at = 0;
    return this;
  }
  ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.at++] = v;
  }
  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    b[this.at++] = v & 255;
    b[this.at++] = (v >>> 8) & 255;
    b[this.at++] = (v >>> 16) & 255;
    b[this.at++] = (v >>> 24) & 255;
  }
  /** Unsigned varint of an exact non-negative double (up to 2^53). */
  varint(v: number): void {
    this.ensure(8);
    while (v >= 128) {
      this.buf[this.at++] = v % 128 | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.at++] = v;
  }
  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }
}

/** RLE/bit-packed hybrid (runs of 8+ equal values as RLE, the rest in bit-packed groups of 8). */
function writeHybrid(out: Bytes, values: ArrayLike<number>, n: number, bitWidth: number): void {
  const width = (bitWidth + 7) >> 3;
  let i = 0;
  let packedStart = -1;
  let packedGroups = 0;
  const flushPacked = () => {
    if (packedGroups === 0) return;
    out.varint((packedGroups << 1) | 1);
    const total = packedGroups * 8;
    out.ensure((total * bitWidth) / 8 + 8);
    let acc = 0;
    let bits = 0;
    for (let k = 0; k < total; k++) {
      const idx = packedStart + k;
      acc |= (idx < n ? (values[idx] as number) : 0) << bits;
      bits += bitWidth;
      while (bits >= 8) {
        out.buf[out.at++] = acc & 255;
        acc >>>= 8;
        bits -= 8;
      }
    }
    if (bits > 0) out.buf[out.at++] = acc & 255;
    packedGroups = 0;
  };
  while (i < n) {
    const v = values[i] as number;
    let run = 1;
    while (i + run < n && values[i + run] === v) run++;
    if (run >= 8) {
      flushPacked();
      out.varint(run * 2);
      for (let j = 0; j < width; j++) out.u8((v >>> (8 * j)) & 255);
      i += run;
    } else {
      if (packedGroups === 0) packedStart = i;
      packedGroups++;
      i += 8;
    }
  }
  flushPacked();
}

function bitWidthOf(max: number): number {
  let w = 0;
  while (max >= 1) {
    w++;
    max = Math.floor(max / 2);
  }
  return w;
}

/** Write `v` (< 2^w, exact) with `w` bits, LSB first, through the accumulator state [acc, bits]. */
const bitState = { acc: 0, bits: 0 };
function putBits(out: Bytes, v: number, w: number): void {
  while (w > 0) {
    const take = w < 24 ? w : 24;
    const unit = 1 << take;
    const part = v % unit;
    v = (v - part) / unit;
    bitState.acc |= part << bitState.bits;
    bitState.bits += take;
    while (bitState.bits >= 8) {
      out.buf[out.at++] = bitState.acc & 255;
      bitState.acc >>>= 8;
      bitState.bits -= 8;
    }
    w -= take;
  }
}

const deltas = new Float64Array(128);
/**
 * DELTA_BINARY_PACKED of exact integer doubles (blocks of 128, 4 miniblocks). False, with nothing written, when a
 * delta would not be exact as a double (the caller then encodes through BigInt).
 */
function writeDeltaNumbers(out: Bytes, values: Float64Array, n: number): boolean {
  for (let i = 1; i < n; i++) {
    if (Math.abs((values[i] as number) - (values[i - 1] as number)) > Number.MAX_SAFE_INTEGER / 4) return false;
  }
  out.varint(128);
  out.varint(4);
  out.varint(n);
  out.zigzag(n > 0 ? (values[0] as number) : 0);
  for (let at = 1; at < n; at += 128) {
    const count = Math.min(128, n - at);
    let min = Number.POSITIVE_INFINITY;
    for (let k = 0; k < count; k++) {
      const d = (values[at + k] as number) - (values[at + k - 1] as number);
      deltas[k] = d;
      if (d < min) min = d;
    }
    out.zigzag(min);
    const widths = [0, 0, 0, 0];
    for (let mb = 0; mb < 4; mb++) {
      let max = 0;
      for (let k = mb * 32; k < Math.min(count, mb * 32 + 32); k++) {
        const adj = (deltas[k] as number) - min;
        if (adj > max) max = adj;
      }
      widths[mb] = mb * 32 < count ? bitWidthOf(max) : 0;
    }
    out.ensure(4 + 4 * 4 * 54);
    for (const w of widths) out.buf[out.at++] = w;
    for (let mb = 0; mb < 4 && mb * 32 < count; mb++) {
      const w = widths[mb] as number;
      if (w === 0) continue;
      bitState.acc = 0;
      bitState.bits = 0;
      for (let k = mb * 32; k < mb * 32 + 32; k++) putBits(out, k < count ? (deltas[k] as number) - min : 0, w);
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------- decimals

/** Big-endian unscaled DECIMAL(38,18) of `mantissa * 10^(18 - digits)` into out[at..at+16). */
function unscaledInto(mantissa: number, digits: number, out: Uint8Array, at: number): void {
  let l3 = mantissa % TWO32;
  let l2 = (mantissa - l3) / TWO32;
  let l1 = 0;
  let l0 = 0;
  let k = SILVER_DECIMAL_SCALE - digits;
  while (k > 0) {
    const t = k >= 4 ? 4 : k;
    const f = t === 4 ? 10_000 : 10 ** t;
    k -= t;
    let c = l3 * f;
    l3 = c % TWO32;
    c = (c - l3) / TWO32 + l2 * f;
    l2 = c % TWO32;
    c = (c - l2) / TWO32 + l1 * f;
    l1 = c % TWO32;
    l0 = (c - l1) / TWO32 + l0 * f;
  }
  writeLimb(out, at, l0);
  writeLimb(out, at + 4, l1);
  writeLimb(out, at + 8, l2);
  writeLimb(out, at + 12, l3);
}

function writeLimb(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 255;
  out[at + 2] = (v >>> 8) & 255;
  out[at + 3] = v & 255;
}

/** Unscaled bytes of a decimal text (any that fits DECIMAL(38,18)), four digits at a time in 32-bit limbs. */
function unscaledTextInto(id: string, column: string, text: string, out: Uint8Array, at: number): void {
  const [int, frac] = silverDecimalParts(id, column, text);
  const digits = int + frac.slice(0, SILVER_DECIMAL_SCALE).padEnd(SILVER_DECIMAL_SCALE, '0');
  const limbs = [0, 0, 0, 0];
  for (let p = 0; p < digits.length; ) {
    const take = Math.min(4, digits.length - p);
    let carry = Number(digits.slice(p, p + take));
    const factor = 10 ** take;
    for (let i = 3; i >= 0; i--) {
      const v = (limbs[i] as number) * factor + carry;
      limbs[i] = v % TWO32;
      carry = Math.floor(v / TWO32);
    }
    p += take;
  }
  for (let i = 0; i < 4; i++) writeLimb(out, at + 4 * i, limbs[i] as number);
}

function compareBytes(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): number {
  for (let k = 0; k < n; k++) {
    const d = (a[ai + k] as number) - (b[bi + k] as number);
    if (d !== 0) return d;
  }
  return 0;
}

function unscaledBigInt(bytes: Uint8Array): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (view.getBigUint64(0) << 64n) | view.getBigUint64(8);
}

function micros(ms: number, us: number): bigint {
  return BigInt(ms) * 1000n + BigInt(us);
}

// ------------------------------------------------------------------------------------------------------------ writer

/**
 * The row groups of a silver file, for {@link SilverParquetWriter.copyRowGroup}: its metadata as hyparquet reads it,
 * statistics in the forms this writer writes (times as epoch microseconds), DECIMAL ones exact: hyparquet makes those
 * rounded numbers, so they are taken from the footer's bytes (the unscaled values).
 */
export function silverRowGroups(file: Uint8Array): RowGroup[] {
  const metadata = parquetMetadata(file, { parsers: { timestampFromMicroseconds: (micros: bigint) => micros } });
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const length = view.getUint32(file.byteLength - 8, true);
  // the footer as thrift fields: row_groups = 4, columns = 1, meta_data = 3, statistics = 12, max/min_value = 5/6
  const raw = deserializeTCompactProtocol({ view, offset: file.byteLength - 8 - length }) as {
    field_4: { field_1: { field_3?: { field_12?: { field_5?: Uint8Array; field_6?: Uint8Array } } }[] }[];
  };
  const decimal = new Set(
    metadata.schema
      .filter((e) => e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL')
      .map((e) => e.name),
  );
  return metadata.row_groups.map((group, g) => ({
    ...group,
    columns: group.columns.map((column, c) => {
      const meta = column.meta_data;
      if (meta === undefined || !decimal.has(meta.path_in_schema[0] as string) || meta.statistics === undefined) {
        return column;
      }
      const stats = raw.field_4[g]?.field_1[c]?.field_3?.field_12;
      const exact = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : unscaledBigInt(bytes));
      return {
        ...column,
        meta_data: {
          ...meta,
          statistics: { ...meta.statistics, max_value: exact(stats?.field_5), min_value: exact(stats?.field_6) },
        },
      } as ColumnChunk;
    }),
  }));
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
      const bytes = new Uint8Array(this.buffer, 0, this.index);
      // onChunk consumes the bytes during the call (see SilverWriterOptions): no copy
      if (this.onChunk) this.onChunk(bytes);
      else this.chunks.push(bytes.slice());
    }
    this.index = 0;
  }
  override finish(): void {
    this.flush();
  }
}

export interface SilverWriterOptions {
  /** The partition's product (kept in the file's key-value metadata). */
  productId: string;
  createdBy?: string;
  /**
   * Handed each finished piece of the file, in order (after every row group, and the footer at `finish`), instead
   * of keeping them: a writer streaming to disk then holds one row group at most. `finish` returns [] then. The
   * bytes are the writer's buffer: use them during the call (write them out), copy them to keep them.
   */
  onChunk?: (chunk: Uint8Array) => void;
}

/** Pages smaller than this are stored uncompressed: snappy cannot shrink them, and each call allocates. */
const COMPRESS_FROM = 64;

interface Statistics {
  null_count: bigint;
  min_value?: unknown;
  max_value?: unknown;
}

/**
 * Writes a silver file from typed column batches: `writeBatch(batch, n)` writes rows [0, n) as one row group (rows
 * in (event time, record_id) order, strictly increasing across the whole file), `finish` the footer.
 * @example
 * const writer = new SilverParquetWriter({ productId: 'BTC-USD' });
 * writer.writeBatch(batch, rows);
 * const chunks = writer.finish();
 */
export class SilverParquetWriter {
  readonly #writer: ChunkWriter;
  readonly #parquet: ParquetWriter;
  #rows = 0;
  #lastMs = Number.NEGATIVE_INFINITY;
  #lastUs = 0;
  readonly #lastId = new Uint8Array(16);
  readonly #levels = new Bytes();
  readonly #page = new Bytes();
  readonly #dict = new Bytes();
  #defs = new Uint8Array(0);
  #codes = new Uint32Array(0);
  #values = new Float64Array(0);
  #eventMs = new Float64Array(0);
  #eventUs = new Uint16Array(0);
  #chunks: ColumnChunk[] = [];
  readonly #sample = new Set<number>();
  #groupUncompressed = 0;

  constructor(options: SilverWriterOptions) {
    // grows as a row group needs: a partition of an hour at 1 Hz is ~200 KiB, at 500 msg/s ~2 MiB per row group
    this.#writer = new ChunkWriter(1 << 16, options.onChunk);
    this.#parquet = new ParquetWriter({
      writer: this.#writer,
      schema: silverSchema() as never,
      statisticsTruncateLength: STATISTICS_TRUNCATE_LENGTH,
      createdBy: options.createdBy ?? 'bitcoin-stream-etl compactor',
      kvMetadata: [{ key: SILVER_PRODUCT_KEY, value: options.productId }],
    });
  }

  get rows(): number {
    return this.#rows;
  }

  /** Bytes handed out so far plus the ones still buffered. */
  get bytes(): number {
    return this.#writer.offset;
  }

  /** Rows [0, n) of the batch as one row group. */
  writeBatch(batch: SilverColumnBatch, n: number): void {
    if (n === 0) return;
    this.#scratch(n);
    this.#eventTimes(batch, n);
    const groupStart = this.#writer.offset;
    this.#chunks = [];
    this.#groupUncompressed = 0;
    for (let f = 0; f < SILVER_FIELDS.length; f++) {
      const field = SILVER_FIELDS[f] as SilverField;
      switch (field.kind) {
        case 'id':
          this.#idColumn(batch, n);
          break;
        case 'enum':
          this.#enumColumn(field, batch.bytes[f], n);
          break;
        case 'decimal':
          this.#decimalColumn(field, batch, f, n);
          break;
        case 'timestamp':
          this.#timeColumn(field.name, batch.numbers[f], batch.micros[f], n);
          break;
        case 'int64':
        case 'int32':
          this.#intColumn(field, batch.numbers[f], n);
          break;
        case 'boolean':
          this.#booleanColumn(field.name, batch.bytes[f], n);
          break;
      }
    }
    this.#timeColumn('event_time', this.#eventMs, this.#eventUs, n);
    this.#lexicalColumn(batch, n);
    this.#parquet.row_groups.push({
      columns: this.#chunks as never,
      total_byte_size: BigInt(this.#groupUncompressed),
      num_rows: BigInt(n),
      total_compressed_size: BigInt(this.#writer.offset - groupStart),
    });
    this.#parquet.num_rows += BigInt(n);
    this.#rows += n;
    this.#writer.flush();
  }

  /**
   * Append a row group of another silver file byte for byte: its column chunks (pages as they are) and its metadata,
   * offsets moved to where they land here. A merge then rewrites only the row groups new records fall in. `group` is
   * the row group as `parquetMetadata` reads it under {@link silverReadOptions} (statistics in the forms written).
   */
  copyRowGroup(file: Uint8Array, group: RowGroup): void {
    let start = Number.POSITIVE_INFINITY;
    let end = 0;
    for (const column of group.columns) {
      const meta = column.meta_data;
      if (meta === undefined) throw new SilverValueError('', 'file', '', 'a column chunk without metadata');
      const first = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
      start = Math.min(start, first);
      end = Math.max(end, first + Number(meta.total_compressed_size));
    }
    if (!(end > start) || end > file.byteLength) {
      throw new SilverValueError('', 'file', '', `row group byte range [${start}, ${end}) is not in the file`);
    }
    const shift = BigInt(this.#writer.offset - start);
    const moved = (offset: bigint | undefined) => (offset === undefined ? undefined : offset + shift);
    this.#writer.appendBytes(file.subarray(start, end));
    this.#parquet.row_groups.push({
      ...group,
      file_offset: moved(group.file_offset),
      columns: group.columns.map((column) => ({
        ...column,
        file_offset: column.file_offset + shift,
        meta_data: {
          ...(column.meta_data as NonNullable<ColumnChunk['meta_data']>),
          data_page_offset: (column.meta_data?.data_page_offset as bigint) + shift,
          dictionary_page_offset: moved(column.meta_data?.dictionary_page_offset),
        },
      })),
    } as never);
    this.#parquet.num_rows += group.num_rows;
    this.#rows += Number(group.num_rows);
    this.#writer.flush();
  }

  /** Write the footer; returns the whole file in chunks (concatenate them, or stream them out), or [] with onChunk. */
  finish(): Uint8Array[] {
    this.#parquet.finish();
    return this.#writer.chunks;
  }

  #scratch(n: number): void {
    if (this.#defs.length >= n) return;
    this.#defs = new Uint8Array(n);
    this.#codes = new Uint32Array(n);
    this.#values = new Float64Array(n);
    this.#eventMs = new Float64Array(n);
    this.#eventUs = new Uint16Array(n);
  }

  /** event_time per row (exchange_time ?? scheduled_time), checking the file's order. */
  #eventTimes(batch: SilverColumnBatch, n: number): void {
    const exMs = batch.numbers[EXCHANGE_TIME];
    const exUs = batch.micros[EXCHANGE_TIME];
    const scMs = batch.numbers[SCHEDULED_TIME];
    const scUs = batch.micros[SCHEDULED_TIME];
    const ids = batch.ids;
    for (let i = 0; i < n; i++) {
      let ms = exMs === undefined ? Number.NaN : (exMs[i] as number);
      let us = 0;
      if (ms === ms) us = (exUs as Uint16Array)[i] as number;
      else {
        ms = scMs === undefined ? Number.NaN : (scMs[i] as number);
        if (ms !== ms) {
          throw new SilverValueError(readRecordId(ids, i * 16), 'event_time', 'null', 'a record needs an event time');
        }
        us = (scUs as Uint16Array)[i] as number;
      }
      const order =
        ms !== this.#lastMs
          ? ms - this.#lastMs
          : us !== this.#lastUs
            ? us - this.#lastUs
            : compareBytes(ids, i * 16, this.#lastId, 0, 16);
      if (order <= 0) {
        throw new SilverValueError(
          readRecordId(ids, i * 16),
          'event_time',
          String(micros(ms, us)),
          'records must come in (event time, record_id) order, without repeats',
        );
      }
      this.#lastMs = ms;
      this.#lastUs = us;
      this.#lastId.set(ids.subarray(i * 16, i * 16 + 16));
      this.#eventMs[i] = ms;
      this.#eventUs[i] = us;
    }
  }

  /**
   * One column chunk: an optional dictionary page, then one DATA_PAGE_V2 (definition levels, then the values).
   */
  #chunk(
    name: string,
    type: 'BYTE_ARRAY' | 'FIXED_LEN_BYTE_ARRAY' | 'INT64' | 'INT32' | 'BOOLEAN',
    n: number,
    nulls: number,
    levels: Uint8Array,
    encoding: 'PLAIN' | 'RLE_DICTIONARY' | 'DELTA_BINARY_PACKED',
    body: Uint8Array,
    dictionary: { body: Uint8Array; count: number } | undefined,
    statistics: Statistics,
    codec: 'SNAPPY' | 'UNCOMPRESSED' = 'SNAPPY',
  ): void {
    const writer = this.#writer;
    const start = writer.offset;
    let uncompressed = 0;
    let dictionaryOffset: bigint | undefined;
    if (codec === 'SNAPPY' && body.length < COMPRESS_FROM && (dictionary?.body.length ?? 0) < COMPRESS_FROM) {
      codec = 'UNCOMPRESSED';
    }
    const compress = (b: Uint8Array) => (codec === 'SNAPPY' ? snappyCompress(b) : b);
    if (dictionary) {
      dictionaryOffset = BigInt(writer.offset);
      const packed = compress(dictionary.body);
      writePageHeader(writer, {
        type: 'DICTIONARY_PAGE',
        uncompressed_page_size: dictionary.body.length,
        compressed_page_size: packed.length,
        dictionary_page_header: { num_values: dictionary.count, encoding: 'PLAIN' },
      } as PageHeader as never);
      uncompressed += writer.offset - Number(dictionaryOffset) + dictionary.body.length;
      writer.appendBytes(packed);
    }
    const dataOffset = writer.offset;
    const packed = compress(body);
    writePageHeader(writer, {
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: levels.length + body.length,
      compressed_page_size: levels.length + packed.length,
      data_page_header_v2: {
        num_values: n,
        num_nulls: nulls,
        num_rows: n,
        encoding,
        definition_levels_byte_length: levels.length,
        repetition_levels_byte_length: 0,
        is_compressed: codec === 'SNAPPY',
      },
    } as PageHeader as never);
    uncompressed += writer.offset - dataOffset + levels.length + body.length;
    writer.appendBytes(levels);
    writer.appendBytes(packed);
    this.#groupUncompressed += uncompressed;
    this.#chunks.push({
      file_offset: BigInt(start),
      meta_data: {
        type,
        encodings: dictionary ? ['PLAIN', 'RLE_DICTIONARY'] : [encoding],
        path_in_schema: [name],
        codec,
        num_values: BigInt(n),
        total_uncompressed_size: BigInt(uncompressed),
        total_compressed_size: BigInt(writer.offset - start),
        data_page_offset: BigInt(dataOffset),
        ...(dictionaryOffset !== undefined ? { dictionary_page_offset: dictionaryOffset } : {}),
        statistics: statistics as never,
        encoding_stats: [
          ...(dictionary ? [{ page_type: 'DICTIONARY_PAGE' as const, encoding: 'PLAIN' as const, count: 1 }] : []),
          { page_type: 'DATA_PAGE_V2' as const, encoding, count: 1 },
        ],
      },
    } as ColumnChunk);
  }

  /** Definition levels of rows [0, n) from `defs` (1 = value): their RLE/bit-packed bytes and the null count. */
  #definitionLevels(n: number): [Uint8Array, number] {
    let nulls = 0;
    for (let i = 0; i < n; i++) nulls += 1 - (this.#defs[i] as number);
    writeHybrid(this.#levels.reset(), this.#defs, n, 1);
    return [this.#levels.view().slice(), nulls];
  }

  #idColumn(batch: SilverColumnBatch, n: number): void {
    const ids = batch.ids;
    const page = this.#page.reset();
    page.ensure(n * 36);
    const b = page.buf;
    let minAt = 0;
    let maxAt = 0;
    for (let i = 0; i < n; i++) {
      const at = i * 16;
      if (compareBytes(ids, at, ids, minAt, 16) < 0) minAt = at;
      if (compareBytes(ids, at, ids, maxAt, 16) > 0) maxAt = at;
      b[page.at] = 32;
      b[page.at + 1] = 0;
      b[page.at + 2] = 0;
      b[page.at + 3] = 0;
      page.at += 4;
      for (let k = 0; k < 16; k++) {
        const v = ids[at + k] as number;
        const hi = v >> 4;
        const lo = v & 15;
        b[page.at++] = hi < 10 ? 48 + hi : 87 + hi;
        b[page.at++] = lo < 10 ? 48 + lo : 87 + lo;
      }
    }
    // record ids are hashes: snappy saved ~10% of their bytes for a third of the writer's compression time
    this.#chunk(
      'record_id',
      'BYTE_ARRAY',
      n,
      0,
      new Uint8Array(0),
      'PLAIN',
      page.view(),
      undefined,
      {
        null_count: 0n,
        min_value: readRecordId(ids, minAt),
        max_value: readRecordId(ids, maxAt),
      },
      'UNCOMPRESSED',
    );
  }

  /** A string column from codes into `values` (NULL_CODE = null), dictionary-encoded. */
  #stringColumn(
    name: string,
    codes: ArrayLike<number> | undefined,
    n: number,
    values: readonly string[],
    nullCode = NULL_CODE,
  ): void {
    const defs = this.#defs;
    const dictIndex = this.#codes;
    const order: number[] = [];
    const seen = new Int32Array(values.length).fill(-1);
    let nonNull = 0;
    for (let i = 0; i < n; i++) {
      const code = codes === undefined ? nullCode : (codes[i] as number);
      if (code === nullCode) {
        defs[i] = 0;
        continue;
      }
      defs[i] = 1;
      let index = seen[code] as number;
      if (index === -1) {
        index = order.length;
        seen[code] = index;
        order.push(code);
      }
      dictIndex[nonNull++] = index;
    }
    const [levels, nulls] = this.#definitionLevels(n);
    if (nonNull === 0) {
      this.#chunk(name, 'BYTE_ARRAY', n, nulls, levels, 'PLAIN', new Uint8Array(0), undefined, {
        null_count: BigInt(nulls),
      });
      return;
    }
    const dict = this.#dict.reset();
    const encoder = new TextEncoder();
    let min = '';
    let max = '';
    order.forEach((code, k) => {
      const text = values[code] as string;
      const bytes = encoder.encode(text);
      dict.u32(bytes.length);
      dict.bytes(bytes);
      if (k === 0 || text < min) min = text;
      if (k === 0 || text > max) max = text;
    });
    const page = this.#page.reset();
    const width = bitWidthOf(order.length - 1);
    page.u8(width);
    writeHybrid(page, dictIndex, nonNull, width);
    this.#chunk(
      name,
      'BYTE_ARRAY',
      n,
      nulls,
      levels,
      'RLE_DICTIONARY',
      page.view(),
      { body: dict.view().slice(), count: order.length },
      { null_count: BigInt(nulls), min_value: min, max_value: max },
    );
  }

  #enumColumn(field: SilverField, codes: Uint8Array | undefined, n: number): void {
    this.#stringColumn(field.name, codes, n, field.values as readonly string[]);
  }

  #decimalColumn(field: SilverField, batch: SilverColumnBatch, f: number, n: number): void {
    const mantissas = batch.numbers[f];
    const digits = batch.bytes[f];
    const defs = this.#defs;
    let nonNull = 0;
    let big = false;
    for (let i = 0; i < n; i++) {
      const m = mantissas === undefined ? Number.NaN : (mantissas[i] as number);
      if (m !== m) {
        defs[i] = 0;
        continue;
      }
      defs[i] = 1;
      if (m === BIG_DECIMAL) big = true;
      nonNull++;
    }
    const [levels, nulls] = this.#definitionLevels(n);
    if (nonNull === 0 || mantissas === undefined || digits === undefined) {
      this.#chunk(field.name, 'FIXED_LEN_BYTE_ARRAY', n, nulls, levels, 'PLAIN', new Uint8Array(0), undefined, {
        null_count: BigInt(nulls),
      });
      return;
    }
    // prices repeat: a dictionary when at most half the values are distinct (and none is kept as text)
    let dictionary: Map<number, number> | undefined = big || this.#plainDecimal(mantissas, n) ? undefined : new Map();
    const dictDigits: number[] = [];
    const dictMantissa: number[] = [];
    const indexes = this.#codes;
    if (dictionary) {
      let k = 0;
      for (let i = 0; i < n; i++) {
        const m = mantissas[i] as number;
        if (m !== m) continue;
        const d = digits[i] as number;
        let index = dictionary.get(m);
        if (index === undefined) {
          if (dictionary.size >= nonNull / 2) {
            dictionary = undefined;
            break;
          }
          index = dictionary.size;
          dictionary.set(m, index);
          dictDigits.push(d);
          dictMantissa.push(m);
        } else if (dictDigits[index] !== d) {
          dictionary = undefined; // same digits, another scale ("1.5" and "15"): rare, write them plain
          break;
        }
        indexes[k++] = index;
      }
    }
    const minMax = new Uint8Array(48); // [min, max, scratch]
    let hasMinMax = false;
    const track = (bytes: Uint8Array, at: number) => {
      if (!hasMinMax) {
        minMax.set(bytes.subarray(at, at + 16), 0);
        minMax.set(bytes.subarray(at, at + 16), 16);
        hasMinMax = true;
        return;
      }
      if (compareBytes(bytes, at, minMax, 0, 16) < 0) minMax.set(bytes.subarray(at, at + 16), 0);
      if (compareBytes(bytes, at, minMax, 16, 16) > 0) minMax.set(bytes.subarray(at, at + 16), 16);
    };
    const page = this.#page.reset();
    let dict: { body: Uint8Array; count: number } | undefined;
    let encoding: 'PLAIN' | 'RLE_DICTIONARY';
    if (dictionary) {
      const body = this.#dict.reset();
      body.ensure(dictMantissa.length * 16);
      for (let k = 0; k < dictMantissa.length; k++) {
        unscaledInto(dictMantissa[k] as number, dictDigits[k] as number, body.buf, body.at);
        track(body.buf, body.at);
        body.at += 16;
      }
      dict = { body: body.view().slice(), count: dictMantissa.length };
      const width = bitWidthOf(dictMantissa.length - 1);
      page.u8(width);
      writeHybrid(page, indexes, nonNull, width);
      encoding = 'RLE_DICTIONARY';
    } else {
      page.ensure(nonNull * 16);
      for (let i = 0; i < n; i++) {
        const m = mantissas[i] as number;
        if (m !== m) continue;
        if (m === BIG_DECIMAL) {
          const text = batch.bigText[f]?.get(i) as string;
          unscaledTextInto(readRecordId(batch.ids, i * 16), field.name, text, page.buf, page.at);
        } else unscaledInto(m, digits[i] as number, page.buf, page.at);
        track(page.buf, page.at);
        page.at += 16;
      }
      encoding = 'PLAIN';
    }
    this.#chunk(field.name, 'FIXED_LEN_BYTE_ARRAY', n, nulls, levels, encoding, page.view(), dict, {
      null_count: BigInt(nulls),
      min_value: unscaledBigInt(minMax.subarray(0, 16)),
      max_value: unscaledBigInt(minMax.subarray(16, 32)),
    });
  }

  /** A decimal column whose first 512 values are mostly distinct (a running total such as volume_24h) goes PLAIN. */
  #plainDecimal(mantissas: Float64Array, n: number): boolean {
    const sample = this.#sample;
    sample.clear();
    let seen = 0;
    for (let i = 0; i < n && seen < 512; i++) {
      const m = mantissas[i] as number;
      if (m !== m) continue;
      seen++;
      sample.add(m);
    }
    return sample.size > seen / 2;
  }

  /** An INT64 column (DELTA_BINARY_PACKED) of the non-null values gathered in #values; stats given. */
  #int64Chunk(name: string, n: number, nonNull: number, levels: Uint8Array, nulls: number, stats: Statistics): void {
    const page = this.#page.reset();
    if (!writeDeltaNumbers(page, this.#values, nonNull)) {
      page.reset();
      const big = new BigInt64Array(nonNull);
      for (let k = 0; k < nonNull; k++) big[k] = BigInt(this.#values[k] as number);
      const w = new ByteWriter();
      deltaBinaryPack(w, big, 'INT64');
      page.bytes(new Uint8Array(w.getBuffer()));
    }
    this.#chunk(name, 'INT64', n, nulls, levels, 'DELTA_BINARY_PACKED', page.view(), undefined, stats);
  }

  #timeColumn(name: string, ms: Float64Array | undefined, us: Uint16Array | undefined, n: number): void {
    const defs = this.#defs;
    const values = this.#values;
    let nonNull = 0;
    let exact = true;
    let minAt = -1;
    let maxAt = -1;
    let minMs = 0;
    let minUs = 0;
    let maxMs = 0;
    let maxUs = 0;
    for (let i = 0; i < n; i++) {
      const t = ms === undefined ? Number.NaN : (ms[i] as number);
      if (t !== t) {
        defs[i] = 0;
        continue;
      }
      defs[i] = 1;
      const u = (us as Uint16Array)[i] as number;
      if (minAt === -1 || t < minMs || (t === minMs && u < minUs)) {
        minAt = i;
        minMs = t;
        minUs = u;
      }
      if (maxAt === -1 || t > maxMs || (t === maxMs && u > maxUs)) {
        maxAt = i;
        maxMs = t;
        maxUs = u;
      }
      if (t > EXACT_MS_MAX || t < EXACT_MS_MIN) exact = false;
      values[nonNull++] = t * 1000 + u;
    }
    const [levels, nulls] = this.#definitionLevels(n);
    const stats: Statistics = { null_count: BigInt(nulls) };
    if (nonNull > 0) {
      stats.min_value = micros(minMs, minUs);
      stats.max_value = micros(maxMs, maxUs);
    }
    if (!exact && ms !== undefined && us !== undefined) {
      // beyond year ~2255 epoch micros are no exact doubles: BigInt for the whole chunk
      const big = new BigInt64Array(nonNull);
      let k = 0;
      for (let i = 0; i < n; i++) if (defs[i] === 1) big[k++] = micros(ms[i] as number, us[i] as number);
      const w = new ByteWriter();
      deltaBinaryPack(w, big, 'INT64');
      const page = this.#page.reset();
      page.bytes(new Uint8Array(w.getBuffer()));
      this.#chunk(name, 'INT64', n, nulls, levels, 'DELTA_BINARY_PACKED', page.view(), undefined, stats);
      return;
    }
    this.#int64Chunk(name, n, nonNull, levels, nulls, stats);
  }

  #intColumn(field: SilverField, numbers: Float64Array | undefined, n: number): void {
    const defs = this.#defs;
    const values = this.#values;
    let nonNull = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const v = numbers === undefined ? Number.NaN : (numbers[i] as number);
      if (v !== v) {
        defs[i] = 0;
        continue;
      }
      defs[i] = 1;
      if (v < min) min = v;
      if (v > max) max = v;
      values[nonNull++] = v;
    }
    const [levels, nulls] = this.#definitionLevels(n);
    const int32 = field.kind === 'int32';
    const stats: Statistics = { null_count: BigInt(nulls) };
    if (nonNull > 0) {
      stats.min_value = int32 ? min : BigInt(min);
      stats.max_value = int32 ? max : BigInt(max);
    }
    if (!int32) {
      this.#int64Chunk(field.name, n, nonNull, levels, nulls, stats);
      return;
    }
    const page = this.#page.reset();
    for (let k = 0; k < nonNull; k++) page.u32(values[k] as number);
    this.#chunk(field.name, 'INT32', n, nulls, levels, 'PLAIN', page.view(), undefined, stats);
  }

  #booleanColumn(name: string, bools: Uint8Array | undefined, n: number): void {
    const defs = this.#defs;
    const page = this.#page.reset();
    let acc = 0;
    let bits = 0;
    let seenFalse = false;
    let seenTrue = false;
    for (let i = 0; i < n; i++) {
      const b = bools === undefined ? 0 : (bools[i] as number);
      defs[i] = b === 0 ? 0 : 1;
      if (b === 0) continue;
      if (b === 2) {
        seenTrue = true;
        acc |= 1 << bits;
      } else seenFalse = true;
      if (++bits === 8) {
        page.u8(acc);
        acc = 0;
        bits = 0;
      }
    }
    if (bits > 0) page.u8(acc);
    const [levels, nulls] = this.#definitionLevels(n);
    const stats: Statistics = { null_count: BigInt(nulls) };
    if (seenFalse || seenTrue) {
      stats.min_value = !seenFalse;
      stats.max_value = seenTrue;
    }
    this.#chunk(name, 'BOOLEAN', n, nulls, levels, 'PLAIN', page.view(), undefined, stats);
  }

  /** lexical_forms: per decimal/time field, `-` for null, else the fraction digit count in base 36. */
  #lexicalColumn(batch: SilverColumnBatch, n: number): void {
    const lexical: number[] = [];
    SILVER_FIELDS.forEach((f, i) => {
      if (f.kind === 'decimal' || f.kind === 'timestamp') lexical.push(i);
    });
    const forms: string[] = [];
    const index = new Map<string, number>();
    const codes = this.#codes;
    const previous = new Int16Array(lexical.length).fill(-2);
    const current = new Int16Array(lexical.length);
    let previousCode = -1;
    for (let i = 0; i < n; i++) {
      let same = previousCode !== -1;
      for (let k = 0; k < lexical.length; k++) {
        const f = lexical[k] as number;
        const numbers = batch.numbers[f];
        const v = numbers === undefined ? Number.NaN : (numbers[i] as number);
        const d = v !== v ? -1 : ((batch.bytes[f] as Uint8Array)[i] as number);
        current[k] = d;
        if (d !== previous[k]) same = false;
      }
      if (!same) {
        let form = '';
        for (let k = 0; k < lexical.length; k++) {
          const d = current[k] as number;
          form += d === -1 ? '-' : d.toString(36);
        }
        let code = index.get(form);
        if (code === undefined) {
          code = forms.length;
          forms.push(form);
          index.set(form, code);
        }
        previousCode = code;
        previous.set(current);
      }
      codes[i] = previousCode;
    }
    // the forms are the "values" of a string column whose codes index them
    this.#stringColumn('lexical_forms', codes, n, forms, -1);
  }
}
