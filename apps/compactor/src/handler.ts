import type { Context } from 'aws-lambda';
import { runOnce, storeFor } from './compactor.wiring';
import type { RunReport } from './compaction/compact.run';
import { loadCompactorConfig } from './config/compactor.config';
import { logger } from './ops/compactor.logger';

// Module scope: validated once per cold start; the S3 client and its connection pool reused across invocations.
const config = loadCompactorConfig(process.env);
const store = storeFor(config);

/**
 * EventBridge Scheduler -> one incremental run. The state lives in SILVER_BUCKET, so any container continues where
 * the last run stopped; two overlapping invocations are safe (conditional manifest puts). A failed run throws, and
 * the next schedule tick (or the scheduler's retry) repeats it: every step is idempotent.
 */
export const handler = async (_event: unknown, context: Context): Promise<RunReport> => {
  logger.addContext(context);
  return runOnce(config, store);
};
