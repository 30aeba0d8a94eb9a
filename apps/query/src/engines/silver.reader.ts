import { SILVER_DECIMAL_SCALE, SILVER_LEXICAL_COLUMNS, silverReadOptions, type PriceTick } from '@btc-etl/price-schema';
import { parquetMetadataAsync, parquetRead, type FileMetaData, type RowGroup } from 'hyparquet';
import { ObjectReadError } from '../query.errors';
import type { ScanPlan, TimeColumn } from '../queries/query.types';
import { TICK_TIME } from '../queries/tick-values';
import type { LocalQueryStats } from './local-query.stats';
import { rangedFile, type RangedReadOptions } from './parquet-ranged.reader';
import type { SilverListed } from './silver.listing';
import type { TickSink } from './tick.reader';

/**
 * Silver files (the compactor's event-time Parquet, see libs/price-schema silver.codec.ts) read for the local engine:
 * only the columns the queries read, only the row groups whose time statistics admit the range, and every value
 * handed over exactly as raw had it: decimals and times are turned back into their recorded strings with the
 * digit counts `lexical_forms` keeps, lazily (a query that never looks at `ingest_time` never formats one).
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

/** A DECIMAL(38,18) value (16 big-endian bytes) with all 18 fraction digits: `"97123.450000000000000000"`. */
function fullDecimal(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const unscaled = (view.getBigUint64(0) << 64n) | view.getBigUint64(8);
  const s = unscaled.toString().padStart(SILVER_DECIMAL_SCALE + 1, '0');
  return `${s.slice(0, s.length - SILVER_DECIMAL_SCALE)}.${s.slice(s.length - SILVER_DECIMAL_SCALE)}`;
}

/** A full decimal cut back to the fraction digits it was written with (`digits` from `lexical_forms`). */
export function decimalWithDigits(full: string, digits: number): string {
  const dot = full.indexOf('.');
  if (digits === 0) return full.slice(0, dot);
  if (digits <= SILVER_DECIMAL_SCALE) return full.slice(0, dot + 1 + digits);
  return full.padEnd(dot + 1 + digits, '0');
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
  const isEventTime = recordTime.length === TICK_TIME.length && recordTime.every((c, i) => c === TICK_TIME[i]);
  const column = isEventTime ? 'event_time' : recordTime.length === 1 ? recordTime[0] : undefined;
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
): Promise<number> {
  const rows = rowEnd - rowStart;
  const columns: Record<string, unknown[]> = {};
  for (const name of SILVER_READ_COLUMNS) columns[name] = new Array<unknown>(rows);
  const exact = silverReadOptions(metadata);
  await parquetRead({
    file,
    metadata: exact.metadata,
    // epoch microseconds as a number: exact below 2^53 (the year 2255)
    parsers: { timestampFromMicroseconds: (micros: bigint) => Number(micros) as never },
    columns: [...SILVER_READ_COLUMNS],
    rowStart,
    rowEnd,
    onChunk: (chunk) => {
      const target = columns[chunk.columnName];
      if (!target) return;
      const data = chunk.columnData;
      const from = Math.max(0, rowStart - chunk.rowStart);
      const to = Math.min(data.length, rowEnd - chunk.rowStart);
      for (let i = from; i < to; i++) target[chunk.rowStart + i - rowStart] = data[i];
    },
  });
  const ids = columns.record_id as string[];
  const statuses = columns.status as string[];
  const prices = columns.price as (Uint8Array | null)[];
  const exchanges = columns.exchange_time as (number | null)[];
  const scheduleds = columns.scheduled_time as (number | null)[];
  const ingests = columns.ingest_time as number[];
  const reasons = columns.reason as (string | null)[];
  const forms = columns.lexical_forms as string[];
  // dictionary-encoded prices repeat the same byte array: convert each one once
  const decimals = new Map<Uint8Array, string>();
  const dayCache = { day: Number.NaN, prefix: '' };
  let i = 0;
  const digits = (form: number) => parseInt((forms[i] as string).charAt(form), 36);
  const time = (values: (number | null | undefined)[], form: number): string | null => {
    const micros = values[i];
    return micros === null || micros === undefined ? null : isoWithDigits(micros, digits(form), dayCache);
  };
  const row = {
    record_id: '',
    product_id: productId,
    status: '',
    reason: null as string | null,
    get price(): string | null {
      const bytes = prices[i];
      if (bytes === null || bytes === undefined) return null;
      let full = decimals.get(bytes);
      if (full === undefined) decimals.set(bytes, (full = fullDecimal(bytes)));
      return decimalWithDigits(full, digits(FORM.price));
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
    row.record_id = ids[i] as string;
    row.status = statuses[i] as string;
    row.reason = reasons[i] ?? null;
    sink.onTick(row as unknown as PriceTick);
  }
  return rows;
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
  options: RangedReadOptions,
  sink: TickSink,
  stats: LocalQueryStats,
): Promise<boolean> {
  try {
    const file = rangedFile(object, tail, tailStart, options.readRange, stats);
    const metadata = await parquetMetadataAsync(file, { initialFetchSize: object.size - tailStart });
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
    for (const run of runs) await readSilverRows(file, metadata, object.productId, run.rowStart, run.rowEnd, sink);
    return true;
  } catch (error) {
    throw new ObjectReadError(object.bucket, object.key, `cannot read silver parquet: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
