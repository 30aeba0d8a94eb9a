import {
  MISS_REASONS,
  PRICE_SOURCES,
  PRICE_TICK_COLUMNS,
  PRICE_TICK_FIELDS,
  PriceTickSchema,
  toLineIssues,
  type PriceTick,
} from '@btc-etl/price-schema';
import { parquetMetadata, parquetRead, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import type { TickColumns } from '../queries/query.types';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';

/** A line (NDJSON) or row (Parquet) that was skipped, with where it was and why. */
export interface BadRecord {
  bucket: string;
  key: string;
  /** 1-based line number in NDJSON, 1-based row number in Parquet. */
  line: number;
  message: string;
}

export type ObjectFormat = 'ndjson' | 'ndjson-gzip' | 'parquet';

/** Where decoded records go: `onTick` must not keep the object it is handed (readers may reuse it). */
export interface TickSink {
  onTick(tick: PriceTick): void;
  onBad(bad: BadRecord): void;
  /**
   * Optional typed path: a reader that can (the silver reader) hands whole row groups as typed columns instead of
   * one `onTick` per record, with the record ids when it was asked to read them. Valid during the call only.
   */
  onColumns?(columns: TickColumns, recordIds: readonly (string | null)[] | undefined): void;
}

const RECORD_ID = /^[0-9a-f]{32}$/;
const PRODUCT = /^[A-Z0-9]{2,12}-[A-Z0-9]{2,12}$/;
const DECIMAL = /^\d+(\.\d+)?$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const SOURCES = new Set<unknown>(PRICE_SOURCES);
const REASONS = new Set<unknown>(MISS_REASONS);
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A real calendar time in the schema's ISO form. The schema checks it by a round trip through `Date.UTC`, which also
 * maps years 0-99 to 1900-1999: those never round-trip, so they are refused here too.
 */
function isIsoTime(v: unknown): boolean {
  if (typeof v !== 'string' || !ISO.test(v)) return false;
  // the digits sit at fixed places once the pattern matched: read them in place (no closure, no allocation)
  const year =
    (v.charCodeAt(0) - 48) * 1000 + (v.charCodeAt(1) - 48) * 100 + (v.charCodeAt(2) - 48) * 10 + v.charCodeAt(3) - 48;
  const month = (v.charCodeAt(5) - 48) * 10 + v.charCodeAt(6) - 48;
  const day = (v.charCodeAt(8) - 48) * 10 + v.charCodeAt(9) - 48;
  if (year < 100 || month < 1 || month > 12 || day < 1) return false;
  // hour <= 23, minute and second tens digit <= 5 ('5' is 53)
  if ((v.charCodeAt(11) - 48) * 10 + v.charCodeAt(12) - 48 > 23 || v.charCodeAt(14) > 53 || v.charCodeAt(17) > 53) {
    return false;
  }
  if (day <= 28) return true;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 ? (leap ? 29 : 28) : (DAYS_IN_MONTH[month - 1] as number));
}
const isDecimal = (v: unknown) => typeof v === 'string' && DECIMAL.test(v);
const isInt64 = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;

/** The optional columns' checks, by the kind the schema gives each one (a new kind fails here, at load). */
const OPTIONAL_KIND_CHECK: Record<string, (v: unknown) => boolean> = {
  decimal: isDecimal,
  timestamp: isIsoTime,
  int64: isInt64,
  int32: isInt64,
  boolean: (v) => typeof v === 'boolean',
};
const OPTIONAL_CHECKS = new Map<string, (v: unknown) => boolean>(
  PRICE_TICK_COLUMNS.filter((c) => !PRICE_TICK_FIELDS[c].required).map((c) => {
    const check = OPTIONAL_KIND_CHECK[PRICE_TICK_FIELDS[c].silver];
    if (check === undefined) throw new Error(`tick.reader: no fast check for ${c} (${PRICE_TICK_FIELDS[c].silver})`);
    return [c, check];
  }),
);
const REQUIRED = new Set<string>(PRICE_TICK_COLUMNS.filter((c) => PRICE_TICK_FIELDS[c].required));
const HANDLED_REQUIRED = [
  'record_id',
  'product_id',
  'source',
  'status',
  'price',
  'exchange_time',
  'scheduled_time',
  'ingest_time',
  'reason',
];
if (HANDLED_REQUIRED.length !== REQUIRED.size || !HANDLED_REQUIRED.every((c) => REQUIRED.has(c))) {
  throw new Error(`tick.reader: the fast path checks ${HANDLED_REQUIRED.join(', ')}, the schema requires others`);
}

