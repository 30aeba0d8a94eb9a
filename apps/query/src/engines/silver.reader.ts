import { SILVER_DECIMAL_SCALE, SILVER_LEXICAL_COLUMNS, silverReadOptions, type PriceTick } from '@btc-etl/price-schema';
import { parquetRead, type ColumnMetaData, type FileMetaData, type RowGroup, type SchemaElement } from 'hyparquet';
import { ObjectReadError } from '../query.errors';
import type { ScanPlan, TickColumns, TimeColumn } from '../queries/query.types';
import { isEventTimePlan } from './layer';
import type { LocalQueryStats } from './local-query.stats';
import { FOOTER_MARGIN_BYTES, rangedFile, type RangedFile, type RangedReadOptions } from './parquet-ranged.reader';
import {
  SilverColumnDecoder,
  SilverColumnError,
  chunkRange,
  limbsToBytes,
  typedChunkSupported,
  type DecodedColumn,
  type SilverColumnKind,
} from './silver.columns';
import type { SilverListed } from './silver.listing';
import type { TickSink } from './tick.reader';

/**
 * Silver files (the compactor's event-time Parquet, see libs/price-schema silver.codec.ts) read for the local engine:
 * only the columns the queries read, only the row groups whose time statistics admit the range, and every value
 * handed over exactly as raw had it: decimals and times are turned back into their recorded strings with the
 * digit counts `lexical_forms` keeps, lazily (a query that never looks at `ingest_time` never formats one).
 *
 * `record_id` (32 bytes a row, most of a file) is skipped when nothing needs it: queries use a record id only to order
 * records whose plan time is equal (Accumulator contract), and records of equal event time sit in one partition file,
 * sorted by (event time, record_id). For an event-time plan the row's place in its file orders them exactly as their
 * ids would; the engine asks for the real ids when it dedups against raw records or the plan ranges over another time.
 */

/** The silver columns read: the query fields (minus `product_id`, which is the partition) and `lexical_forms`. */
export const SILVER_READ_COLUMNS = [
  'record_id',
  'status',
  'price',
  'exchange_time',
  'scheduled_time',
  'ingest_time',
  'reason',
  'lexical_forms',
] as const;

const lexicalIndex = (field: string): number => {
  const i = (SILVER_LEXICAL_COLUMNS as readonly string[]).indexOf(field);
  if (i < 0) throw new Error(`silver codec has no lexical form for ${field}`);
  return i;
};
const FORM = {
  price: lexicalIndex('price'),
  exchange_time: lexicalIndex('exchange_time'),
  scheduled_time: lexicalIndex('scheduled_time'),
  ingest_time: lexicalIndex('ingest_time'),
};

/**
 * A DECIMAL(38,18) value (16 big-endian bytes, non-negative: prices are) with all 18 fraction digits:
 * `"97123.450000000000000000"`. Long division of eight 16-bit limbs by 1e9 keeps every step exact in doubles
 * (remainder * 65536 + limb < 2^46), so no BigInt is made per value.
 */
