import { S3ObjectStore } from '@btc-etl/object-store';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { rangeReaderFor } from './range.reader';

// moto serves ranged GetObject and checks If-Match, as S3 does
const client = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL ?? '', region: 'us-east-1', forcePathStyle: true });
const store = new S3ObjectStore({ client });
const bucket = `range-${randomUUID().slice(0, 8)}`;
const key = 'raw/2026/11/27/10/object.parquet';

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});

describe('S3 ranged reads', () => {
  it('gets [start, end) with Range, pinned to the listed ETag', async () => {
    const { etag } = await store.put(bucket, key, 'abcdefghij');
    const read = rangeReaderFor(store);
    expect(read).toBeDefined();
    expect(new TextDecoder().decode(await read?.(bucket, key, 6, 10, etag))).toBe('ghij');
    expect(new TextDecoder().decode(await read?.(bucket, key, 0, 3))).toBe('abc');
    expect(await read?.(bucket, key, 3, 3)).toEqual(new Uint8Array(0));
    // the object changed since it was listed: refused, not mixed with the new bytes
    await store.put(bucket, key, 'ABCDEFGHIJ');
    await expect(read?.(bucket, key, 6, 10, etag)).rejects.toThrow();
  });
});
