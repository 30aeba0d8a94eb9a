import { LocalObjectStore, type ObjectStore } from '@btc-etl/object-store';
import { PARQUET_COLUMNS, encodeNdjson, encodeParquet, type PriceTick } from '@btc-etl/price-schema';
import { okTick } from '@btc-etl/price-schema/testing';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { buildFirehoseKey } from '@btc-etl/s3-keys';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUERIES } from '../queries/query.registry';
import { runLocalQuery } from './local.engine';
import { FOOTER_FETCH_BYTES } from './parquet-ranged.reader';
import { localRangeReader, type RangeReader } from './range.reader';

let root: string;
let store: LocalObjectStore;
const bucket = 'btc-etl-raw';
const key = (arrival: string, extension?: string) =>
  buildFirehoseKey({ streamName: 'btc-etl-ticks', arrival: new Date(arrival), ...(extension ? { extension } : {}) });
const tick = (second: string, price: string) =>
  okTick({
    scheduled_time: `${second}.000Z`,
    exchange_time: `${second}.250000Z`,
    price,
    ingest_time: `${second}.300Z`,
  });
const ohlc = QUERIES.ohlc.params.parse({
  product: 'BTC-USD',
  interval: '1h',
  from: '2026-11-27T10:00:00Z',
  to: '2026-11-27T11:00:00Z',
});

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'query-local-'));
  store = new LocalObjectStore({ root });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('local engine: arrival slack, formats, duplicates, bad lines', () => {
  it(
    'finds a record that arrived late in the next hour, and one buffered into an ' + 'object keyed before the range',
    async () => {
      // 10:59:59 arrived 11:04 (a retry): under hour 11. 10:00:30 arrived at 10:00:31 into an object opened at 09:57.
      await store.put(bucket, key('2026-11-27T11:04:00Z'), encodeNdjson([tick('2026-11-27T10:59:59', '105')]));
      await store.put(
        bucket,
        key('2026-11-27T09:57:00Z'),
        encodeNdjson([tick('2026-11-27T09:57:00', '1'), tick('2026-11-27T10:00:30', '100')]),
      );
      await store.put(bucket, key('2026-11-27T10:30:00Z'), encodeNdjson([tick('2026-11-27T10:30:00', '99')]));
      // far outside the window: listed under hour 11 but skipped by key time, never read
      await store.put(bucket, key('2026-11-27T11:40:00Z'), 'not even json\n');

      const options = {
        store,
        buckets: { raw: bucket, backup: bucket },
        slack: { lateS: 600, bufferS: 300, skewS: 60 },
      };
      const { rows, stats } = await runLocalQuery(QUERIES.ohlc, ohlc, options);
      expect(rows).toEqual([
        { bucket_start: '2026-11-27T10:00:00.000Z', open: '100', high: '105', low: '99', close: '105', ticks: 3 },
      ]);
      expect(stats).toMatchObject({ objectsRead: 3, objectsSkipped: 1, badRecords: 0 });

      const tight = await runLocalQuery(QUERIES.ohlc, ohlc, {
        ...options,
        slack: { lateS: 60, bufferS: 60, skewS: 0 },
      });
      expect(tight.rows).toEqual([
        { bucket_start: '2026-11-27T10:00:00.000Z', open: '99', high: '99', low: '99', close: '99', ticks: 1 },
      ]);
    },
  );

  it(
    'reads gzip and Parquet objects, counts a re-sent record once and reports bad ' + 'lines with their place',
    async () => {
      const a = tick('2026-11-27T10:10:00', '97000.5');
      const b = tick('2026-11-27T10:10:01', '97000.50');
      const c = tick('2026-11-27T10:10:02', '96999.99');
      const gzKey = key('2026-11-27T10:10:00Z', 'gz');
      await store.put(bucket, gzKey, gzipSync(`${encodeNdjson([a, b])}{"broken\n`));
      await store.put(bucket, key('2026-11-27T10:15:00Z', 'parquet'), encodeParquet([b, c]));

      const { rows, stats } = await runLocalQuery(QUERIES.ohlc, ohlc, {
        store,
        buckets: { raw: bucket, backup: bucket },
      });

      // b twice (gzip and Parquet): once. High: 97000.5 and 97000.50 are equal; the earlier one is kept.
      expect(rows).toEqual([
        {
          bucket_start: '2026-11-27T10:00:00.000Z',
          open: '97000.5',
          high: '97000.5',
          low: '96999.99',
          close: '96999.99',
          ticks: 3,
        },
      ]);
      expect(stats.formats).toEqual({ ndjson: 0, 'ndjson-gzip': 1, parquet: 1 });
      expect(stats.duplicates).toBe(1);
      expect(stats.badRecords).toBe(1);
      expect(stats.badSamples[0]).toMatchObject({
        bucket,
        key: gzKey,
        line: 3,
        message: expect.stringMatching(/^not JSON/),
      });
    },
  );

  it('rejects a line the schema rejects even when JSON is fine, and keeps going', async () => {
    const good = tick('2026-11-27T10:20:00', '1.5');
    await store.put(
      bucket,
      key('2026-11-27T10:20:00Z'),
      `${JSON.stringify({ ...good, record_id: 'nope' })}\n${encodeNdjson([good])}`,
    );
    const { rows, stats } = await runLocalQuery(QUERIES.ohlc, ohlc, {
      store,
      buckets: { raw: bucket, backup: bucket },
    });
    expect(rows[0]?.ticks).toBe(1);
    expect(stats.badSamples[0]?.message).toMatch(/record_id: expected 32 lowercase hex digits/);
  });
});