/**
 * The fast path of validation: PriceTickSchema written out by hand, because zod on every line would cost more than
 * everything else together. It is exactly as strict as the schema: every column (required ones, optional ones when
 * present, no unknown key), calendar-valid times, the `source` and the ok/missed rules. What it accepts is a
 * PriceTick as it stands (zod would hand over an equal object); what it refuses goes to the schema, which has the
 * last word and the detailed message. `tick.reader.spec.ts` holds the two equal with a property test.
 */
export function isPriceTickFast(value: unknown): value is PriceTick {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  let required = 0;
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    if (REQUIRED.has(key)) {
      required++;
      continue;
    }
    const check = OPTIONAL_CHECKS.get(key);
    const x = v[key];
    if (check === undefined || (x !== null && x !== undefined && !check(x))) return false;
  }
  if (required !== REQUIRED.size) return false;
  const { status, price, reason, exchange_time: exchange, scheduled_time: scheduled } = v;
  return (
    typeof v.record_id === 'string' &&
    RECORD_ID.test(v.record_id) &&
    typeof v.product_id === 'string' &&
    PRODUCT.test(v.product_id) &&
    SOURCES.has(v.source) &&
    (status === 'ok'
      ? isDecimal(price) && reason === null
      : status === 'missed' && price === null && REASONS.has(reason)) &&
    (exchange === null || isIsoTime(exchange)) &&
    (scheduled === null || isIsoTime(scheduled)) &&
    (exchange !== null || scheduled !== null) &&
    isIsoTime(v.ingest_time)
  );
}

/** Validate one decoded value: the record, or the reason it is not one. */
export function toTick(value: unknown): PriceTick | string {
  if (isPriceTickFast(value)) return value;
  const result = PriceTickSchema.safeParse(value);
  if (result.success) return result.data;
  return toLineIssues(result.error)
    .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
    .join('; ');
}

/** Sniffs the format from the first bytes: Parquet's `PAR1`, gzip's 1f 8b, else NDJSON. */
export function sniffFormat(head: Uint8Array): ObjectFormat {
  if (head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31) return 'parquet';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'ndjson-gzip';
  return 'ndjson';
}

/**
 * Stream NDJSON chunks into the sink, one line at a time (memory: one chunk plus one line). A line that is not JSON
 * or not a record is reported and skipped; the rest of the object still counts.
 */
export async function readNdjson(
  chunks: AsyncIterable<Uint8Array>,
  where: { bucket: string; key: string },
  sink: TickSink,
): Promise<number> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let lineNumber = 0;
  let records = 0;
  const line = (text: string) => {
    lineNumber++;
    if (text.length === 0 || (text.length === 1 && text === '\r')) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      if (text.trim() === '') return;
      sink.onBad({ ...where, line: lineNumber, message: `not JSON: ${(error as Error).message}` });
      return;
    }
    const tick = toTick(value);
    if (typeof tick === 'string') sink.onBad({ ...where, line: lineNumber, message: tick });
    else {
      records++;
      sink.onTick(tick);
    }
  };
  for await (const chunk of chunks) {
    const text = pending + decoder.decode(chunk, { stream: true });
    let from = 0;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      line(text.slice(from, newline));
      from = newline + 1;
      newline = text.indexOf('\n', from);
    }
    pending = from === 0 ? text : text.slice(from);
  }
  pending += decoder.decode();
  if (pending !== '') line(pending);
  return records;
}

/** Gunzip a stream of chunks. */
export function gunzip(chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  return Readable.from(chunks).pipe(createGunzip());
}

/**
 * The columns read from Parquet: what queries read, plus `source`, so each row handed over is a whole PriceTick (its
 * required columns) checked like an NDJSON line. Optional columns are neither read nor handed over.
 */
export const QUERY_COLUMNS = [
  'record_id',
  'product_id',
  'source',
  'status',
  'price',
  'exchange_time',
  'scheduled_time',
  'ingest_time',
  'reason',
] as const;

/** A Parquet file opened for reading: its bytes (whole, or fetched on demand) and its parsed footer. */
export interface ParquetSource {
  file: AsyncBuffer;
  metadata: FileMetaData;
}

/**
 * Parquet columns among {@link QUERY_COLUMNS} the file lacks (such a file is reported and skipped, never guessed at).
 */
export function missingQueryColumns(metadata: FileMetaData): string[] {
  const present = new Set(metadata.schema.map((s) => s.name));
  return QUERY_COLUMNS.filter((c) => !present.has(c));
}

