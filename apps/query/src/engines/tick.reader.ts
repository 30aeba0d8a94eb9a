import { MISS_REASONS, PriceTickSchema, toLineIssues, type PriceTick } from '@btc-etl/price-schema';
import { parquetMetadata, parquetRead, type AsyncBuffer, type FileMetaData } from 'hyparquet';
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
}

const RECORD_ID = /^[0-9a-f]{32}$/;
const PRODUCT = /^[A-Z0-9]{2,12}-[A-Z0-9]{2,12}$/;
const DECIMAL = /^\d+(\.\d+)?$/;
const ISO = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z$/;
const REASONS = new Set<string>(MISS_REASONS);

const isIsoOrNull = (v: unknown) => v === null || (typeof v === 'string' && ISO.test(v));

/**
 * The fast path of validation: the fields queries read, checked by hand (zod on every line would cost more than
 * everything else together). A record that fails it is handed to the full schema, which has the last word and
 * the detailed message, so this check can only be as strict as the schema, never stricter.
 */
export function hasValidQueryFields(v: Record<string, unknown>): boolean {
  const status = v.status;
  const price = v.price;
  const reason = v.reason;
  const exchange = v.exchange_time;
  const scheduled = v.scheduled_time;
  return (
    typeof v.record_id === 'string' &&
    RECORD_ID.test(v.record_id) &&
    typeof v.product_id === 'string' &&
    PRODUCT.test(v.product_id) &&
    (status === 'ok'
      ? typeof price === 'string' && DECIMAL.test(price) && reason === null
      : status === 'missed' && price === null && typeof reason === 'string' && REASONS.has(reason)) &&
    isIsoOrNull(exchange) &&
    isIsoOrNull(scheduled) &&
    (exchange !== null || scheduled !== null) &&
    typeof v.ingest_time === 'string' &&
    ISO.test(v.ingest_time)
  );
}

/** Validate one decoded value: the record, or the reason it is not one. */
export function toTick(value: unknown): PriceTick | string {
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    hasValidQueryFields(value as Record<string, unknown>)
  ) {
    return value as PriceTick;
  }
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

/** The columns queries read: Parquet files are read for these only. */
export const QUERY_COLUMNS = [
  'record_id',
  'product_id',
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

/** Parquet columns among {@link QUERY_COLUMNS} the file lacks (such a file is reported and skipped, never guessed at). */
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
 * rows to the sink through one reused object (no per-row allocation: 2.6 million rows stay cheap). Bad rows are
 * reported with their 1-based row number in the file.
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
    row.status = statuses[i];
    row.price = prices[i] ?? null;
    row.exchange_time = exchanges[i] ?? null;
    row.scheduled_time = scheduleds[i] ?? null;
    row.ingest_time = ingests[i];
    row.reason = reasons[i] ?? null;
    if (hasValidQueryFields(row)) {
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
