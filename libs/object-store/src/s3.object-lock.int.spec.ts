import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { expectedMultipartEtag, md5, patternBytes } from './object-store.contract';
import { S3ObjectStore } from './s3.object-store';

const MiB = 1024 * 1024;
/** The SDK's default chain: AWS_ENDPOINT_URL and dummy credentials come from the moto global setup. */
const motoClient = new S3Client({ forcePathStyle: true });

async function plainBucket(): Promise<string> {
  const bucket = `ol-src-${randomBytes(5).toString('hex')}`;
  await motoClient.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** A bucket as infra makes the backup bucket: Object Lock on, default retention in governance mode. */
async function lockedBucket(): Promise<string> {
  const bucket = `ol-lock-${randomBytes(5).toString('hex')}`;
  await motoClient.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  await motoClient.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
      },
    }),
  );
  return bucket;
}

async function lockOf(bucket: string, key: string) {
  const out = await motoClient.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return { mode: out.ObjectLockMode, until: out.ObjectLockRetainUntilDate };
}

// moto 5.2.1 refuses a PutObject or CopyObject into a bucket with a default retention unless the request carries
// Content-MD5 or x-amz-sdk-checksum-algorithm (MissingUploadObjectWithObjectLockHeaders): shared/REFERENCE.md.
describe('S3ObjectStore into an Object Lock bucket with default retention (moto)', () => {
  it('copies a small object with one CopyObject; the copy is locked in governance mode', async () => {
    const store = new S3ObjectStore({ client: motoClient });
    const [source, backup] = await Promise.all([plainBucket(), lockedBucket()]);
    await store.put(source, 'raw/a.json', '{"a":1}\n', { contentType: 'application/x-ndjson' });

    const { etag } = await store.copy({ bucket: source, key: 'raw/a.json' }, { bucket: backup, key: 'raw/a.json' });

    expect(etag).toBe(md5('{"a":1}\n'));
    const lock = await lockOf(backup, 'raw/a.json');
    expect(lock.mode).toBe('GOVERNANCE');
    expect(lock.until?.getTime()).toBeGreaterThan(Date.now());
    const got = await motoClient.send(new GetObjectCommand({ Bucket: backup, Key: 'raw/a.json' }));
    expect(got.ContentType).toBe('application/x-ndjson');
  });

  // moto 5.2.1 checks no lock headers on CreateMultipartUpload/UploadPartCopy/Complete and gives the completed object
  // no default retention (S3 does), so this shows only that the multipart path works into such a bucket.
  it('copies a large object by multipart UploadPartCopy', async () => {
    const store = new S3ObjectStore({
      client: motoClient,
      multipartCopyThresholdBytes: 6 * MiB,
      multipartPartSizeBytes: 5 * MiB,
    });
    const [source, backup] = await Promise.all([plainBucket(), lockedBucket()]);
    const bytes = patternBytes(11 * MiB, 7);
    await store.put(source, 'big', bytes);

    const { etag } = await store.copy({ bucket: source, key: 'big' }, { bucket: backup, key: 'big' });

    expect(etag).toBe(expectedMultipartEtag(bytes, 5 * MiB));
    const got = await motoClient.send(new GetObjectCommand({ Bucket: backup, Key: 'big' }));
    expect(md5((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(md5(bytes));
  });

  it(
    'puts bytes, a string and a stream, ' + 'even with the SDK set to add checksums only where an API requires them',
    async () => {
      // WHEN_REQUIRED (AWS_REQUEST_CHECKSUM_CALCULATION) would leave PutObject without any checksum header.
      const client = new S3Client({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
      const store = new S3ObjectStore({ client });
      const backup = await lockedBucket();

      await store.put(backup, 'bytes', new Uint8Array([1, 2, 3]));
      await store.put(backup, 'string', 'text', { ifNoneMatch: '*' });
      const { Readable } = await import('node:stream');
      await store.put(backup, 'stream', Readable.from([Buffer.from('streamed')]));

      for (const key of ['bytes', 'string', 'stream']) expect((await lockOf(backup, key)).mode).toBe('GOVERNANCE');
    },
  );
});
