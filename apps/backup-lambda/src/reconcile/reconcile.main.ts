import { createObjectStore } from '@btc-etl/object-store';
import { parseArgs } from 'node:util';
import { loadRunnerConfig, s3StoreOptions } from '../core/backup.config';
import { BackupConfigError, ReconcileScopeError } from '../core/backup.errors';
import { createProgressBar } from './progress-bar';
import { formatReconcileCounts, reconcile } from './reconcile';
import { resolveScope } from './reconcile.scope';

const USAGE = [
  'usage: reconcile [--prefix raw/2026/11/ | --from ISO --to ISO] [--store local|s3] [--concurrency N] [--dry-run]',
  '  Copies what is missing or different from RAW_BUCKET to BACKUP_BUCKET (+ BACKUP_PREFIX) under the prefix, or under',
  '  the Firehose hour folders raw/YYYY/MM/dd/HH/ of [--from, --to) (arrival hours). Both listings are streamed in key',
  '  order, so memory does not grow with the bucket.',
  '  env: RAW_BUCKET, BACKUP_BUCKET (both required with s3), BACKUP_PREFIX, OBJECT_STORE (local|s3), ' +
    'DATA_DIR (local), AWS_* (s3), EXPECTED_BUCKET_OWNER, S3_FORCE_PATH_STYLE, S3_TRUST_SERVER_CONDITIONS',
].join('\n');

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        prefix: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        store: { type: 'string' },
        concurrency: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    fail((error as Error).message);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  let config;
  try {
    // Flags override the environment and go through the same validation, so a bad value is named either way.
    config = loadRunnerConfig({
      ...process.env,
      ...(args.store !== undefined ? { OBJECT_STORE: args.store } : {}),
      ...(args.concurrency !== undefined ? { COPY_CONCURRENCY: args.concurrency } : {}),
    });
  } catch (error) {
    if (!(error instanceof BackupConfigError)) throw error;
    const flags: Record<string, string> = {
      OBJECT_STORE: 'OBJECT_STORE/--store',
      COPY_CONCURRENCY: 'COPY_CONCURRENCY/--concurrency',
    };
    const issues = error.issues.map((i) => `${flags[i.variable] ?? i.variable}: ${i.message}`);
    fail(`invalid configuration: ${issues.join('; ')}`);
  }
  let scope;
  try {
    scope = resolveScope({ prefix: args.prefix, from: args.from, to: args.to });
  } catch (error) {
    if (!(error instanceof ReconcileScopeError)) throw error;
    fail(error.message);
  }

  const store =
    config.objectStore === 'local'
      ? createObjectStore({ kind: 'local', root: config.dataDir })
      : createObjectStore({ kind: 's3', ...s3StoreOptions(config) });
  const where = config.objectStore === 'local' ? `${config.dataDir}/` : 's3://';
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const bar = createProgressBar(process.stderr);
  const dryRun = args['dry-run'] ?? false;
  const report = await reconcile(store, {
    sourceBucket: config.rawBucket,
    prefixes: scope.prefixes,
    target: { backupBucket: config.backupBucket, backupPrefix: config.backupPrefix },
    concurrency: config.copyConcurrency,
    dryRun,
    signal: controller.signal,
    ...(bar ? { onProgress: (p) => bar.update(p) } : {}),
  });
  bar?.finish();
  for (const f of report.failures.slice(0, 20)) console.error(`failed: ${f.key}: ${f.error.message}`);
  const hours = scope.prefixes.length === 1 ? scope.label : '(same hours)';
  console.log(
    `reconcile ${where}${config.rawBucket}/${scope.label} ` +
      `-> ${where}${config.backupBucket}/${config.backupPrefix}${hours}${dryRun ? ' (dry run)' : ''}: ` +
      `${formatReconcileCounts(report.counts, dryRun)}`,
  );
  if (report.counts.failed > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
