import { createObjectStore, type ObjectStore } from '@btc-etl/object-store';
import { compactRun, type RunReport } from './compaction/compact.run';
import type { CompactorConfig } from './config/compactor.config';
import { buildRunEmf } from './ops/emf.metrics';
import { logger } from './ops/compactor.logger';

export function storeFor(config: CompactorConfig): ObjectStore {
  return config.objectStore === 's3'
    ? createObjectStore({ kind: 's3', forcePathStyle: config.s3ForcePathStyle })
    : createObjectStore({ kind: 'local', root: config.dataDir });
}

export interface RunRequest {
  from?: Date;
  to?: Date;
  dryRun?: boolean;
}

/**
 * One run with the app's configuration: the report, and its EMF line on stdout when METRICS_EMF is on. Shared by
 * the CLI, the local scheduler and the Lambda handler.
 */
export async function runOnce(
  config: CompactorConfig,
  store: ObjectStore,
  request: RunRequest = {},
): Promise<RunReport> {
  const started = Date.now();
  const report = await compactRun({
    store,
    rawBucket: config.rawBucket,
    silverBucket: config.silverBucket,
    rawPrefix: config.rawPrefix,
    lateSlackMs: config.lateSlackMs,
    maxHours: config.maxHours,
    lookbackHours: config.lookbackHours,
    batchRecords: config.batchRecords,
    gcGraceMs: config.gcGraceMs,
    ...request,
    log: (event, data) => logger.debug(event, data),
    onStep: (step) => {
      if (step === config.crashAt) process.kill(process.pid, 'SIGKILL');
    },
  });
  const runMs = Date.now() - started;
  logger.info('run done', { ...report, runMs });
  if (config.metricsEmf) process.stdout.write(`${JSON.stringify(buildRunEmf(report, Date.now(), runMs))}\n`);
  return report;
}