export function fullDecimal(bytes: Uint8Array): string {
  const limbs = new Array<number>(8);
  for (let i = 0; i < 8; i++) limbs[i] = ((bytes[2 * i] as number) << 8) | (bytes[2 * i + 1] as number);
  const chunks: string[] = [];
  let zero = false;
  while (!zero) {
    let rem = 0;
    zero = true;
    for (let i = 0; i < 8; i++) {
      const cur = rem * 65536 + (limbs[i] as number);
      const q = Math.floor(cur / 1e9);
      rem = cur - q * 1e9;
      limbs[i] = q;
      if (q !== 0) zero = false;
    }
    chunks.push(String(rem));
  }
  let s = chunks[chunks.length - 1] as string;
  for (let i = chunks.length - 2; i >= 0; i--) s += (chunks[i] as string).padStart(9, '0');
  s = s.padStart(SILVER_DECIMAL_SCALE + 1, '0');
  return `${s.slice(0, s.length - SILVER_DECIMAL_SCALE)}.${s.slice(s.length - SILVER_DECIMAL_SCALE)}`;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** A full decimal cut back to the fraction digits it was written with (`digits` from `lexical_forms`). */
export function decimalWithDigits(full: string, digits: number): string {
  const dot = full.indexOf('.');
  if (digits === 0) return full.slice(0, dot);
  if (digits <= SILVER_DECIMAL_SCALE) return full.slice(0, dot + 1 + digits);
  return full.padEnd(dot + 1 + digits, '0');
}

const TWO_21 = 2097152;
const TWO_53 = 9007199254740992;
/** Scratch for {@link decimalTextFromLimbs}: the value in six digits of 21 or 22 bits, most significant first. */
const parts = new Float64Array(6);
/** Bits of each of those digits after the first (the multiplier that brings in the next one). */
const PART_BITS = [0, 21, 22, 21, 22, 21] as const;
const PART_MULTIPLIER = PART_BITS.map((b) => 2 ** b);

/** Divide the six digits by `divisor` (at most 1e9, so every step stays below 2^52); the remainder. */
function divideParts(divisor: number): number {
  let rem = 0;
  for (let k = 0; k < 6; k++) {
    const cur = rem * (PART_MULTIPLIER[k] as number) + (parts[k] as number);
    const q = Math.floor(cur / divisor);
    rem = cur - q * divisor;
    parts[k] = q;
  }
  return rem;
}

/**
 * A DECIMAL(38,18) in limbs (see silver.columns.ts) as written with `digits` fraction digits, straight from the
 * limbs: the unscaled value divided by 10^(18 - digits), then the point put back. Undefined when that does not
 * divide exactly or the quotient passes 2^53 (the caller takes the general path): any price a market quotes fits.
 */
export function decimalTextFromLimbs(hi: number, mid: number, lo: number, digits: number): string | undefined {
  if (digits > SILVER_DECIMAL_SCALE) return undefined;
  parts[0] = Math.floor(hi / TWO_21);
  parts[1] = hi % TWO_21;
  parts[2] = Math.floor(mid / TWO_21);
  parts[3] = mid % TWO_21;
  parts[4] = Math.floor(lo / TWO_21);
  parts[5] = lo % TWO_21;
  let exponent = SILVER_DECIMAL_SCALE - digits;
  while (exponent > 0) {
    const step = Math.min(exponent, 9);
    if (divideParts(10 ** step) !== 0) return undefined;
    exponent -= step;
  }
  let q = parts[0] as number;
  for (let k = 1; k < 6; k++) {
    const multiplier = PART_MULTIPLIER[k] as number;
    if (q >= TWO_53 / multiplier) return undefined;
    q = q * multiplier + (parts[k] as number);
  }
  const text = String(q);
  if (digits === 0) return text;
  const padded = text.length > digits ? text : text.padStart(digits + 1, '0');
  return `${padded.slice(0, padded.length - digits)}.${padded.slice(padded.length - digits)}`;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** Epoch microseconds to the ISO string with `digits` fraction digits (0: none), as the record was written. */
export function isoWithDigits(micros: number, digits: number, dayCache: { day: number; prefix: string }): string {
  const sec = Math.floor(micros / 1e6);
  const us = micros - sec * 1e6;
  const day = Math.floor(sec / 86_400);
  if (day !== dayCache.day) {
    dayCache.day = day;
    dayCache.prefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
  }
  const s = sec - day * 86_400;
  const base = `${dayCache.prefix}${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}`;
  if (digits === 0) return `${base}Z`;
  const fraction = String(us).padStart(6, '0');
  return `${base}.${digits <= 6 ? fraction.slice(0, digits) : fraction.padEnd(digits, '0')}Z`;
}

const pseudoIds: string[] = [];
/**
 * A row's place in its file as a string that sorts like the place (base 36, padded): its id when ids are not read.
 * Made once per place (files have a few thousand rows each, so the places repeat from file to file).
 */
function pseudoId(row: number): string {
  let id = pseudoIds[row];
  if (id === undefined) {
    id = row.toString(36).padStart(8, '0');
    if (row < 1 << 20) pseudoIds[row] = id;
  }
  return id;
}

/** Epoch ms of a timestamp statistic as hyparquet hands it over (a Date for TIMESTAMP columns). */
function statMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'bigint') return Number(value) / 1000;
  return undefined;
}

/**
 * Whether a silver row group may hold a record whose query time falls in `[fromSec, toSec)`, from min/max statistics:
 * `event_time` when the query ranges over the event time (`exchange_time`, else `scheduled_time`), else its one
 * column. `true` on any doubt (no statistics, several columns).
 */
