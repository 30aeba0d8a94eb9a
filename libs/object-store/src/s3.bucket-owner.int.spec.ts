import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { catchError, recordingS3Client } from '@btc-etl/testing';
import { describe, expect, it } from 'vitest';
import { patternBytes } from './object-store.contract';
import { ObjectStoreConfigError } from './object-store.errors';
import { S3ObjectStore } from './s3.object-store';

const MiB = 1024 * 1024;
const ACCOUNT = '123456789012';

// Headers of the requests recordingS3Client saw. moto 5.2.1 ignores the bucket-owner headers (it never answers 403
// for a wrong owner), so what these tests can prove is that every request carries them.
const OWNER = 'x-amz-expected-bucket-owner';
const SOURCE_OWNER = 'x-amz-source-expected-bucket-owner';
const COPY_SOURCE = 'x-amz-copy-source';

async function bucket(client: S3Client): Promise<string> {
  const name = `owner-${randomBytes(5).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

describe('S3ObjectStore expectedBucketOwner', () => {
  it('sends ExpectedBucketOwner on every request, and ExpectedSourceBucketOwner on every copy request', async () => {
    const { client, sent } = recordingS3Client();
    const [a, b] = [await bucket(client), await bucket(client)];
    const store = new S3ObjectStore({
      client,
      expectedBucketOwner: ACCOUNT,
      multipartCopyThresholdBytes: 6 * MiB,
      multipartPartSizeBytes: 5 * MiB,
      uploadPartSizeBytes: 5 * MiB,
    });
    sent.length = 0; // bucket creation is not the store's

    await store.put(a, 'small', 'bytes');
    await store.put(a, 'big', Readable.from([patternBytes(11 * MiB, 3)])); // streamed multipart upload
    await store.get(a, 'small');
    (await store.getStream(a, 'small')).stream.resume();
    await store.head(a, 'small');
    await store.list(a);
    for await (const _ of store.listAll(a, '')) void _;
    await store.copy({ bucket: a, key: 'small' }, { bucket: b, key: 'small' });
    await store.copy({ bucket: a, key: 'big' }, { bucket: b, key: 'big' }); // UploadPartCopy
    await store.delete(b, 'small');

    const kinds = new Set(sent.map((s) => `${s.method} ${s.headers[COPY_SOURCE] ? 'copy' : ''}`));
    expect(kinds).toEqual(new Set(['PUT ', 'POST ', 'GET ', 'HEAD ', 'PUT copy', 'DELETE ']));
    expect(sent.length).toBeGreaterThan(15);
    expect(sent.filter((s) => s.headers[OWNER] !== ACCOUNT)).toEqual([]);
    const copies = sent.filter((s) => s.headers[COPY_SOURCE] !== undefined);
    expect(copies.length).toBe(4); // one CopyObject, three UploadPartCopy
    expect(copies.filter((s) => s.headers[SOURCE_OWNER] !== ACCOUNT)).toEqual([]);
  });

  it('sends neither header when unset', async () => {
    const { client, sent } = recordingS3Client();
    const a = await bucket(client);
    const store = new S3ObjectStore({ client });

    await store.put(a, 'k', 'v');
    await store.copy({ bucket: a, key: 'k' }, { bucket: a, key: 'k2' });

    expect(sent.filter((s) => s.headers[OWNER] !== undefined || s.headers[SOURCE_OWNER] !== undefined)).toEqual([]);
  });

  it.each(['12345678901', '1234567890123', 'abcdefghijkl', ' 123456789012', ''])(
    'refuses expectedBucketOwner %j at construction',
    (owner) => {
      const error = catchError(() => new S3ObjectStore({ expectedBucketOwner: owner }), ObjectStoreConfigError);
      expect(error.field).toBe('expectedBucketOwner');
      expect(error.message).toContain('12-digit');
    },
  );
});
