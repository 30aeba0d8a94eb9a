import { AthenaClient } from '@aws-sdk/client-athena';
import { createObjectStore, type ObjectStore } from '@btc-etl/object-store';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { USAGE, parseCli } from './cli/cli.args';
import { formatRows } from './cli/output.format';
import { loadConfig, objectStoreConfig, type QueryConfig } from './config/query.config';
import { createDashboardServer } from './dashboard/dashboard.server';
import { createLogger } from './logger';
import { QueryConfigError, QueryInputError } from './query.errors';
import { ATHENA_NAMED_QUERIES } from './queries/athena-named-queries';
import { describeStats, runQuery, type QueryDeps } from './query.runner';

function deps(config: QueryConfig): QueryDeps {
  let store: ObjectStore | undefined;
  let athena: AthenaClient | undefined;
  return {
    config,
    store: () => (store ??= createObjectStore(objectStoreConfig(config))),
    athena: () => (athena ??= new AthenaClient({})),
  };
}

/** The dashboard's static files: next to the bundle in dist, else built by `query:build`. */
function publicDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'public'), resolve('dist/apps/query/public')];
  const found = candidates.find((c) => existsSync(join(c, 'dashboard.js')));
  if (!found) throw new Error(`dashboard assets not found in ${candidates.join(' or ')}: run npx nx run query:build`);
  return found;
}

async function output(text: string, out: string | undefined): Promise<void> {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  await mkdir(dirname(resolve(out)), { recursive: true });
  await writeFile(out, text);
}

async function main(argv: string[]): Promise<number> {
  const command = parseCli(argv);
  if (command.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command.kind === 'named-queries') {
    await output(`${JSON.stringify(ATHENA_NAMED_QUERIES, null, 2)}\n`, command.out);
    return 0;
  }
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const d = deps(config);
  if (command.kind === 'serve') {
    const server = createDashboardServer({
      publicDir: publicDir(),
      refreshS: config.DASHBOARD_REFRESH_S,
      logger,
      run: async (name, params) => {
        const { rows, stats } = await runQuery(name, params, 'local', d);
        return { rows, badRecords: stats.engine === 'local' ? stats.badRecords : 0 };
      },
    });
    await new Promise<void>((ok) => server.listen(config.PORT, config.HOST, ok));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info(
      {
        url: `http://${config.HOST}:${port}/`,
        objectStore: config.OBJECT_STORE,
        ...(config.OBJECT_STORE === 'local' ? { dataDir: config.DATA_DIR } : {}),
        raw: config.RAW_BUCKET,
        backup: config.BACKUP_BUCKET,
        silver: config.SILVER_BUCKET,
      },
      'dashboard listening',
    );
    const stop = () => server.close(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return await new Promise<number>(() => undefined);
  }
  const result = await runQuery(command.query, command.params, command.engine, d, {
    ...(command.lateSlackS !== undefined ? { lateSlackS: command.lateSlackS } : {}),
    ...(command.layer !== undefined ? { layer: command.layer } : {}),
  });
  await output(formatRows(result.rows, result.columns, command.format), command.out);
  process.stderr.write(`${describeStats(result.stats)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof QueryInputError || error instanceof QueryConfigError) {
      process.stderr.write(`error: ${error.message}\n(run with --help for usage)\n`);
      process.exit(2);
    }
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
