import { SQSClient } from '@aws-sdk/client-sqs';
import { createObjectStore } from '@btc-etl/object-store';
import { RAW_PREFIX } from '@btc-etl/s3-keys';
import { loadRunnerConfig, type RunnerConfig } from '../core/backup.config';
import { BackupConfigError } from '../core/backup.errors';
import { logger } from '../core/backup.logger';
import { formatReconcileCounts, reconcile } from '../reconcile/reconcile';
import { SqsEventSource } from './sqs-event-source';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** SQS mode: the same handler Lambda runs, fed by a local event-source mapping. */
async function serveQueue(config: RunnerConfig, queueUrl: string, signal: AbortSignal): Promise<void> {
  // Imported here so local mode never builds the Lambda's S3 client.
  const { handler, counters } = await import('../lambda/handler');
  const source = new SqsEventSource({
    sqs: new SQSClient({}),
    queueUrl,
    handler,
    logger,
    waitTimeSeconds: config.sqsWaitTimeSeconds,
  });
  logger.info('polling queue', {
    queueUrl,
    rawBucket: config.rawBucket,
    backupBucket: config.backupBucket,
    backupPrefix: config.backupPrefix,
  });
  const totals = await source.run(signal, (round) =>
    logger.info('batch done', { ...round, totals: counters.snapshot() }),
  );
  logger.info('stopped', { ...totals, totals: counters.snapshot() });
}

/** Local mode: no notifications exist, so keep DATA_DIR/<backup> in step with DATA_DIR/<raw> by reconciling. */
async function serveLocal(config: RunnerConfig, signal: AbortSignal): Promise<void> {
  const store = createObjectStore({ kind: 'local', root: config.dataDir });
  const target = { backupBucket: config.backupBucket, backupPrefix: config.backupPrefix };
  logger.info('local mode: reconciling on a timer', {
    dataDir: config.dataDir,
    rawBucket: config.rawBucket,
    intervalMs: config.reconcileIntervalMs,
  });
  while (!signal.aborted) {
    try {
      const { counts, failures } = await reconcile(store, {
        sourceBucket: config.rawBucket,
        // like the queue mode, only the raw bucket's raw/ objects
        prefixes: [RAW_PREFIX],
        target,
        concurrency: config.copyConcurrency,
        signal,
      });
      if (counts.toCopy > 0 || failures.length > 0) {
        logger.info('reconciled', {
          summary: formatReconcileCounts(counts),
          failures: failures.slice(0, 5).map((f) => `${f.key}: ${f.error.message}`),
        });
      }
    } catch (error) {
      if (signal.aborted) break;
      logger.error('reconcile pass failed; retrying on the next tick', { error });
    }
    await sleep(config.reconcileIntervalMs, signal);
  }
  logger.info('stopped');
}

async function main(): Promise<void> {
  let config: RunnerConfig;
  try {
    config = loadRunnerConfig(process.env);
  } catch (error) {
    if (error instanceof BackupConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort());
  if (config.sqsQueueUrl) await serveQueue(config, config.sqsQueueUrl, controller.signal);
  else await serveLocal(config, controller.signal);
}

main().catch((error: unknown) => {
  logger.error('fatal', { error });
  process.exit(1);
});
