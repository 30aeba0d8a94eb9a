import { S3ObjectStore } from '@btc-etl/object-store';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeParquet } from '@btc-etl/price-schema';
import { okTick } from '@btc-etl/price-schema/testing';
import { buildFirehoseKey } from '@btc-etl/s3-keys';
import { QUERIES } from '../queries/query.registry';
import { runLocalQuery } from './local.engine';
import { rangeReaderFor } from './range.reader';

// moto serves ranged GetObject and checks If-Match, as S3 does
const client = new S3Client({
  endpoint: process.env.AWS_ENDPOINT_URL ?? '',
  region: 'us-east-1',
  forcePathStyle: true,
});
const store = new S3ObjectStore({ client });
const bucket = `range-${randomUUID().slice(0, 8)}`;
const key = 'raw/2026/11/27/10/object.parquet';

const engineBucket = `engine-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(new CreateBucketCommand({ Bucket: engineBucket }));
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

describe('local engine on S3: Parquet by ranges', () => {
  it('prunes by footer statistics over ranged GetObject and answers as a whole read does', async () => {
    const at = (second: number) => new Date(Date.parse('2026-11-27T09:50:00Z') + second * 1000).toISOString();
    const ticks = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) =>
        okTick({
          scheduled_time: at(from + i),
          exchange_time: at(from + i),
          ingest_time: at(from + i),
          price: String(from + i),
        }),
      );
    const put = (arrival: number, body: Uint8Array) =>
      store.put(
        engineBucket,
        buildFirehoseKey({ streamName: 's', arrival: new Date(Date.parse(at(arrival))), extension: 'parquet' }),
        body,
      );
    await put(0, encodeParquet(ticks(0, 600))); // 09:50-09:59:59: before the range, keyed inside the arrival window
    await put(600, encodeParquet(ticks(600, 60))); // 10:00-10:00:59
    const params = QUERIES.ohlc.params.parse({
      product: 'BTC-USD',
      interval: '1h',
      from: '2026-11-27T10:00:00Z',
      to: '2026-11-27T11:00:00Z',
    });
    const options = {
      store,
      buckets: { raw: engineBucket, backup: engineBucket },
      slack: { lateS: 600, bufferS: 900, skewS: 60 },
    };
    const pruned = await runLocalQuery(QUERIES.ohlc, params, options);
    const whole = await runLocalQuery(QUERIES.ohlc, params, { ...options, statisticsPruning: false });
    expect(pruned.rows).toEqual([
      { bucket_start: '2026-11-27T10:00:00.000Z', open: '600', high: '659', low: '600', close: '659', ticks: 60 },
    ]);
    expect(whole.rows).toEqual(pruned.rows);
    expect(pruned.stats).toMatchObject({ objectsRead: 1, objectsPrunedByStatistics: 1, badRecords: 0 });
    expect(pruned.stats.bytesRead).toBeLessThan(whole.stats.bytesRead);
  });
});