/** Runs `[rowStart, rowEnd)` of consecutive row groups among `groups` (sorted indexes), so each run is one read. */
function rowRuns(metadata: FileMetaData, groups: readonly number[]): { rowStart: number; rowEnd: number }[] {
  const starts: number[] = [];
  let at = 0;
  for (const group of metadata.row_groups) {
    starts.push(at);
    at += Number(group.num_rows);
  }
  const runs: { rowStart: number; rowEnd: number; last: number }[] = [];
  for (const g of groups) {
    const group = metadata.row_groups[g];
    const rowStart = starts[g];
    if (group === undefined || rowStart === undefined) continue;
    const rowEnd = rowStart + Number(group.num_rows);
    const previous = runs[runs.length - 1];
    if (previous !== undefined && previous.last === g - 1) {
      previous.rowEnd = rowEnd;
      previous.last = g;
    } else runs.push({ rowStart, rowEnd, last: g });
  }
  return runs.map(({ rowStart, rowEnd }) => ({ rowStart, rowEnd }));
}

/**
 * Read the query columns of a Parquet file (of the row groups `groups`, default all) column by column and hand the
 * rows to the sink through one reused object (no per-row allocation: 2.6 million rows stay cheap), each one checked
 * by {@link isPriceTickFast} (then the schema). Bad rows are reported with their 1-based row number in the file.
 */
export async function readParquetSource(
  source: ParquetSource,
  where: { bucket: string; key: string },
  sink: TickSink,
  groups?: readonly number[],
): Promise<number> {
  const { file, metadata } = source;
  const missing = missingQueryColumns(metadata);
  if (missing.length > 0) {
    sink.onBad({ ...where, line: 0, message: `Parquet file without column(s) ${missing.join(', ')}: skipped` });
    return 0;
  }
  let records = 0;
  for (const { rowStart, rowEnd } of rowRuns(metadata, groups ?? metadata.row_groups.map((_, i) => i))) {
    records += await readRows(file, metadata, rowStart, rowEnd, where, sink);
  }
  return records;
}

async function readRows(
  file: AsyncBuffer,
  metadata: FileMetaData,
  rowStart: number,
  rowEnd: number,
  where: { bucket: string; key: string },
  sink: TickSink,
): Promise<number> {
  const rows = rowEnd - rowStart;
  const columns: Record<string, unknown[]> = {};
  for (const name of QUERY_COLUMNS) columns[name] = new Array<unknown>(rows);
  await parquetRead({
    file,
    metadata,
    columns: [...QUERY_COLUMNS],
    rowStart,
    rowEnd,
    onChunk: (chunk) => {
      const target = columns[chunk.columnName];
      if (!target) return;
      const data = chunk.columnData;
      // chunks may reach outside the asked rows: keep [rowStart, rowEnd) only
      const from = Math.max(0, rowStart - chunk.rowStart);
      const to = Math.min(data.length, rowEnd - chunk.rowStart);
      for (let i = from; i < to; i++) target[chunk.rowStart + i - rowStart] = data[i];
    },
  });
  const column = (name: (typeof QUERY_COLUMNS)[number]): unknown[] => columns[name] ?? [];
  const ids = column('record_id');
  const products = column('product_id');
  const sources = column('source');
  const statuses = column('status');
  const prices = column('price');
  const exchanges = column('exchange_time');
  const scheduleds = column('scheduled_time');
  const ingests = column('ingest_time');
  const reasons = column('reason');
  const row: Record<string, unknown> = {};
  let records = 0;
  for (let i = 0; i < rows; i++) {
    row.record_id = ids[i];
    row.product_id = products[i];
    row.source = sources[i];
    row.status = statuses[i];
    row.price = prices[i] ?? null;
    row.exchange_time = exchanges[i] ?? null;
    row.scheduled_time = scheduleds[i] ?? null;
    row.ingest_time = ingests[i];
    row.reason = reasons[i] ?? null;
    if (isPriceTickFast(row)) {
      records++;
      sink.onTick(row as unknown as PriceTick);
      continue;
    }
    const tick = toTick({ ...row });
    if (typeof tick === 'string') sink.onBad({ ...where, line: rowStart + i + 1, message: tick });
    else {
      records++;
      sink.onTick(tick);
    }
  }
  return records;
}

/** {@link readParquetSource} over a whole file in memory. */
export async function readParquet(
  bytes: Uint8Array,
  where: { bucket: string; key: string },
  sink: TickSink,
): Promise<number> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return readParquetSource({ file, metadata: parquetMetadata(file) }, where, sink);
}
