import { SQSClient } from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { loadRedriveConfig } from '../core/backup.config';
import { BackupConfigError } from '../core/backup.errors';
import { redrive } from './redrive';

const USAGE = [
  'usage: redrive [--max N] [--dry-run]',
  '  Moves messages from the backup DLQ back to its queue (receive, send, delete), after the cause is fixed.',
  '  env: DLQ_URL, QUEUE_URL (both required), AWS_* (region, credentials, AWS_ENDPOINT_URL for moto)',
  '  On AWS the same can run server-side: ' +
    'aws sqs start-message-move-task --source-arn <dlq arn> --destination-arn <queue arn>',
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
        max: { type: 'string' },
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
    config = loadRedriveConfig({ ...process.env, ...(args.max !== undefined ? { REDRIVE_MAX: args.max } : {}) });
  } catch (error) {
    if (!(error instanceof BackupConfigError)) throw error;
    const issues = error.issues.map((i) => `${i.variable === 'REDRIVE_MAX' ? '--max' : i.variable}: ${i.message}`);
    fail(`invalid configuration: ${issues.join('; ')}`);
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const dryRun = args['dry-run'] ?? false;
  const report = await redrive({
    sqs: new SQSClient({}),
    dlqUrl: config.dlqUrl,
    queueUrl: config.queueUrl,
    ...(config.max !== undefined ? { max: config.max } : {}),
    dryRun,
    signal: controller.signal,
  });
  if (dryRun) {
    console.log(`redrive (dry run): ${config.dlqUrl} holds about ${report.dlqDepthAtStart} message(s); nothing moved`);
    for (const m of report.sample) console.log(`  ${m.messageId} (received ${m.receiveCount ?? '?'} times): ${m.body}`);
    return;
  }
  for (const f of report.failedToSend.slice(0, 20)) console.error(`not sent: ${f.messageId}: ${f.reason}`);
  console.log(
    `redrive ${config.dlqUrl} -> ${config.queueUrl}: moved ${report.moved}, not sent ${report.failedToSend.length}, ` +
      `sent but not deleted ${report.notDeleted} (about ${report.dlqDepthAtStart} at start)`,
  );
  if (report.failedToSend.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
