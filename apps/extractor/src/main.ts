import { CoinbaseWsFeed, createCoinbaseClient, TokenBucket } from '@btc-etl/coinbase';
import { randomUUID } from 'node:crypto';
import { startExtractor, type RunningExtractor } from './extractor.app';
import { parseConfig, usage, type ExtractorConfig } from './extractor.config';
import { ConfigError, SpoolLockedError } from './extractor.errors';
import { ExtractorMetrics } from './ops/extractor.metrics';
import { createLogger } from './ops/logger';
import { createSinkFactory, sinkTargetFor } from './sinks/sink.factory';
import { coinbasePollingSource } from './sources/coinbase-polling.source';
import { WsTickerSource } from './sources/ws-ticker.source';

const EXTRACTOR_USER_AGENT = 'bitcoin-stream-etl-extractor';
/** Exit code when another extractor holds the spool (sysexits EX_TEMPFAIL: try again later). */
const EXIT_SPOOL_LOCKED = 75;

// No `require.main === module` guard: `@nx/js:node` and plain `node` both just run this file.
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  let config: ExtractorConfig;
  try {
    config = parseConfig(argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`extractor: invalid configuration: ${error.message}\n`);
    process.exit(2);
  }
  const runId = randomUUID();
  const logger = createLogger(config.LOG_LEVEL, runId);
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception: exiting (spooled ticks are replayed at the next start)');
    process.exit(1);
  });

  const endpoint = config.SOURCE;
  const clientOptions = {
    exchangeUrl: config.COINBASE_EXCHANGE_URL,
    apiUrl: config.COINBASE_API_URL,
    timeoutMs: config.REQUEST_TIMEOUT_MS,
    // one bucket for every product: Coinbase's public limit is per IP
    rateLimiter: new TokenBucket({ ratePerSecond: config.RATE_LIMIT_RPS, burst: config.RATE_LIMIT_BURST }),
  };
  const client = createCoinbaseClient({ ...clientOptions, userAgent: EXTRACTOR_USER_AGENT });
  const warmUpClient = createCoinbaseClient({ ...clientOptions, userAgent: `${EXTRACTOR_USER_AGENT} (warm-up)` });
  const metrics = new ExtractorMetrics({ defaultMetrics: true });
  let running: RunningExtractor;
  try {
    running = await startExtractor({
      config,
      logger,
      metrics,
      runId,
      source:
        endpoint === 'ws-ticker'
          ? new WsTickerSource({
              feed: new CoinbaseWsFeed({
                url: config.COINBASE_WS_URL,
                productIds: config.PRODUCTS,
                gapDetection: config.WS_GAP_DETECTION,
              }),
              productIds: config.PRODUCTS,
              logger,
              sampleEveryMs: config.ALSO_SAMPLE ?? null,
              backfill: { client },
            })
          : coinbasePollingSource(client, endpoint, warmUpClient),
      sink: createSinkFactory(config, sinkTargetFor(config), { logger, metrics }),
    });
  } catch (error) {
    if (!(error instanceof SpoolLockedError)) throw error;
    // Another extractor writes this spool: two writers would interleave and replay each other's ticks.
    logger.fatal({ err: error }, 'spool in use by another extractor: not starting');
    process.stderr.write(`extractor: ${error.message}\n`);
    process.exit(EXIT_SPOOL_LOCKED);
  }

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, 'shutting down');
    // Belt and braces: whatever hangs, exit 0 inside the orchestrator's 10 s grace (the spool keeps the rest).
    setTimeout(() => {
      logger.warn('shutdown took too long: exiting, undelivered ticks stay in the spool');
      process.exit(0);
    }, config.SHUTDOWN_TIMEOUT_MS + 1000).unref();
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed: exiting, undelivered ticks stay in the spool');
        process.exit(0);
      },
    );
  };
  // Taken over after a stall: the new holder owns the spool now; not one more write, not even a flush.
  void running.leaseLost.then((error) => {
    logger.fatal({ err: error }, 'spool lease lost: exiting at once');
    process.exit(1);
  });
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // A dead source must not leave a healthy-looking process that records nothing: flush what was accepted, exit 1,
  // and let the orchestrator (ECS, systemd) restart it.
  void running.failed.then((error) => {
    if (signalled) return;
    signalled = true;
    logger.fatal({ err: error }, 'source failed: flushing and exiting so the service is restarted');
    setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS + 1000).unref();
    running.stop().finally(() => process.exit(1));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`extractor: failed to start: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