export function silverRowGroupMayHold(
  group: RowGroup,
  recordTime: readonly TimeColumn[] | undefined,
  fromSec: number,
  toSec: number,
): boolean {
  if (recordTime === undefined) return true;
  const column = isEventTimePlan({ recordTime }) ? 'event_time' : recordTime.length === 1 ? recordTime[0] : undefined;
  if (column === undefined) return true;
  const meta = group.columns.find((c) => c.meta_data?.path_in_schema[0] === column)?.meta_data;
  const stats = meta?.statistics;
  if (stats === undefined) return true;
  if (stats.null_count !== undefined && BigInt(stats.null_count) === BigInt(group.num_rows)) return false;
  const min = statMs(stats.min_value);
  const max = statMs(stats.max_value);
  if (min === undefined || max === undefined) return true;
  // whole seconds, like the accumulators: a record counts when floor(time) is in [fromSec, toSec)
  return Math.floor(max / 1000) >= fromSec && Math.floor(min / 1000) < toSec;
}

function missingSilverColumns(metadata: FileMetaData): string[] {
  const present = new Set(metadata.schema.map((s) => s.name));
  return SILVER_READ_COLUMNS.filter((c) => !present.has(c));
}

/**
 * Hand rows `[rowStart, rowEnd)` of a silver file to the sink through one reused record whose decimal and time
 * fields are getters: each is formatted from the typed value only when a query reads it.
 */
async function readSilverRows(
  file: Parameters<typeof parquetRead>[0]['file'],
  metadata: FileMetaData,
  productId: string,
  rowStart: number,
  rowEnd: number,
  sink: TickSink,
  recordIds: boolean,
): Promise<number> {
  const rows = rowEnd - rowStart;
  const exact = silverReadOptions(metadata);
  const read = recordIds ? SILVER_READ_COLUMNS : SILVER_READ_COLUMNS.filter((c) => c !== 'record_id');
  const columns: Record<string, ArrayLike<unknown>> = {};
  await parquetRead({
    file,
    metadata: exact.metadata,
    // epoch microseconds as a number: exact below 2^53 (the year 2255)
    parsers: { timestampFromMicroseconds: (micros: bigint) => Number(micros) as never },
    columns: [...read],
    rowStart,
    rowEnd,
    onChunk: (chunk) => {
      const data = chunk.columnData;
      // one chunk covering the rows exactly (a row group per run, the usual case) is kept as it is, not copied
      if (chunk.rowStart === rowStart && chunk.rowEnd === rowEnd && columns[chunk.columnName] === undefined) {
        columns[chunk.columnName] = data;
        return;
      }
      let target = columns[chunk.columnName] as unknown[] | undefined;
      if (target === undefined || !Array.isArray(target) || target.length !== rows) {
        const copy = new Array<unknown>(rows);
        if (target !== undefined) for (let k = 0; k < Math.min(rows, target.length); k++) copy[k] = target[k];
        columns[chunk.columnName] = target = copy;
      }
      const from = Math.max(0, rowStart - chunk.rowStart);
      const to = Math.min(data.length, rowEnd - chunk.rowStart);
      for (let k = from; k < to; k++) target[chunk.rowStart + k - rowStart] = data[k];
    },
  });
  const ids = columns.record_id as ArrayLike<string> | undefined;
  const statuses = columns.status as ArrayLike<string>;
  const prices = columns.price as ArrayLike<Uint8Array | null>;
  const exchanges = columns.exchange_time as ArrayLike<number | null>;
  const scheduleds = columns.scheduled_time as ArrayLike<number | null>;
  const ingests = columns.ingest_time as ArrayLike<number>;
  const reasons = columns.reason as ArrayLike<string | null>;
  const forms = columns.lexical_forms as ArrayLike<string>;
  // prices repeat (dictionary values, an unchanged market): the last one converted is kept
  let lastBytes: Uint8Array | undefined;
  let lastFull = '';
  let lastDigits = -1;
  let lastText = '';
  const dayCache = { day: Number.NaN, prefix: '' };
  let i = 0;
  // one base-36 digit per column: '0'-'9' then 'a'-'z'
  const digits = (form: number) => {
    const c = (forms[i] as string).charCodeAt(form);
    return c <= 57 ? c - 48 : c - 87;
  };
  const time = (values: ArrayLike<number | null | undefined>, form: number): string | null => {
    const micros = values[i];
    return micros === null || micros === undefined ? null : isoWithDigits(micros, digits(form), dayCache);
  };
  const row = {
    get record_id(): string {
      // without the column: the row's place in the file, which orders records of equal event time as their ids do
      return ids === undefined ? pseudoId(rowStart + i) : (ids[i] as string);
    },
    product_id: productId,
    status: '',
    reason: null as string | null,
    get price(): string | null {
      const bytes = prices[i];
      if (bytes === null || bytes === undefined) return null;
      const d = digits(FORM.price);
      if (lastBytes === undefined || (bytes !== lastBytes && !sameBytes(bytes, lastBytes))) {
        lastFull = fullDecimal(bytes);
        lastBytes = bytes;
        lastDigits = -1;
      }
      if (d !== lastDigits) {
        lastText = decimalWithDigits(lastFull, d);
        lastDigits = d;
      }
      return lastText;
    },
    get exchange_time(): string | null {
      return time(exchanges, FORM.exchange_time);
    },
    get scheduled_time(): string | null {
      return time(scheduleds, FORM.scheduled_time);
    },
    get ingest_time(): string {
      return time(ingests, FORM.ingest_time) as string;
    },
  };
  for (i = 0; i < rows; i++) {
    row.status = statuses[i] as string;
    row.reason = reasons[i] ?? null;
    sink.onTick(row as unknown as PriceTick);
  }
  return rows;
}