/** Parquet as the price-schema codec writes it, with the writer's statistics options open (row groups, truncation). */
function parquet(
  ticks: readonly PriceTick[],
  options: { rowGroupSize?: number; statistics?: boolean; statisticsTruncateLength?: number } = {},
): Uint8Array {
  const columnData = PARQUET_COLUMNS.map((column) => ({
    name: column.name,
    type: column.type,
    nullable: column.nullable,
    data: ticks.map((t) => {
      const value = t[column.name];
      if (value === undefined || value === null) return null;
      return column.type === 'INT64' ? BigInt(value as number) : value;
    }),
  }));
  return new Uint8Array(parquetWriteBuffer({ columnData: columnData as never, ...options }));
}

/** `count` ticks a second apart from `start`, prices 100, 101, ... */
function run(start: string, count: number): PriceTick[] {
  const t0 = Date.parse(start);
  return Array.from({ length: count }, (_, i) =>
    tick(new Date(t0 + i * 1000).toISOString().slice(0, 19), String(100 + i)),
  );
}

/** The real local reader, with every range it is asked for noted per key. */
function spyReader(): { readRange: RangeReader; ranges: Map<string, [number, number][]> } {
  const inner = localRangeReader(root);
  const ranges = new Map<string, [number, number][]>();
  return {
    ranges,
    readRange: (b, k, start, end, etag) => {
      ranges.set(k, [...(ranges.get(k) ?? []), [start, end]]);
      return inner(b, k, start, end, etag);
    },
  };
}

