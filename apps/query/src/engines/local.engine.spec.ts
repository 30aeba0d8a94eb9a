import { LocalObjectStore } from '@btc-etl/object-store';
import { encodeNdjson, encodeParquet, okTick } from '@btc-etl/price-schema';
import { buildFirehoseKey } from '@btc-etl/s3-keys';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUERIES } from '../queries/query.registry';
import { runLocalQuery } from './local.engine';

let root: string;
let store: LocalObjectStore;
const bucket = 'btc-etl-raw';
const key = (arrival: string, extension?: string) =>
  buildFirehoseKey({ streamName: 'btc-etl-ticks', arrival: new Date(arrival), ...(extension ? { extension } : {}) });
const tick = (second: string, price: string) => okTick({ scheduled_time: `${second}.000Z`, exchange_time: `${second}.250000Z`, price, ingest_time: `${second}.300Z` });
const ohlc = QUERIES.ohlc.params.parse({ product: 'BTC-USD', interval: '1h', from: '2026-11-27T10:00:00Z', to: '2026-11-27T11:00:00Z' });

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'query-local-'));
  store = new LocalObjectStore({ root });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('local engine: arrival slack, formats, duplicates, bad lines', () => {
  it('finds a record that arrived late in the next hour, and one buffered into an object keyed before the range', async () => {
    // 10:59:59 arrived 11:04 (a retry): under hour 11. 10:00:30 arrived at 10:00:31 into an object opened at 09:57.
    await store.put(bucket, key('2026-11-27T11:04:00Z'), encodeNdjson([tick('2026-11-27T10:59:59', '105')]));
    await store.put(bucket, key('2026-11-27T09:57:00Z'), encodeNdjson([tick('2026-11-27T09:57:00', '1'), tick('2026-11-27T10:00:30', '100')]));
    await store.put(bucket, key('2026-11-27T10:30:00Z'), encodeNdjson([tick('2026-11-27T10:30:00', '99')]));
    // far outside the window: listed under hour 11 but skipped by key time, never read
    await store.put(bucket, key('2026-11-27T11:40:00Z'), 'not even json\n');

    const options = { store, buckets: { raw: bucket, backup: bucket }, slack: { lateS: 600, bufferS: 300, skewS: 60 } };
    const { rows, stats } = await runLocalQuery(QUERIES.ohlc, ohlc, options);
    expect(rows).toEqual([{ bucket_start: '2026-11-27T10:00:00.000Z', open: '100', high: '105', low: '99', close: '105', ticks: 3 }]);
    expect(stats).toMatchObject({ objectsRead: 3, objectsSkipped: 1, badRecords: 0 });

    const tight = await runLocalQuery(QUERIES.ohlc, ohlc, { ...options, slack: { lateS: 60, bufferS: 60, skewS: 0 } });
    expect(tight.rows).toEqual([{ bucket_start: '2026-11-27T10:00:00.000Z', open: '99', high: '99', low: '99', close: '99', ticks: 1 }]);
  });

  it('reads gzip and Parquet objects, counts a re-sent record once and reports bad lines with their place', async () => {
    const a = tick('2026-11-27T10:10:00', '97000.5');
    const b = tick('2026-11-27T10:10:01', '97000.50');
    const c = tick('2026-11-27T10:10:02', '96999.99');
    const gzKey = key('2026-11-27T10:10:00Z', 'gz');
    await store.put(bucket, gzKey, gzipSync(`${encodeNdjson([a, b])}{"broken\n`));
    await store.put(bucket, key('2026-11-27T10:15:00Z', 'parquet'), encodeParquet([b, c]));

    const { rows, stats } = await runLocalQuery(QUERIES.ohlc, ohlc, { store, buckets: { raw: bucket, backup: bucket } });

    // b twice (gzip and Parquet): once. High: 97000.5 and 97000.50 are equal; the earlier one is kept.
    expect(rows).toEqual([{ bucket_start: '2026-11-27T10:00:00.000Z', open: '97000.5', high: '97000.5', low: '96999.99', close: '96999.99', ticks: 3 }]);
    expect(stats.formats).toEqual({ ndjson: 0, 'ndjson-gzip': 1, parquet: 1 });
    expect(stats.duplicates).toBe(1);
    expect(stats.badRecords).toBe(1);
    expect(stats.badSamples[0]).toMatchObject({ bucket, key: gzKey, line: 3, message: expect.stringMatching(/^not JSON/) });
  });

  it('rejects a line the schema rejects even when JSON is fine, and keeps going', async () => {
    const good = tick('2026-11-27T10:20:00', '1.5');
    await store.put(bucket, key('2026-11-27T10:20:00Z'), `${JSON.stringify({ ...good, record_id: 'nope' })}\n${encodeNdjson([good])}`);
    const { rows, stats } = await runLocalQuery(QUERIES.ohlc, ohlc, { store, buckets: { raw: bucket, backup: bucket } });
    expect(rows[0]?.ticks).toBe(1);
    expect(stats.badSamples[0]?.message).toMatch(/record_id: expected 32 lowercase hex digits/);
  });
});
