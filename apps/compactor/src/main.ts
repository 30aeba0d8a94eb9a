import { CompactorConfigError } from './compactor.errors';
import { runOnce, storeFor } from './compactor.wiring';
import { parseCli, USAGE } from './config/cli.args';
import { loadCompactorConfig } from './config/compactor.config';
import { logger } from './ops/compactor.logger';
import { runEvery } from './ops/scheduler';

/**
 * The compactor's CLI: `run [--from ISO --to ISO] [--dry-run]` prints its report as the last line of stdout (JSON);
 * `serve` runs every COMPACT_INTERVAL_S until SIGINT/SIGTERM. Bad flags or environment: exit 2 naming them.
 */
async function main(argv: readonly string[]): Promise<number> {
  let command;
  let config;
  try {
    command = parseCli(argv);
    if (command.command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    config = loadCompactorConfig(process.env);
  } catch (error) {
    if (error instanceof CompactorConfigError) {
      process.stderr.write(`${error.message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  const store = storeFor(config);
  if (command.command === 'run') {
    const report = await runOnce(config, store, command);
    process.stdout.write(`${JSON.stringify({ report })}\n`);
    return 0;
  }
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
  logger.info('serving', { dataDir: config.dataDir, intervalMs: config.intervalMs, objectStore: config.objectStore });
  await runEvery(config.intervalMs, controller.signal, async () => {
    try {
      await runOnce(config, store);
    } catch (error) {
      // one failed run is retried by the next tick; every step of a run is safe to repeat
      logger.error('run failed; the next tick retries', { error: error as Error });
    }
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    logger.error('compactor failed', { error: error as Error });
    process.exitCode = 1;
  },
);