/** The most the typed path fetches as a silver file's tail (see {@link SilverTypedReader.tailGuess}). */
const MAX_TAIL_BYTES = 4 << 20;

/** The columns the typed path reads, and as what; `record_id` only when the engine needs the ids. */
const TYPED_COLUMNS = {
  status: 'string-codes',
  price: 'decimal16',
  event_time: 'int64',
  lexical_forms: 'string-codes',
  record_id: 'string-values',
} as const satisfies Record<string, SilverColumnKind>;
type TypedColumn = keyof typeof TYPED_COLUMNS;

/**
 * The bytes of each range, one read per run of adjacent ranges (`status` and `price` sit side by side in a silver
 * file, so do `event_time` and `lexical_forms`): fewer round trips, not one byte more.
 */
async function readChunks(file: RangedFile, ranges: readonly { start: number; end: number }[]): Promise<Uint8Array[]> {
  const order = ranges.map((_, k) => k).sort((a, b) => (ranges[a]?.start ?? 0) - (ranges[b]?.start ?? 0));
  const runs: { start: number; end: number; members: number[] }[] = [];
  for (const k of order) {
    const r = ranges[k] as { start: number; end: number };
    const last = runs[runs.length - 1];
    if (last !== undefined && r.start <= last.end) {
      last.end = Math.max(last.end, r.end);
      last.members.push(k);
    } else runs.push({ start: r.start, end: r.end, members: [k] });
  }
  const out = new Array<Uint8Array>(ranges.length);
  await Promise.all(
    runs.map(async (run) => {
      const bytes = await file.bytes(run.start, run.end);
      for (const k of run.members) {
        const r = ranges[k] as { start: number; end: number };
        out[k] = bytes.subarray(r.start - run.start, r.end - run.start);
      }
    }),
  );
  return out;
}

/**
 * The typed path's state for one query run: a decoder per column (their buffers reused from row group to row
 * group) and the batch handed to the sink, rebuilt in place for each row group.
 */
export class SilverTypedReader {
  private readonly decoders = new Map<TypedColumn, SilverColumnDecoder>();
  private ok = new Uint8Array(0);
  private readonly bytes = new Uint8Array(16);
  /**
   * Full decimals already formatted, in a small direct-mapped cache on the low limb (no Map, no key string): the
   * winners of a run's candles share few distinct prices.
   */
  private readonly cached = { hi: new Float64Array(4096), mid: new Float64Array(4096), lo: new Float64Array(4096) };
  private readonly cachedText: (string | undefined)[] = new Array<string | undefined>(4096);

