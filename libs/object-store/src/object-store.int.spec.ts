import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { catchError } from '@btc-etl/testing';
import { LocalObjectStore } from './local.object-store';
import {
  chunkedStream,
  expectedMultipartEtag,
  md5,
  objectStoreContract,
  patternBytes,
  type ContractStoreOptions,
} from './object-store.contract';
import { BucketNotFoundError, PreconditionFailedError } from './object-store.errors';
import { createObjectStore } from './object-store.factory';
import { S3ObjectStore } from './s3.object-store';

const MiB = 1024 * 1024;
const tempRoots: string[] = [];
afterAll(async () => {
  await Promise.all(tempRoots.map((root) => rm(root, { recursive: true, force: true })));
});

async function localFixture(options: ContractStoreOptions = {}) {
  const root = await mkdtemp(join(tmpdir(), 'object-store-contract-'));
  tempRoots.push(root);
  return { store: new LocalObjectStore({ root, ...options }), bucket: 'contract-a', otherBucket: 'contract-b' };
}

/** The SDK's default chain: AWS_ENDPOINT_URL and dummy credentials come from the moto global setup. */
const motoClient = new S3Client({ forcePathStyle: true });

async function freshBucket(): Promise<string> {
  const bucket = `ct-${randomBytes(6).toString('hex')}`;
  await motoClient.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

async function s3Fixture(options: ContractStoreOptions = {}) {
  const store = createObjectStore({ kind: 's3', forcePathStyle: true, ...options });
  return { store, bucket: await freshBucket(), otherBucket: await freshBucket() };
}

objectStoreContract('local directory', localFixture);
objectStoreContract('S3 on moto', s3Fixture);

describe('local and S3 adapters agree on ETags for the same bytes', () => {
  it('plain put, streamed multipart put and multipart copy', async () => {
    expect(process.env.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:/);
    const options = { multipartCopyThresholdBytes: 6 * MiB, multipartPartSizeBytes: 5 * MiB };
    const local = await localFixture(options);
    const s3 = await s3Fixture(options);
    const small = patternBytes(123_457, 23);
    const large = patternBytes(10 * MiB + 1, 29);

    const results = await Promise.all(
      [local, s3].map(async ({ store, bucket, otherBucket }) => ({
        plain: (await store.put(bucket, 'small', small)).etag,
        streamed: (await store.put(bucket, 'large', chunkedStream(large))).etag,
        copiedSmall: (await store.copy({ bucket, key: 'small' }, { bucket: otherBucket, key: 'small' })).etag,
        copiedLarge: (await store.copy({ bucket, key: 'large' }, { bucket: otherBucket, key: 'large' })).etag,
      })),
    );

    const [fromLocal, fromMoto] = results;
    expect(fromLocal).toEqual(fromMoto);
    expect(fromLocal).toEqual({
      plain: md5(small),
      streamed: expectedMultipartEtag(large, 5 * MiB),
      copiedSmall: md5(small),
      copiedLarge: expectedMultipartEtag(large, 5 * MiB),
    });
  });
});

describe('S3ObjectStore on moto', () => {
  it('reports a missing bucket as BucketNotFoundError, not as a missing object', async () => {
    const store = new S3ObjectStore({ forcePathStyle: true });

    const error = await catchError(() => store.get('no-such-bucket-here', 'k'), BucketNotFoundError);
    expect(error).toMatchObject({ bucket: 'no-such-bucket-here', key: 'k', operation: 'get' });
    await expect(store.list('no-such-bucket-here')).rejects.toBeInstanceOf(BucketNotFoundError);
  });

  it('copies as multipart even in a single part when the threshold is 0 (ETag ends in -1)', async () => {
    const store = new S3ObjectStore({
      forcePathStyle: true,
      multipartCopyThresholdBytes: 0,
      multipartPartSizeBytes: 5 * MiB,
    });
    const bucket = await freshBucket();
    const bytes = patternBytes(3 * MiB, 31);
    await store.put(bucket, 'src', bytes);

    const copied = await store.copy({ bucket, key: 'src' }, { bucket, key: 'dst' });

    expect(copied.etag).toBe(expectedMultipartEtag(bytes, 5 * MiB));
    expect(copied.etag.endsWith('-1')).toBe(true);
  });
});

describe('trustServerConditions against moto', () => {
  // Pins down why the option is off by default and off against emulators: moto 5.2.1 ignores CopySourceIfMatch, so
  // a copy that relies on the server for the check copies whatever the source holds now. If a moto upgrade starts
  // enforcing the header, this test fails and the default can be revisited.
  it('moto copies a stale version when the adapter trusts it, and the default adapter refuses it', async () => {
    const trusting = await s3Fixture();
    const store = new S3ObjectStore({ client: motoClient, trustServerConditions: true });
    const { etag: oldEtag } = await store.put(trusting.bucket, 'k', 'old bytes');
    await store.put(trusting.bucket, 'k', 'new bytes!');

    const copied = await store.copy(
      { bucket: trusting.bucket, key: 'k' },
      { bucket: trusting.otherBucket, key: 'trusted' },
      { ifSourceEtag: oldEtag, sourceSize: 9 },
    );
    await catchError(
      () =>
        trusting.store.copy(
          { bucket: trusting.bucket, key: 'k' },
          { bucket: trusting.otherBucket, key: 'default' },
          { ifSourceEtag: oldEtag, sourceSize: 9 },
        ),
      PreconditionFailedError,
    );

    expect(copied.etag).toBe(md5('new bytes!'));
    expect(await trusting.store.head(trusting.otherBucket, 'default')).toBeUndefined();
  });
});
