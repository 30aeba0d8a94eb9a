import type { AthenaClient } from '@aws-sdk/client-athena';
import { BucketNotFoundError, type ObjectStore } from '@btc-etl/object-store';
import type { QueryConfig } from './config/query.config';
import type { EngineName } from './cli/cli.args';
import { runAthenaQuery, type AthenaQueryStats } from './engines/athena.engine';
import type { LayerName } from './engines/layer';
import { readRawCompleteBefore } from './engines/silver.watermark';
import { runLocalQuery, type LocalQueryStats } from './engines/local.engine';
import { rangeReaderFor, type RangeReader } from './engines/range.reader';
import { QUERIES, type QueryName } from './queries/query.registry';
import type { ColumnSpec, QueryDefinition, ResultRow } from './queries/query.types';

/** A store without the silver bucket has no watermark: nothing is known to be compacted. */
function noSilver(error: unknown): undefined {
  if (error instanceof BucketNotFoundError) return undefined;
  throw error;
}

/** Ranged reads that name the bucket owner too, for a store that has ranged reads at all. */
function ownerRangeReader(store: ObjectStore, expectedBucketOwner: string): { readRange?: RangeReader } {
  const readRange = rangeReaderFor(store, expectedBucketOwner);
  return readRange ? { readRange } : {};
}

/** What running a query needs; clients are built lazily so the local engine never touches AWS config. */
export interface QueryDeps {
  config: QueryConfig;
  store: () => ObjectStore;
  athena: () => AthenaClient;
}

export interface RunResult {
  columns: readonly ColumnSpec[];
  rows: ResultRow[];
  stats: LocalQueryStats | AthenaQueryStats;
}

/** Run one query by name on one engine, with params already validated by the query's schema. */
export async function runQuery(
  name: QueryName,
  params: unknown,
  engine: EngineName,
  deps: QueryDeps,
  overrides: { lateSlackS?: number; layer?: LayerName } = {},
): Promise<RunResult> {
  const definition = QUERIES[name] as unknown as QueryDefinition<unknown, ResultRow>;
  const { config } = deps;
  const slack = { ...config.slack, ...(overrides.lateSlackS !== undefined ? { lateS: overrides.lateSlackS } : {}) };
  const layer = overrides.layer ?? config.QUERY_LAYER;
  if (engine === 'athena') {
    // auto: the compactor's watermark, read through the configured store (OBJECT_STORE=s3 for the real one); without
    // it every raw hour of the window is read next to silver: more bytes scanned, the same answer
    const rawCompleteBefore =
      layer === 'auto' ? await readRawCompleteBefore(deps.store(), config.SILVER_BUCKET).catch(noSilver) : undefined;
    const { rows, stats } = await runAthenaQuery(definition, params, {
      client: deps.athena(),
      workGroup: config.ATHENA_WORKGROUP,
      database: config.ATHENA_DATABASE,
      ...(config.ATHENA_OUTPUT_LOCATION ? { outputLocation: config.ATHENA_OUTPUT_LOCATION } : {}),
      ...(config.EXPECTED_BUCKET_OWNER ? { expectedBucketOwner: config.EXPECTED_BUCKET_OWNER } : {}),
      rawTable: config.ATHENA_RAW_TABLE,
      backupTable: config.ATHENA_BACKUP_TABLE,
      slack,
      silver: {
        silverTable: config.ATHENA_SILVER_TABLE,
        layer,
        ...(rawCompleteBefore !== undefined ? { rawCompleteBefore } : {}),
      },
    });
    return { columns: definition.columns, rows, stats };
  }
  const store = deps.store();
  const { rows, stats } = await runLocalQuery(definition, params, {
    store,
    buckets: { raw: config.RAW_BUCKET, backup: config.BACKUP_BUCKET },
    prefix: config.RAW_PREFIX,
    slack,
    silver: { bucket: config.SILVER_BUCKET, layer },
    // the store sends ExpectedBucketOwner itself; its ranged reads (Parquet by ranges) go through the S3 client
    ...(config.EXPECTED_BUCKET_OWNER ? ownerRangeReader(store, config.EXPECTED_BUCKET_OWNER) : {}),
  });
  return { columns: definition.columns, rows, stats };
}

/** One line for stderr: what was read (local) or scanned and paid (Athena). */
export function describeStats(stats: LocalQueryStats | AthenaQueryStats): string {
  if (stats.engine === 'athena') {
    return (
      `athena ${stats.queryExecutionId}: ${stats.bytesScanned} bytes scanned, ` +
      `$${stats.costUsd.toFixed(6)}, ${stats.states.join(' -> ')}, ` +
      `${Math.round(stats.elapsedMs)} ms`
    );
  }
  const bad =
    stats.badRecords > 0
      ? `; skipped ${stats.badRecords} bad records (first: ` +
        `${stats.badSamples[0]?.bucket}/${stats.badSamples[0]?.key} line ` +
        `${stats.badSamples[0]?.line}: ${stats.badSamples[0]?.message})`
      : '';
  const layer =
    stats.layer === 'raw'
      ? 'layer raw'
      : `layer ${stats.layer} (${stats.silverObjectsRead} silver ` +
        `files${stats.rawCompleteBefore ? `, raw from ${stats.rawCompleteBefore}` : ''})`;
  return (
    `local ${layer}: ${stats.objectsRead} objects read (${stats.objectsSkipped} pruned by key ` +
    `time, ${stats.objectsPrunedByStatistics} Parquet by statistics after their footer, ` +
    `${stats.rowGroupsPruned} row groups) under ${stats.prefixes.length} prefixes, ` +
    `${stats.bytesRead} bytes, ${stats.records} records, ${stats.duplicates} duplicates ` +
    `dropped, ${Math.round(stats.elapsedMs)} ms${bad}`
  );
}