  private readonly fullText = (hi: number, mid: number, lo: number): string => {
    const slot = lo % 4096;
    const { cached, cachedText } = this;
    const known = cachedText[slot];
    if (known !== undefined && cached.lo[slot] === lo && cached.mid[slot] === mid && cached.hi[slot] === hi) {
      return known;
    }
    const text = fullDecimal(limbsToBytes(hi, mid, lo, this.bytes));
    cached.hi[slot] = hi;
    cached.mid[slot] = mid;
    cached.lo[slot] = lo;
    cachedText[slot] = text;
    return text;
  };

  /**
   * Bytes from the end of a silver file that held the footer and every column chunk the last file's typed read
   * needed, or 0. A run's files share a writer and a layout, so fetching that much as the next file's tail makes
   * one read per file (the chunks of the columns in between, a few time columns, come along: the tail is used only
   * while at least half of it is needed).
   */
  tailGuess = 0;
  private fileFirstChunk = Number.POSITIVE_INFINITY;
  private fileNeeded = 0;

  /** Start of a file: forget the last file's chunks. */
  beginFile(): void {
    this.fileFirstChunk = Number.POSITIVE_INFINITY;
    this.fileNeeded = 0;
  }

  /** End of a file read through the typed path: learn the tail the next file should fetch. */
  endFile(size: number, footerBytes: number): void {
    if (this.fileNeeded === 0) return;
    const span = size - this.fileFirstChunk;
    const needed = this.fileNeeded + footerBytes;
    this.tailGuess = needed * 2 >= span && span <= MAX_TAIL_BYTES ? span + FOOTER_MARGIN_BYTES : 0;
  }

  private decoder(name: TypedColumn): SilverColumnDecoder {
    let d = this.decoders.get(name);
    if (d === undefined) this.decoders.set(name, (d = new SilverColumnDecoder(name, TYPED_COLUMNS[name])));
    return d;
  }

  /**
   * Read one row group through the typed path into `sink.onColumns`.
   * @returns false (nothing read) when a column chunk is in an encoding the typed decoder does not read
   */
  async readGroup(
    file: RangedFile,
    metadata: FileMetaData,
    group: RowGroup,
    groupRowStart: number,
    productId: string,
    sink: Required<Pick<TickSink, 'onColumns'>>,
    recordIds: boolean,
  ): Promise<boolean> {
    const names: TypedColumn[] = ['status', 'price', 'event_time', 'lexical_forms'];
    if (recordIds) names.push('record_id');
    const chunks: { name: TypedColumn; meta: ColumnMetaData; element: SchemaElement }[] = [];
    for (const name of names) {
      const meta = group.columns.find((c) => c.meta_data?.path_in_schema[0] === name)?.meta_data;
      const element = metadata.schema.find((e) => e.name === name);
      if (meta === undefined || element === undefined || !typedChunkSupported(meta, element, TYPED_COLUMNS[name])) {
        return false;
      }
      chunks.push({ name, meta, element });
    }
    const rows = Number(group.num_rows);
    const ranges = chunks.map(({ meta }) => chunkRange(meta));
    for (const r of ranges) {
      this.fileFirstChunk = Math.min(this.fileFirstChunk, r.start);
      this.fileNeeded += r.end - r.start;
    }
    const buffers = await readChunks(file, ranges);
    // decoded and handed over with no await in between: the decoders' buffers are reused by the next group
    const decoded = {} as Record<TypedColumn, DecodedColumn>;
    chunks.forEach(({ name, meta, element }, k) => {
      decoded[name] = this.decoder(name).decode(buffers[k] as Uint8Array, meta, element, rows);
    });
    const status = decoded.status;
    const price = decoded.price;
    const event = decoded.event_time;
    const forms = decoded.lexical_forms;
    const okCode = status.table.indexOf('ok');
    if (this.ok.length < rows) this.ok = new Uint8Array(Math.max(rows, this.ok.length * 2));
    const ok = this.ok;
    const codes = status.codes;
    const priceValid = price.valid;
    const micros = event.numbers;
    // ok: status 'ok' (a null status has code -1, and so has 'ok' when no row of the group has it), a price and an
    // event time (NaN when null)
    for (let i = 0; i < rows; i++) {
      ok[i] = okCode >= 0 && codes[i] === okCode && priceValid[i] === 1 && micros[i] === micros[i] ? 1 : 0;
    }
    // the price's written fraction digits, per distinct lexical_forms value (-1: none). A typed array, so the
    // accumulator's optimized code sees one map batch after batch (a plain array's elements kind varies with the
    // values: its code was thrown away a hundred times a run)
    const digitsOf = new Int32Array(forms.table.length);
    forms.table.forEach((form, k) => {
      const c = form.charCodeAt(FORM.price);
      digitsOf[k] = c !== c ? -1 : c <= 57 ? c - 48 : c - 87;
    });
    const formCodes = forms.codes;
    const { hi, mid, lo } = price.limbs;
    const ids = recordIds ? decoded.record_id.strings : undefined;
    const fullText = this.fullText;
    const columns: TickColumns = {
      productId,
      rows,
      ok,
      eventMicros: micros,
      priceHi: hi,
      priceMid: mid,
      priceLo: lo,
      priceText(i: number): string {
        const digits = digitsOf[formCodes[i] as number];
        if (digits === undefined || digits < 0 || digits > 35) {
          throw new SilverColumnError(`row ${groupRowStart + i}: lexical_forms has no digit count for its price`, {
            column: 'lexical_forms',
          });
        }
        const h = hi[i] as number;
        const m = mid[i] as number;
        const l = lo[i] as number;
        return decimalTextFromLimbs(h, m, l, digits) ?? decimalWithDigits(fullText(h, m, l), digits);
      },
      // without ids: the row's place in the file, which orders records of equal event time as their ids do
      tieBreak: ids === undefined ? (i) => pseudoId(groupRowStart + i) : (i) => ids[i] as string,
    };
    sink.onColumns(columns, ids);
    return true;
  }
}