describe('local engine: Parquet statistics pruning', () => {
  const slack = { lateS: 600, bufferS: 900, skewS: 60 };

  it(
    'reads only the footer of a Parquet object whose time statistics are outside the ' + 'range, and answers the same',
    async () => {
      // the objects around a range: keyed inside the arrival window, holding only records from before / after it
      const beforeKey = key('2026-11-27T09:50:00Z', 'parquet');
      const afterKey = key('2026-11-27T11:05:00Z', 'parquet');
      const insideKey = key('2026-11-27T10:30:00Z', 'parquet');
      const before = encodeParquet(run('2026-11-27T09:50:00', 600));
      await store.put(bucket, beforeKey, before);
      await store.put(bucket, afterKey, encodeParquet(run('2026-11-27T11:00:00', 300)));
      await store.put(bucket, insideKey, encodeParquet(run('2026-11-27T10:30:00', 10)));
      expect(before.byteLength).toBeGreaterThan(2 * FOOTER_FETCH_BYTES);

      const spy = spyReader();
      const options = { store, buckets: { raw: bucket, backup: bucket }, slack, readRange: spy.readRange };
      const { rows, stats } = await runLocalQuery(QUERIES.ohlc, ohlc, options);
      expect(rows).toEqual([
        { bucket_start: '2026-11-27T10:00:00.000Z', open: '100', high: '109', low: '100', close: '109', ticks: 10 },
      ]);
      expect(stats).toMatchObject({ objectsRead: 1, objectsPrunedByStatistics: 2, rowGroupsPruned: 0 });
      // nothing of the pruned objects was asked for but their last FOOTER_FETCH_BYTES
      for (const pruned of [beforeKey, afterKey]) {
        const size = (await store.head(bucket, pruned))?.size ?? 0;
        expect(spy.ranges.get(pruned)).toEqual([[size - FOOTER_FETCH_BYTES, size]]);
      }
      // bytes are counted honestly: two footers plus the whole small object (its tail holds all of it)
      const insideSize = (await store.head(bucket, insideKey))?.size ?? 0;
      expect(insideSize).toBeLessThan(FOOTER_FETCH_BYTES);
      expect(stats.bytesRead).toBe(2 * FOOTER_FETCH_BYTES + insideSize);

      // one object at a time: after the first footer, tails are sized to the footers seen (plus a margin)
      const oneByOne = spyReader();
      const sequential = await runLocalQuery(QUERIES.ohlc, ohlc, {
        ...options,
        readRange: oneByOne.readRange,
        readAhead: 1,
      });
      expect(sequential.rows).toEqual(rows);
      expect(sequential.stats.objectsPrunedByStatistics).toBe(2);
      const afterSize = (await store.head(bucket, afterKey))?.size ?? 0;
      const [[start, end] = [0, 0]] = oneByOne.ranges.get(afterKey) ?? [];
      expect(end).toBe(afterSize);
      expect(end - start).toBeLessThan(FOOTER_FETCH_BYTES);
      expect(oneByOne.ranges.get(afterKey)).toHaveLength(1);

      const baseline = await runLocalQuery(QUERIES.ohlc, ohlc, { ...options, statisticsPruning: false });
      expect(baseline.rows).toEqual(rows);
      expect(baseline.stats).toMatchObject({ objectsRead: 3, objectsPrunedByStatistics: 0 });
      expect(baseline.stats.bytesRead).toBeGreaterThan(stats.bytesRead + before.byteLength - FOOTER_FETCH_BYTES);
    },
  );

  it(
    'reads an object whose statistics are missing or too truncated to rule it out ' + '(never skips on doubt)',
    async () => {
      // the same records (11:00:00-11:04:59, all after the range) three ways; only whole statistics can rule them out
      const records = run('2026-11-27T11:00:00', 300);
      const late = tick('2026-11-27T10:59:59', '555'); // a record in range, in the object without statistics
      const whole = key('2026-11-27T11:05:00Z', 'parquet');
      const truncated = key('2026-11-27T11:05:01Z', 'parquet');
      const none = key('2026-11-27T11:05:02Z', 'parquet');
      await store.put(bucket, whole, parquet(records, { statisticsTruncateLength: 64 }));
      await store.put(bucket, truncated, parquet(records, { statisticsTruncateLength: 12 }));
      await store.put(bucket, none, parquet([...records, late], { statistics: false }));

      const spy = spyReader();
      const { rows, stats } = await runLocalQuery(QUERIES.ohlc, ohlc, {
        store,
        buckets: { raw: bucket, backup: bucket },
        slack,
        readRange: spy.readRange,
      });
      expect(rows).toEqual([
        { bucket_start: '2026-11-27T10:00:00.000Z', open: '555', high: '555', low: '555', close: '555', ticks: 1 },
      ]);
      expect(stats).toMatchObject({ objectsRead: 2, objectsPrunedByStatistics: 1 });
      const size = async (k: string) => (await store.head(bucket, k))?.size ?? 0;
      expect(spy.ranges.get(whole)).toEqual([[(await size(whole)) - FOOTER_FETCH_BYTES, await size(whole)]]);
      for (const k of [truncated, none]) {
        // read past the footer: a range starting before the tail (the data pages)
        const tailStart = (await size(k)) - FOOTER_FETCH_BYTES;
        expect(tailStart).toBeGreaterThan(0);
        expect(
          spy.ranges.get(k)?.some(([start]) => start < tailStart),
          k,
        ).toBe(true);
      }
    },
  );

  it('skips row groups within an object the same way, and reads the rest', async () => {
    // 09:55:00-10:04:59 in row groups of 100 rows: the first three are before the range
    const spanning = key('2026-11-27T10:05:00Z', 'parquet');
    await store.put(
      bucket,
      spanning,
      parquet(run('2026-11-27T09:55:00', 600), { rowGroupSize: 100, statisticsTruncateLength: 64 }),
    );
    const options = { store, buckets: { raw: bucket, backup: bucket }, slack };
    const { rows, stats } = await runLocalQuery(QUERIES.ohlc, ohlc, options);
    expect(rows).toEqual([
      { bucket_start: '2026-11-27T10:00:00.000Z', open: '400', high: '699', low: '400', close: '699', ticks: 300 },
    ]);
    expect(stats).toMatchObject({ objectsRead: 1, objectsPrunedByStatistics: 0, rowGroupsPruned: 3, records: 300 });
    const baseline = await runLocalQuery(QUERIES.ohlc, ohlc, { ...options, statisticsPruning: false });
    expect(baseline.rows).toEqual(rows);
    expect(baseline.stats).toMatchObject({ rowGroupsPruned: 0, records: 600 });
    expect(baseline.stats.bytesRead).toBeGreaterThan(stats.bytesRead);
  });

  it('reads a .parquet key that is not Parquet by its content, and Parquet without a reader whole', async () => {
    await store.put(bucket, key('2026-11-27T10:20:00Z', 'parquet'), encodeNdjson([tick('2026-11-27T10:20:00', '7')]));
    const pq = encodeParquet(run('2026-11-27T09:50:00', 600));
    await store.put(bucket, key('2026-11-27T09:50:00Z', 'parquet'), pq);
    const { rows, stats } = await runLocalQuery(QUERIES.ohlc, ohlc, {
      store,
      buckets: { raw: bucket, backup: bucket },
      slack,
    });
    expect(rows).toEqual([
      { bucket_start: '2026-11-27T10:00:00.000Z', open: '7', high: '7', low: '7', close: '7', ticks: 1 },
    ]);
    expect(stats).toMatchObject({
      objectsRead: 1,
      objectsPrunedByStatistics: 1,
      formats: { ndjson: 1, 'ndjson-gzip': 0, parquet: 0 },
    });

    // a store the engine has no ranged reader for: every byte of every object
    const plain: ObjectStore = {
      put: (...a) => store.put(...a),
      get: (...a) => store.get(...a),
      getStream: (...a) => store.getStream(...a),
      getChunks: (...a) => store.getChunks(...a),
      head: (...a) => store.head(...a),
      copy: (...a) => store.copy(...a),
      list: (...a) => store.list(...a),
      listAll: (...a) => store.listAll(...a),
      delete: (...a) => store.delete(...a),
    };
    const whole = await runLocalQuery(QUERIES.ohlc, ohlc, {
      store: plain,
      buckets: { raw: bucket, backup: bucket },
      slack,
    });
    expect(whole.rows).toEqual(rows);
    expect(whole.stats).toMatchObject({ objectsRead: 2, objectsPrunedByStatistics: 0 });
    expect(whole.stats.bytesRead).toBeGreaterThanOrEqual(pq.byteLength);
  });
});
