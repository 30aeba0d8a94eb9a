import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { catchError } from '@btc-etl/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMotoPipeline, motoClients, pollUntil, queueDepth, uniqueName } from '../__fixtures__/moto-pipeline';
import type { BackupCounters } from '../core/backup.counters';
import { logger } from '../core/backup.logger';
import { SqsEventSource, type SqsBatchHandler } from '../runner/sqs-event-source';

const BACKUP = uniqueName('locked-backup');
const { s3, sqs } = motoClients();
let handler: SqsBatchHandler;
let counters: BackupCounters;

beforeAll(async () => {
  // The handler reads its config once at import (a cold start): env first.
  Object.assign(process.env, { BACKUP_BUCKET: BACKUP, S3_FORCE_PATH_STYLE: 'true' });
  logger.setLogLevel('SILENT');
  // As infra makes the backup bucket: Object Lock, default retention in governance mode.
  await s3.send(new CreateBucketCommand({ Bucket: BACKUP, ObjectLockEnabledForBucket: true }));
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: BACKUP,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
      },
    }),
  );
  ({ handler, counters } = await import('./handler'));
});

async function textOf(bucket: string, key: string, versionId?: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return (await out.Body?.transformToString()) ?? '';
}

async function backupVersions(key: string) {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: BACKUP, Prefix: key }));
  return (out.Versions ?? []).filter((v) => v.Key === key);
}

describe('backup into an Object Lock bucket through the real handler (moto)', () => {
  it(
    'copies, keeps the locked copy when raw is overwritten or deleted, ' + 'and refuses to delete it without bypass',
    async () => {
      const pipeline = await createMotoPipeline(s3, sqs);
      const runner = new SqsEventSource({ sqs, queueUrl: pipeline.queueUrl, handler, logger, waitTimeSeconds: 1 });
      const key = 'raw/2026/11/27/19/locked.json';
      const copiedBefore = counters.get('copied');

      // 1. the first version is copied, and the copy is locked
      await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: key, Body: 'good bytes\n' }));
      await pollUntil(runner, async () => (await backupVersions(key)).length === 1);
      const head = await s3.send(new HeadObjectCommand({ Bucket: BACKUP, Key: key }));
      expect(head.ObjectLockMode).toBe('GOVERNANCE');
      expect(head.ObjectLockRetainUntilDate?.getTime()).toBeGreaterThan(Date.now());
      const [good] = await backupVersions(key);

      // 2. raw is overwritten (bad bytes): the overwrite is copied as a new version; the good one stays
      await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: key, Body: 'overwritten\n' }));
      await pollUntil(runner, async () => (await backupVersions(key)).length === 2);
      expect(await textOf(BACKUP, key)).toBe('overwritten\n');
      expect(await textOf(BACKUP, key, good?.VersionId)).toBe('good bytes\n');

      // 3. raw is deleted: nothing reaches the backup
      await s3.send(new DeleteObjectCommand({ Bucket: pipeline.rawBucket, Key: key }));
      await pollUntil(runner, async () => (await queueDepth(sqs, pipeline.queueUrl)) === 0);
      expect(await backupVersions(key)).toHaveLength(2);

      // 4. the locked version cannot be deleted without the governance bypass...
      const denied = await catchError(
        () => s3.send(new DeleteObjectCommand({ Bucket: BACKUP, Key: key, VersionId: good?.VersionId })),
        S3ServiceException,
      );
      expect(denied.name).toBe('AccessDenied');
      expect(await textOf(BACKUP, key, good?.VersionId)).toBe('good bytes\n');
      // ...and a plain delete only hides it behind a delete marker
      await s3.send(new DeleteObjectCommand({ Bucket: BACKUP, Key: key }));
      expect(await textOf(BACKUP, key, good?.VersionId)).toBe('good bytes\n');

      expect(counters.get('copied') - copiedBefore).toBe(2);
      expect(counters.get('failed')).toBe(0);
      expect(await queueDepth(sqs, pipeline.dlqUrl)).toBe(0);
    },
  );
});
