import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { s3NotificationBody } from '../__fixtures__/event.factories';
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
import { SqsEventSource, type SqsBatchHandler } from './sqs-event-source';

const MiB = 1024 * 1024;
const BACKUP = uniqueName('backup');
const { s3, sqs } = motoClients();

let handler: SqsBatchHandler;
let counters: BackupCounters;

beforeAll(async () => {
  // The handler module reads its config once at import, like a Lambda cold start: set the env first.
  Object.assign(process.env, {
    BACKUP_BUCKET: BACKUP,
    S3_FORCE_PATH_STYLE: 'true',
    MULTIPART_THRESHOLD_BYTES: String(6 * MiB),
    MULTIPART_PART_SIZE_BYTES: String(5 * MiB),
    COPY_CONCURRENCY: '8',
  });
  logger.setLogLevel('SILENT');
  await s3.send(new CreateBucketCommand({ Bucket: BACKUP }));
  ({ handler, counters } = await import('../lambda/handler'));
});

function runner(pipeline: MotoPipeline): SqsEventSource {
  return new SqsEventSource({ sqs, queueUrl: pipeline.queueUrl, handler, logger, waitTimeSeconds: 1 });
}

async function head(bucket: string, key: string) {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch {
    return undefined;
  }
}

async function bytesOf(bucket: string, key: string): Promise<Uint8Array> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToByteArray()) ?? new Uint8Array();
}

