import { BucketNotFoundError, type ObjectStore } from '@btc-etl/object-store';
import type { PriceTick } from '@btc-etl/price-schema';
import { RAW_PREFIX } from '@btc-etl/s3-keys';
import type { Accumulator, QueryDefinition, ResultRow, ScanPlan, StoreName, TickColumns } from '../queries/query.types';
import { DEFAULT_SLACK, type ArrivalSlack } from './arrival-window';
import { isEventTimePlan, silverEventRange, type LayerName } from './layer';
import { emptyStats, type LocalQueryStats } from './local-query.stats';
import { ObjectScanner } from './object.scanner';
import { rangeReaderFor, type RangeReader } from './range.reader';
import { listRawObjects } from './raw.listing';
import { RecordIdSet } from './record-id.set';
import { listSilverObjects, silverProducts } from './silver.listing';
import { readRawCompleteBefore } from './silver.watermark';
import type { TickSink } from './tick.reader';

export type { LocalQueryStats } from './local-query.stats';

export interface LocalEngineOptions {
  store: ObjectStore;
  buckets: Record<StoreName, string>;
  /** Key prefix the delivery stream writes under (default `raw/`; the backup keeps the same keys). */
  prefix?: string;
  slack?: ArrivalSlack;
  /** Objects opened ahead of the one being read (S3 latency hides behind the parsing). Default 4. */
  readAhead?: number;
  /** How many bad records to keep as samples in the stats (all are counted). Default 20. */
  badSamples?: number;
  /**
   * Ranged reads for Parquet objects (footer first, then only the row groups and columns needed). Default: the
   * adapter's own (local files, S3 ranged GetObject); without one Parquet objects are read whole.
   */
  readRange?: RangeReader;
  /**
   * Skip Parquet objects and row groups whose time-column statistics show no record in the range. Default true;
   * false is the baseline the benchmark compares with.
   */
  statisticsPruning?: boolean;
  /**
   * The silver layer (the compactor's bucket) and which layer answers for the raw bucket: `auto` reads silver for
   * what the compactor has done and raw for the rest, `raw` / `silver` force one. Without it: raw only. The backup
   * bucket is always read as it is.
   */
  silver?: { bucket: string; layer: LayerName };
}

export interface QueryResult<R extends ResultRow> {
  rows: R[];
  stats: LocalQueryStats;
}

/**
 * The sink between the readers and a query's accumulator for one bucket: counts every record, keeps the plan's
 * products, drops repeated record ids (first copy read wins: copies are the same record re-sent), and counts bad
 * records, keeping the first `maxSamples` of them.
 */
function accumulatingSink(
  accumulator: Accumulator,
  storeName: StoreName,
  products: ReadonlySet<string> | undefined,
  stats: LocalQueryStats,
  maxSamples: number,
  seen: RecordIdSet | null,
): TickSink {
  return {
    onTick(tick: PriceTick) {
      stats.records++;
      if (products !== undefined && !products.has(tick.product_id)) return;
      if (seen !== null && !seen.add(tick.record_id)) {
        stats.duplicates++;
        return;
      }
      accumulator.add(tick, storeName);
    },
    onBad(bad) {
      stats.badRecords++;
      if (stats.badSamples.length < maxSamples) stats.badSamples.push(bad);
    },
    ...(accumulator.addColumns === undefined
      ? {}
      : {
          onColumns(columns: TickColumns, recordIds: readonly (string | null)[] | undefined) {
            stats.records += columns.rows;
            if (products !== undefined && !products.has(columns.productId)) return;
            if (seen !== null) {
              if (recordIds === undefined) throw new Error('the typed path needs record ids to drop duplicates');
              const ok = columns.ok;
              for (let i = 0; i < columns.rows; i++) {
                if (!seen.add(recordIds[i] as string)) {
                  stats.duplicates++;
                  ok[i] = 0;
                }
              }
            }
            accumulator.addColumns?.(columns, storeName);
          },
        }),
  };
}

interface RunContext {
  options: LocalEngineOptions;
  plan: ScanPlan;
  accumulator: Accumulator;
  stats: LocalQueryStats;
  scanner: ObjectScanner;
  products: ReadonlySet<string> | undefined;
}

function rawOf(options: LocalEngineOptions): { prefix: string; slack: ArrivalSlack } {
  return { prefix: options.prefix ?? RAW_PREFIX, slack: options.slack ?? DEFAULT_SLACK };
}

/** One bucket read as raw objects (NDJSON or Parquet under arrival-hour prefixes), its copies counted once. */
async function readRawBucket(run: RunContext, storeName: StoreName): Promise<void> {
  const { options, plan, stats } = run;
  const { prefix, slack } = rawOf(options);
  const bucket = options.buckets[storeName];
  const objects = await listRawObjects(options.store, bucket, prefix, plan.fromSec, plan.toSec, slack, stats);
  const sink = accumulatingSink(
    run.accumulator,
    storeName,
    run.products,
    stats,
    options.badSamples ?? 20,
    new RecordIdSet(),
  );
  await run.scanner.scan(objects, plan, sink);
}