/**
 * Read one silver file by ranges (footer already fetched with the tail), its row groups pruned by time statistics.
 * @returns whether any data was read past the footer
 */
export async function readSilverRanged(
  object: SilverListed,
  tail: Uint8Array,
  tailStart: number,
  plan: ScanPlan,
  options: RangedReadOptions & { recordIds: boolean; typed?: SilverTypedReader },
  sink: TickSink,
  stats: LocalQueryStats,
): Promise<boolean> {
  try {
    const file = rangedFile(object, tail, tailStart, options.readRange, stats);
    const metadata = await file.metadata();
    const missing = missingSilverColumns(metadata);
    if (missing.length > 0) throw new Error(`not a silver file: no column(s) ${missing.join(', ')}`);
    let start = 0;
    let read = 0;
    const runs: { rowStart: number; rowEnd: number }[] = [];
    for (const group of metadata.row_groups) {
      const rows = Number(group.num_rows);
      const keep =
        !options.statisticsPruning || silverRowGroupMayHold(group, plan.recordTime, plan.fromSec, plan.toSec);
      if (keep) {
        const last = runs[runs.length - 1];
        if (last !== undefined && last.rowEnd === start) last.rowEnd = start + rows;
        else runs.push({ rowStart: start, rowEnd: start + rows });
        read++;
      }
      start += rows;
    }
    if (read === 0 && metadata.row_groups.length > 0) {
      stats.objectsPrunedByStatistics++;
      return false;
    }
    stats.rowGroupsPruned += metadata.row_groups.length - read;
    stats.formats.parquet++;
    const typed = options.typed;
    if (typed !== undefined && sink.onColumns !== undefined) {
      const typedSink = { onColumns: sink.onColumns.bind(sink) };
      typed.beginFile();
      start = 0;
      for (const group of metadata.row_groups) {
        const rows = Number(group.num_rows);
        const groupStart = start;
        start += rows;
        if (!runs.some((r) => r.rowStart <= groupStart && groupStart < r.rowEnd)) continue;
        const done = await typed.readGroup(
          file,
          metadata,
          group,
          groupStart,
          object.productId,
          typedSink,
          options.recordIds,
        );
        if (done) stats.silverTypedRowGroups++;
        else
          await readSilverRows(
            file,
            metadata,
            object.productId,
            groupStart,
            groupStart + rows,
            sink,
            options.recordIds,
          );
      }
      typed.endFile(object.size, metadata.metadata_length + 8);
      return true;
    }
    for (const run of runs)
      await readSilverRows(file, metadata, object.productId, run.rowStart, run.rowEnd, sink, options.recordIds);
    return true;
  } catch (error) {
    throw new ObjectReadError(object.bucket, object.key, `cannot read silver parquet: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
