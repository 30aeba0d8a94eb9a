import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createMotoPipeline,
  motoClients,
  peekBodies,
  pollUntil,
  queueDepth,
  uniqueName,
  type MotoPipeline,
} from '../__fixtures__/moto-pipeline';
import type { BackupCounters } from '../core/backup.counters';
import { logger } from '../core/backup.logger';
import { SqsEventSource, type SqsBatchHandler } from '../runner/sqs-event-source';
import { redrive } from './redrive';

const dist = join(resolve(import.meta.dirname, '../../../..'), 'dist/apps/backup-lambda');
// Not created yet: the fault whose fix the redrive follows.
const BACKUP = uniqueName('late-backup');
const { s3, sqs } = motoClients();
let pipeline: MotoPipeline;
let handler: SqsBatchHandler;
let counters: BackupCounters;

beforeAll(async () => {
  pipeline = await createMotoPipeline(s3, sqs, { maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
  Object.assign(process.env, { BACKUP_BUCKET: BACKUP, RAW_BUCKET: pipeline.rawBucket, S3_FORCE_PATH_STYLE: 'true' });
  logger.setLogLevel('SILENT');
  ({ handler, counters } = await import('../lambda/handler'));
});

/** A queue pair with `n` messages (bodies `m0..`, each with an attribute) sitting in the DLQ. */
async function dlqHolding(n: number): Promise<MotoPipeline> {
  const p = await createMotoPipeline(s3, sqs);
  // S3's TestEvent is the queue's only message: drop it, so the queue starts empty
  const testEvent = await sqs.send(new ReceiveMessageCommand({ QueueUrl: p.queueUrl, WaitTimeSeconds: 1 }));
  for (const m of testEvent.Messages ?? [])
    await sqs.send(new DeleteMessageCommand({ QueueUrl: p.queueUrl, ReceiptHandle: m.ReceiptHandle }));
  for (let i = 0; i < n; i++) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: p.dlqUrl,
        MessageBody: `m${i}`,
        MessageAttributes: { origin: { DataType: 'String', StringValue: `attr-${i}` } },
      }),
    );
  }
  return p;
}

describe('redrive: the DLQ recovery path (moto)', () => {
  it('after the fault is fixed, moves the dead messages back and the runner then backs the objects up', async () => {
    const runner = new SqsEventSource({ sqs, queueUrl: pipeline.queueUrl, handler, logger, waitTimeSeconds: 1 });
    const keys = ['raw/2026/11/27/19/a.json', 'raw/2026/11/27/19/b.json'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: key, Body: key }));
    // the backup bucket does not exist: every copy fails, each message dies after maxReceiveCount
    await pollUntil(runner, async () => (await queueDepth(sqs, pipeline.dlqUrl)) === 2, 30_000);
    expect(counters.get('failed')).toBeGreaterThanOrEqual(2);

    await s3.send(new CreateBucketCommand({ Bucket: BACKUP })); // the fix
    const report = await redrive({ sqs, dlqUrl: pipeline.dlqUrl, queueUrl: pipeline.queueUrl });
    expect(report).toMatchObject({ moved: 2, failedToSend: [], notDeleted: 0, dlqDepthAtStart: 2 });
    await pollUntil(runner, async () => (await queueDepth(sqs, pipeline.queueUrl)) === 0, 30_000);

    for (const key of keys) await s3.send(new HeadObjectCommand({ Bucket: BACKUP, Key: key }));
    expect(await queueDepth(sqs, pipeline.dlqUrl)).toBe(0);
  });

  it('--max moves only that many, keeping bodies and message attributes', async () => {
    const p = await dlqHolding(5);

    const report = await redrive({ sqs, dlqUrl: p.dlqUrl, queueUrl: p.queueUrl, max: 3 });

    expect(report.moved).toBe(3);
    expect(await queueDepth(sqs, p.dlqUrl)).toBe(2);
    const back = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: p.queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
    );
    const moved = (back.Messages ?? []).map((m) => [m.Body, m.MessageAttributes?.origin?.StringValue]);
    expect(moved).toHaveLength(3);
    for (const [body, attr] of moved) expect(attr).toBe(`attr-${String(body).slice(1)}`);
  });

  it('--dry-run moves nothing, and shows the depth and a sample', async () => {
    const p = await dlqHolding(3);

    const report = await redrive({ sqs, dlqUrl: p.dlqUrl, queueUrl: p.queueUrl, dryRun: true });

    expect(report).toMatchObject({ moved: 0, dlqDepthAtStart: 3 });
    expect(report.sample.map((m) => m.body).sort()).toEqual(['m0', 'm1', 'm2']);
    expect(await queueDepth(sqs, p.dlqUrl)).toBe(3);
    expect(await queueDepth(sqs, p.queueUrl)).toBe(0);
  });
});

describe('backup-lambda:redrive (the built CLI)', () => {
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, [join(dist, 'redrive.mjs'), ...args], {
      env: { ...process.env, DLQ_URL: '', QUEUE_URL: '', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  beforeAll(() => {
    if (!existsSync(join(dist, 'redrive.mjs'))) throw new Error('run `npx nx run backup-lambda:build` first');
  });

  it('moves the DLQ back with --max, and prints what it did', async () => {
    const p = await dlqHolding(2);
    const result = run(['--max', '1'], { DLQ_URL: p.dlqUrl, QUEUE_URL: p.queueUrl });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`redrive ${p.dlqUrl} -> ${p.queueUrl}: moved 1, not sent 0`);
    expect(await peekBodies(sqs, p.dlqUrl)).toHaveLength(1);
  });

  it.each([
    [[], {}, /DLQ_URL: .*QUEUE_URL: /],
    [['--max', '0'], { DLQ_URL: 'http://h/1/dlq', QUEUE_URL: 'http://h/1/q' }, /--max: must be >= 1/],
    [[], { DLQ_URL: 'http://h/1/q', QUEUE_URL: 'http://h/1/q' }, /QUEUE_URL: must not be the DLQ itself/],
  ])('exits 2 for %j %j, naming what is wrong', (args, env, message) => {
    const result = run(args, env);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
