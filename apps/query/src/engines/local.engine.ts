import type { ObjectStore } from '@btc-etl/object-store';
import type { PriceTick } from '@btc-etl/price-schema';
import { RAW_PREFIX } from '@btc-etl/s3-keys';
import type { Accumulator, QueryDefinition, ResultRow, StoreName } from '../queries/query.types';
import { DEFAULT_SLACK, type ArrivalSlack } from './arrival-window';
import { emptyStats, type LocalQueryStats } from './local-query.stats';
import { ObjectScanner } from './object.scanner';
import { rangeReaderFor, type RangeReader } from './range.reader';
import { listRawObjects } from './raw.listing';
import { RecordIdSet } from './record-id.set';
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
): TickSink {
  const seen = new RecordIdSet();
  return {
    onTick(tick: PriceTick) {
      stats.records++;
      if (products !== undefined && !products.has(tick.product_id)) return;
      if (!seen.add(tick.record_id)) {
        stats.duplicates++;
        return;
      }
      accumulator.add(tick, storeName);
    },
    onBad(bad) {
      stats.badRecords++;
      if (stats.badSamples.length < maxSamples) stats.badSamples.push(bad);
    },
  };
}

/**
 * Run a query on the local engine: list only the hourly prefixes that can hold the asked range, read those objects
 * (NDJSON, gzipped NDJSON or Parquet) streaming and in key order, drop duplicate record ids, skip and count bad
 * lines, and feed the query's accumulator. Parquet objects (`.parquet` keys) are read by ranges: footer first, then
 * only the row groups whose time statistics can hold a record of the range (skipping the rest changes no answer:
 * copies of a record share its times).
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
  for (const storeName of plan.stores) {
    const bucket = options.buckets[storeName];
    const prefix = options.prefix ?? RAW_PREFIX;
    const slack = options.slack ?? DEFAULT_SLACK;
    const objects = await listRawObjects(options.store, bucket, prefix, plan.fromSec, plan.toSec, slack, stats);
    const sink = accumulatingSink(accumulator, storeName, products, stats, options.badSamples ?? 20);
    await scanner.scan(objects, plan, sink);
  }
  const rows = accumulator.finish();
  stats.elapsedMs = performance.now() - started;
  return { rows, stats };
}