/**
 * The raw bucket's records through the silver layer. `auto`: first the compactor's watermark, then the raw objects
 * under arrival hours from it on (not known to be compacted: the open hour, late arrivals, anything the compactor has
 * not reached), then the silver partitions of the plan's event hours; a record read from raw is not counted again
 * from silver (a raw object past the watermark may already be compacted). The watermark is read before the
 * manifests, and the compactor moves it only after its manifests, so nothing falls between the two. `silver`: the
 * partitions only. Silver holds each record once, so its records are checked against the raw ones only.
 */
async function readThroughSilver(run: RunContext, silver: { bucket: string; layer: LayerName }): Promise<void> {
  const { options, plan, stats } = run;
  const { prefix, slack } = rawOf(options);
  const maxSamples = options.badSamples ?? 20;
  let seen: RecordIdSet | null = null;
  if (silver.layer === 'auto') {
    let watermark: number | undefined;
    try {
      watermark = await readRawCompleteBefore(options.store, silver.bucket);
    } catch (error) {
      if (!(error instanceof BucketNotFoundError)) throw error;
      // no silver bucket at all: nothing is compacted, raw answers alone
      stats.layer = 'raw';
      await readRawBucket(run, 'raw');
      return;
    }
    if (watermark !== undefined) stats.rawCompleteBefore = new Date(watermark * 1000).toISOString();
    const bucket = options.buckets.raw;
    const objects = await listRawObjects(
      options.store,
      bucket,
      prefix,
      plan.fromSec,
      plan.toSec,
      slack,
      stats,
      watermark,
    );
    seen = new RecordIdSet();
    const before = stats.records;
    await run.scanner.scan(
      objects,
      plan,
      accumulatingSink(run.accumulator, 'raw', run.products, stats, maxSamples, seen),
    );
    if (stats.records === before) seen = null;
  }
  const range = silverEventRange(plan, slack);
  let products: readonly string[];
  try {
    products = plan.productIds ?? (await silverProducts(options.store, silver.bucket));
  } catch (error) {
    if (error instanceof BucketNotFoundError && silver.layer === 'auto') return;
    throw error;
  }
  let files;
  try {
    ({ files } = await listSilverObjects(options.store, silver.bucket, products, range.fromSec, range.toSec, stats));
  } catch (error) {
    if (error instanceof BucketNotFoundError && silver.layer === 'auto') return;
    throw error;
  }
  const sink = accumulatingSink(run.accumulator, 'raw', run.products, stats, maxSamples, seen);
  // record ids are read only where something needs them: the dedup against raw records, or ties of a time that is
  // not the event time (silver.reader.ts explains why event-time ties need no ids)
  await run.scanner.scan(files, plan, sink, { silverRecordIds: seen !== null || !isEventTimePlan(plan) });
}

/**
 * Run a query on the local engine: list only the hourly prefixes that can hold the asked range, read those objects
 * (NDJSON, gzipped NDJSON or Parquet) streaming and in key order, drop duplicate record ids, skip and count bad
 * lines, and feed the query's accumulator. Parquet objects (`.parquet` keys) are read by ranges: footer first, then
 * only the row groups whose time statistics can hold a record of the range (skipping the rest changes no answer:
 * copies of a record share its times). With `silver`, the raw bucket's part comes through the silver layer (see
 * {@link readThroughSilver}).
 */
export async function runLocalQuery<P, R extends ResultRow>(
  definition: QueryDefinition<P, R>,
  params: P,
  options: LocalEngineOptions,
): Promise<QueryResult<R>> {
  const started = performance.now();
  const plan = definition.plan(params);
  const accumulator = definition.local(params);
  const stats = emptyStats();
  const scanner = new ObjectScanner(
    {
      store: options.store,
      readRange: options.readRange ?? rangeReaderFor(options.store),
      readAhead: options.readAhead ?? 4,
      statisticsPruning: options.statisticsPruning !== false,
    },
    stats,
  );
  const products = plan.productIds ? new Set(plan.productIds) : undefined;
  const run: RunContext = { options, plan, accumulator, stats, scanner, products };
  for (const storeName of plan.stores) {
    if (storeName === 'raw' && options.silver !== undefined && options.silver.layer !== 'raw') {
      stats.layer = options.silver.layer;
      await readThroughSilver(run, options.silver);
    } else await readRawBucket(run, storeName);
  }
  const rows = accumulator.finish();
  stats.elapsedMs = performance.now() - started;
  return { rows, stats };
}