const md5 = (b: Uint8Array | string) => createHash('md5').update(b).digest('hex');
const unquote = (etag: string | undefined) => (etag ?? '').replace(/"/g, '');

describe('raw bucket -> S3 notification -> SQS -> local event-source runner -> handler -> backup bucket (moto)', () => {
  it(
    'copies objects with awkward keys byte for byte, ' + 'keeping content type and metadata, and empties the queue',
    async () => {
      const pipeline = await createMotoPipeline(s3, sqs);
      const keys = [
        'raw/2026/11/27/19/btc-etl-ticks-1-2026-11-27-19-53-15-8c4e1c1e-3b8a-4f7e-9a50-1f0e2d3c4b5a',
        'raw/2026/11/27/19/red flower.json',
        'raw/2026/11/27/19/a+b=c.json',
        'raw/2026/11/27/19/100% done %2F not a slash.json',
        'raw/2026/11/27/19/ünïcödé ₿ 日本.json',
        'raw/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/deep.json',
      ];
      const testEventsBefore = counters.get('test-event');
      for (const [i, key] of keys.entries()) {
        await s3.send(
          new PutObjectCommand({
            Bucket: pipeline.rawBucket,
            Key: key,
            Body: `{"i":${i}}\n`,
            ContentType: 'application/x-ndjson',
            Metadata: { origin: 'firehose' },
          }),
        );
      }

      await pollUntil(runner(pipeline), async () =>
        (await Promise.all(keys.map((k) => head(BACKUP, k)))).every(Boolean),
      );

      for (const [i, key] of keys.entries()) {
        const copy = await s3.send(new GetObjectCommand({ Bucket: BACKUP, Key: key }));
        expect(await copy.Body?.transformToString()).toBe(`{"i":${i}}\n`);
        expect(copy.ContentType).toBe('application/x-ndjson');
        expect(copy.Metadata).toEqual({ origin: 'firehose' });
      }
      expect(counters.get('test-event') - testEventsBefore).toBe(1);
      expect(await queueDepth(sqs, pipeline.queueUrl)).toBe(0);
      expect(await queueDepth(sqs, pipeline.dlqUrl)).toBe(0);
    },
  );

  it('treats duplicate deliveries as success without rewriting the backup', async () => {
    const pipeline = await createMotoPipeline(s3, sqs);
    const key = 'raw/2026/11/27/20/dup.json';
    const put = await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: key, Body: 'dup' }));
    await pollUntil(runner(pipeline), async () => Boolean(await head(BACKUP, key)));
    const before = await head(BACKUP, key);
    const skippedBefore = counters.get('already-backed-up');

    const body = s3NotificationBody({ bucket: pipeline.rawBucket, key, size: 3, etag: unquote(put.ETag) });
    for (let i = 0; i < 3; i++)
      await sqs.send(new SendMessageCommand({ QueueUrl: pipeline.queueUrl, MessageBody: body }));
    await pollUntil(runner(pipeline), async () => (await queueDepth(sqs, pipeline.queueUrl)) === 0);

    expect(counters.get('already-backed-up') - skippedBefore).toBe(3);
    expect((await head(BACKUP, key))?.LastModified).toEqual(before?.LastModified);
  });

  it('counts a source deleted before the copy and deletes its message instead of retrying it', async () => {
    const pipeline = await createMotoPipeline(s3, sqs);
    const key = 'raw/2026/11/27/21/deleted.json';
    await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: key, Body: 'short-lived' }));
    await s3.send(new DeleteObjectCommand({ Bucket: pipeline.rawBucket, Key: key }));
    const missingBefore = counters.get('source-missing');

    const totals = await pollUntil(runner(pipeline), async () => counters.get('source-missing') > missingBefore);

    expect(totals.failed).toBe(0);
    expect(await head(BACKUP, key)).toBeUndefined();
    expect(await queueDepth(sqs, pipeline.queueUrl)).toBe(0);
    expect(await queueDepth(sqs, pipeline.dlqUrl)).toBe(0);
  });

  it('copies an object above the threshold by multipart UploadPartCopy, and recognises it on redelivery', async () => {
    const pipeline = await createMotoPipeline(s3, sqs);
    const key = 'raw/2026/11/27/22/big object.bin';
    const bytes = new Uint8Array(11 * MiB).map((_, i) => (i * 31) % 256);
    const put = await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: key, Body: bytes }));
    // Last-Modified has whole seconds, and a multipart backup only counts as current when strictly newer than its
    // source (on AWS a multipart source's Last-Modified is when its upload began, long before the event).
    await new Promise((r) => setTimeout(r, 1100));

    await pollUntil(runner(pipeline), async () => Boolean(await head(BACKUP, key)), 30_000);

    const copy = await head(BACKUP, key);
    expect(unquote(copy?.ETag)).toMatch(/-3$/); // 11 MiB in 5 MiB parts
    expect(copy?.ContentLength).toBe(bytes.byteLength);
    expect(md5(await bytesOf(BACKUP, key))).toBe(md5(bytes));

    // The backup's multipart ETag differs from the source's plain MD5: a redelivery must still not copy again.
    const skippedBefore = counters.get('already-backed-up');
    const body = s3NotificationBody({
      bucket: pipeline.rawBucket,
      key,
      size: bytes.byteLength,
      etag: unquote(put.ETag),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: pipeline.queueUrl, MessageBody: body }));
    await pollUntil(runner(pipeline), async () => (await queueDepth(sqs, pipeline.queueUrl)) === 0);
    expect(counters.get('already-backed-up') - skippedBefore).toBe(1);
  });

  it(
    'does not copy the wrong bytes for a changed source: ' + 'the old event is superseded, the new one copies',
    async () => {
      const pipeline = await createMotoPipeline(s3, sqs);
      const key = 'raw/2026/11/27/23/rewritten.json';
      await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: key, Body: 'version one' }));
      await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: key, Body: 'version two, newer' }));
      const supersededBefore = counters.get('superseded');

      await pollUntil(runner(pipeline), async () => (await queueDepth(sqs, pipeline.queueUrl)) === 0);

      expect(counters.get('superseded') - supersededBefore).toBe(1);
      expect(Buffer.from(await bytesOf(BACKUP, key)).toString()).toBe('version two, newer');
    },
  );

  it(
    'sends a poison message to the DLQ after maxReceiveCount ' + 'while the good ones in its batches are deleted',
    async () => {
      const pipeline = await createMotoPipeline(s3, sqs, { maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
      await sqs.send(new SendMessageCommand({ QueueUrl: pipeline.queueUrl, MessageBody: 'not an S3 notification' }));
      const key = 'raw/2026/11/28/00/good.json';
      await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: key, Body: 'good' }));

      await pollUntil(runner(pipeline), async () => (await queueDepth(sqs, pipeline.dlqUrl)) === 1, 20_000);

      expect(await peekBodies(sqs, pipeline.dlqUrl)).toEqual(['not an S3 notification']);
      expect(await head(BACKUP, key)).toBeDefined();
      expect(await queueDepth(sqs, pipeline.queueUrl)).toBe(0);
    },
  );
});
