import { AthenaClient } from '@aws-sdk/client-athena';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createObjectStore } from '@btc-etl/object-store';
import { encodeParquet } from '@btc-etl/price-schema';
import { okTick } from '@btc-etl/price-schema/testing';
import { buildFirehoseKey } from '@btc-etl/s3-keys';
import { recordingS3Client } from '@btc-etl/testing';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig, objectStoreConfig } from './config/query.config';
import { QUERIES } from './queries/query.registry';
import { runQuery } from './query.runner';

const ACCOUNT = '123456789012';

describe('runQuery against S3 with EXPECTED_BUCKET_OWNER', () => {
  it('names the owner on every S3 request: listings, gets, the watermark and the ranged Parquet reads', async () => {
    // moto ignores the owner header: what this proves is that every request of the query carries it
    const { client, sent } = recordingS3Client({ region: 'us-east-1' });
    const id = randomUUID().slice(0, 8);
    const buckets = { RAW_BUCKET: `owner-raw-${id}`, BACKUP_BUCKET: `owner-bk-${id}`, SILVER_BUCKET: `owner-sv-${id}` };
    for (const bucket of Object.values(buckets)) await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const at = (second: number) => new Date(Date.parse('2026-11-27T10:00:00Z') + second * 1000).toISOString();
    const ticks = Array.from({ length: 60 }, (_, i) =>
      okTick({ scheduled_time: at(i), exchange_time: at(i), ingest_time: at(i), price: String(100 + i) }),
    );
    const key = buildFirehoseKey({ streamName: 's', arrival: new Date(at(60)), extension: 'parquet' });
    const config = loadConfig({
      OBJECT_STORE: 's3',
      ...buckets,
      EXPECTED_BUCKET_OWNER: ACCOUNT,
      S3_FORCE_PATH_STYLE: 'true',
    });
    const storeConfig = objectStoreConfig(config);
    expect(storeConfig.kind).toBe('s3');
    if (storeConfig.kind !== 's3') return;
    const store = createObjectStore({ ...storeConfig, client });
    await store.put(buckets.RAW_BUCKET, key, encodeParquet(ticks));
    sent.length = 0;

    const params = QUERIES.ohlc.params.parse({
      product: 'BTC-USD',
      interval: '1h',
      from: '2026-11-27T10:00:00Z',
      to: '2026-11-27T11:00:00Z',
    });
    const result = await runQuery('ohlc', params, 'local', {
      config,
      store: () => store,
      athena: () => new AthenaClient({ region: 'us-east-1' }),
    });

    expect(result.rows).toEqual([
      { bucket_start: '2026-11-27T10:00:00.000Z', open: '100', high: '159', low: '100', close: '159', ticks: 60 },
    ]);
    expect(sent.some((s) => s.path.includes(buckets.SILVER_BUCKET))).toBe(true);
    expect(sent.some((s) => s.headers.range !== undefined)).toBe(true);
    expect(sent.filter((s) => s.headers['x-amz-expected-bucket-owner'] !== ACCOUNT)).toEqual([]);
  });
});
