import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createCoinbaseClient, TokenBucket } from '@btc-etl/coinbase';
import type { PriceTick } from '@btc-etl/price-schema';
import { DeliveryPipeline } from '../delivery/delivery.pipeline';
import { Spool } from '../delivery/spool';
import { SpoolLease } from '../delivery/spool.lease';
import { parseConfig, type ExtractorConfig } from '../extractor.config';
import { ConfigError, ExtractorError, SpoolLockedError } from '../extractor.errors';
import { ExtractorMetrics } from '../ops/extractor.metrics';
import { createLogger } from '../ops/logger';
import { createSinkFactory, sinkTargetFor } from '../sinks/sink.factory';
import { CheckpointFile } from './backfill.checkpoint';
import { parseBackfillArgs, progressLine } from './backfill.cli';
import { backfillCandles, type BackfillJob } from './candle.backfill';

/**
 * `npx nx run extractor:backfill -- --product BTC-USD --from ISO --to ISO --granularity 60`: candle records
 * (`coinbase-candles`, `backfilled` true) through the extractor's sinks (`SINK`, `DATA_DIR`, ... as for the service).
 * Its own spool (`<SPOOL_DIR>-backfill`, replayed at the next run) and a checkpoint per job under
 * `DATA_DIR/.backfill/` make a crashed run resumable: run the same command again.
 */
async function main(): Promise<void> {
  let job: BackfillJob;
  let config: ExtractorConfig;
  try {
    const parsed = parseBackfillArgs(process.argv.slice(2));
    job = parsed.job;
    config = parseConfig(parsed.rest, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`backfill: invalid arguments: ${error.message}\n`);
    process.exit(2);
  }
  const runId = randomUUID();
  const logger = createLogger(config.LOG_LEVEL, runId);
  const metrics = new ExtractorMetrics();
  const spoolDir = `${config.SPOOL_DIR}-backfill`;
  let lease: SpoolLease;
  try {
    // one backfill per spool: two would replay and acknowledge each other's lines
    lease = await SpoolLease.acquire({
      dir: spoolDir,
      runId,
      waitMs: config.SPOOL_LOCK_WAIT_S * 1000,
      staleMs: config.SPOOL_LOCK_STALE_S * 1000,
      onLost: (holder) => {
        logger.fatal({ holder }, 'backfill spool lease lost: exiting at once');
        process.exit(1);
      },
    });
  } catch (error) {
    if (!(error instanceof SpoolLockedError)) throw error;
    process.stderr.write(`backfill: ${error.message}\n`);
    process.exit(75);
  }
  const spool = Spool.open({ dir: spoolDir, capBytes: config.SPOOL_MAX_MB * 1024 * 1024 });
  const createSink = createSinkFactory(config, sinkTargetFor(config), { logger, metrics });
  const pipeline = new DeliveryPipeline({ spool, createSink, logger, metrics });
  pipeline.start();

  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => stop.abort(new ExtractorError(`backfill interrupted (${signal})`, { signal })));
  const client = createCoinbaseClient({
    exchangeUrl: config.COINBASE_EXCHANGE_URL,
    timeoutMs: config.REQUEST_TIMEOUT_MS,
    rateLimiter: new TokenBucket({ ratePerSecond: config.RATE_LIMIT_RPS, burst: config.RATE_LIMIT_BURST }),
    userAgent: 'bitcoin-stream-etl-backfill',
  });
  const from = new Date(job.fromMs).toISOString();
  const to = new Date(job.toMs).toISOString();
  const checkpoint = new CheckpointFile(join(config.DATA_DIR, '.backfill'), {
    productId: job.productId,
    granularity: job.granularity,
    from,
    to,
  });
  const tty = process.stderr.isTTY === true;
  const rejected = async () => (await metrics.ticksRejected.get()).values.reduce((n, v) => n + v.value, 0);

  let failed: unknown;
  try {
    const result = await backfillCandles(
      job,
      {
        client,
        checkpoint,
        // no headroom: this process polls nothing (a running extractor has its own bucket per process)
        headroom: 0,
        write: async (ticks: readonly PriceTick[]) => {
          const before = await rejected();
          for (const t of ticks) pipeline.accept(t);
          pipeline.flushSpool();
          // the checkpoint must not pass a page whose records did not reach the spool (invalid, or the spool full)
          const lost = (await rejected()) - before;
          if (lost > 0)
            throw new ExtractorError(`${lost} candle records were not spooled; the page will be fetched again`, {
              lost,
            });
        },
        onProgress: (p) => (tty ? process.stderr.write(`\r${progressLine(p)}`) : logger.info(p, 'backfill progress')),
      },
      stop.signal,
    );
    if (tty) process.stderr.write('\n');
    logger.info({ ...result, productId: job.productId, from, to, granularity: job.granularity }, 'backfill written');
  } catch (error) {
    failed = error;
    if (tty) process.stderr.write('\n');
    logger.error({ err: error, checkpoint: checkpoint.path }, 'backfill stopped: run the same command again to resume');
  }
  const deadline = new AbortController();
  setTimeout(() => deadline.abort(), config.SHUTDOWN_TIMEOUT_MS).unref();
  const delivered = await pipeline.drain(deadline.signal);
  pipeline.sink.close();
  spool.close();
  lease.release();
  logger.info(
    { delivered },
    delivered ? 'everything delivered' : 'the rest stays in the backfill spool for the next run',
  );
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`backfill: failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
