import {
  CreateBucketCommand,
  HeadObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createMotoPipeline,
  motoClients,
  peekBodies,
  pollUntil,
  queueArn,
  queueDepth,
  uniqueName,
  type MotoPipeline,
} from '../__fixtures__/moto-pipeline';
import type { BackupCounters } from '../core/backup.counters';
import { logger } from '../core/backup.logger';
import { SqsEventSource, type SqsBatchHandler } from './sqs-event-source';

const BACKUP = uniqueName('backup');
const OTHER = uniqueName('other');
const { s3, sqs } = motoClients();
let pipeline: MotoPipeline;
let handler: SqsBatchHandler;
let counters: BackupCounters;

beforeAll(async () => {
  pipeline = await createMotoPipeline(s3, sqs, { maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
  // A second bucket whose events reach the same queue: a misconfigured notification, or someone else's bucket.
  await s3.send(new CreateBucketCommand({ Bucket: OTHER }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: OTHER,
      NotificationConfiguration: {
        QueueConfigurations: [{ QueueArn: await queueArn(sqs, pipeline.queueUrl), Events: ['s3:ObjectCreated:*'] }],
      },
    }),
  );
  await s3.send(new CreateBucketCommand({ Bucket: BACKUP }));
  // What serve.main runs with: RAW_BUCKET is required there, and the handler it loads acts on it.
  Object.assign(process.env, { BACKUP_BUCKET: BACKUP, RAW_BUCKET: pipeline.rawBucket, S3_FORCE_PATH_STYLE: 'true' });
  logger.setLogLevel('SILENT');
  ({ handler, counters } = await import('../lambda/handler'));
});

async function exists(bucket: string, key: string): Promise<boolean> {
  return s3
    .send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    .then(() => true)
    .catch(() => false);
}

describe('the local SQS runner acts only on RAW_BUCKET under raw/ (moto)', () => {
  it(
    'copies raw/ objects of RAW_BUCKET; ' + 'refuses other buckets and prefixes, whose messages end in the DLQ',
    async () => {
      const good = 'raw/2026/11/27/19/good.json';
      const outsidePrefix = 'silver/ticks/product_id=BTC-USD/x.parquet';
      const otherBucketKey = 'raw/2026/11/27/19/foreign.json';
      await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: good, Body: 'good' }));
      await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: outsidePrefix, Body: 'not raw' }));
      await s3.send(new PutObjectCommand({ Bucket: OTHER, Key: otherBucketKey, Body: 'not ours' }));
      const runner = new SqsEventSource({ sqs, queueUrl: pipeline.queueUrl, handler, logger, waitTimeSeconds: 1 });

      // each refused message is received maxReceiveCount (2) times, then moved to the DLQ
      await pollUntil(runner, async () => (await queueDepth(sqs, pipeline.dlqUrl)) === 2, 30_000);

      expect(await exists(BACKUP, good)).toBe(true);
      expect(await exists(BACKUP, outsidePrefix)).toBe(false);
      expect(await exists(BACKUP, otherBucketKey)).toBe(false);
      expect(counters.get('refused')).toBeGreaterThanOrEqual(2);
      expect(counters.get('copied')).toBe(1);
      const dlq = (await peekBodies(sqs, pipeline.dlqUrl)).map((b) => JSON.stringify(b));
      expect(dlq.some((b) => b.includes(OTHER))).toBe(true);
      expect(dlq.some((b) => b.includes('silver'))).toBe(true);
      expect(await queueDepth(sqs, pipeline.queueUrl)).toBe(0);
    },
  );
});
