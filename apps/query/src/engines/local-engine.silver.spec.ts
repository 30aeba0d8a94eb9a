import { LocalObjectStore } from '@btc-etl/object-store';
import { encodeNdjson } from '@btc-etl/price-schema';
import { okTick } from '@btc-etl/price-schema/testing';
import { buildFirehoseKey, silverKey } from '@btc-etl/s3-keys';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateObjects, putObjects, type GeneratedObject } from '../../test/raw-data.generator';
import { arrivalHourOf, recordsOf, writeSilver, writeWatermark } from '../../test/silver.fixture';
import { QUERIES, type QueryName } from '../queries/query.registry';
import type { QueryDefinition, ResultRow } from '../queries/query.types';
import type { LayerName } from './layer';
import { runLocalQuery, type LocalEngineOptions } from './local.engine';
import { localRangeReader } from './range.reader';

const RAW = 'btc-etl-raw';
const SILVER = 'btc-etl-silver';
const START = new Date('2026-11-27T00:00:00Z');
const HOURS = 5;
const slack = { lateS: 600, bufferS: 300, skewS: 60 };
const at = (h: number, m = 0) => new Date(START.getTime() + h * 3_600_000 + m * 60_000).toISOString();

let root: string;
let store: LocalObjectStore;
let objects: GeneratedObject[];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'query-silver-'));
  store = new LocalObjectStore({ root });
  objects = [
    ...generateObjects({
      start: START,
      seconds: HOURS * 3600,
      products: ['BTC-USD', 'ETH-USD'],
      seed: 13,
      missRate: 0.02,
      dupRate: 0.01,
      lateRate: 0.01,
    }),
  ];
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const options = (layer?: LayerName): LocalEngineOptions => ({
  store,
  buckets: { raw: RAW, backup: RAW },
  slack,
  ...(layer ? { silver: { bucket: SILVER, layer } } : {}),
});

async function run(name: QueryName, params: Record<string, unknown>, layer?: LayerName) {
  const definition = QUERIES[name] as unknown as QueryDefinition<unknown, ResultRow>;
  return runLocalQuery(definition, definition.params.parse(params), options(layer));
}

/**
 * Rows equal, doubles (summary's mean, stddev, return) to 1e-9 relative: raw is read in arrival order, silver in event
 * order, and floating-point sums depend on the order. Everything else, prices and times included, exactly.
 */
function expectSameRows(got: ResultRow[], want: ResultRow[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((row, i) => {
    const expected = want[i] as ResultRow;
    expect(Object.keys(row)).toEqual(Object.keys(expected));
    for (const [k, v] of Object.entries(row)) {
      const w = expected[k];
      if (typeof v === 'number' && typeof w === 'number' && !Number.isInteger(w)) {
        expect(Math.abs(v - w), `row ${i} ${k}`).toBeLessThanOrEqual(Math.abs(w) * 1e-9);
      } else expect(v, `row ${i} ${k}`).toEqual(w);
    }
  });
}

/** Every query over the middle of the data: hours 1-4, so late copies and the slack both matter. */
const CASES: [QueryName, Record<string, unknown>][] = [
  ['ohlc', { product: 'BTC-USD', interval: '1m', from: at(1), to: at(4) }],
  ['ohlc', { product: 'ETH-USD', interval: '1h', from: at(0, 30), to: at(4, 30) }],
  ['latest', { product: '*', from: at(1), to: at(3, 17), now: at(3, 20) }],
  ['gaps', { product: 'BTC-USD', from: at(1), to: at(4) }],
  ['completeness', { product: 'ETH-USD', from: at(1), to: at(4) }],
  ['summary', { product: 'BTC-USD', from: at(0), to: at(5) }],
];

describe('local engine: silver layer answers as raw does', () => {
  it.each(CASES)('%s %j: silver (all compacted) and auto equal raw', async (name, params) => {
    await putObjects(store, RAW, objects);
    await writeSilver(store, SILVER, recordsOf(objects), { rawCompleteBefore: new Date(at(HOURS + 1)) });

    const raw = await run(name, params);
    const silver = await run(name, params, 'silver');
    const auto = await run(name, params, 'auto');

    expect(raw.rows.length).toBeGreaterThan(0);
    expectSameRows(silver.rows, raw.rows);
    expectSameRows(auto.rows, raw.rows);
    expect(silver.stats).toMatchObject({ layer: 'silver', duplicates: 0 });
    // ohlc has a typed path (silver's columns as numbers); the other queries take the records as strings
    expect(silver.stats.silverTypedRowGroups > 0).toBe(name === 'ohlc');
    expect(silver.stats.silverObjectsRead).toBe(silver.stats.objectsRead);
    // everything is compacted: auto lists no raw hour and reads silver files only
    expect(auto.stats.prefixes.filter((p) => p.startsWith(`${RAW}/`))).toEqual([]);
    expect(auto.stats.objectsRead).toBe(auto.stats.silverObjectsRead);
  });

  it.each(CASES)('%s %j: auto with hours 0-2 compacted (watermark 03:00) equals raw', async (name, params) => {
    await putObjects(store, RAW, objects);
    const watermark = Date.parse(at(3)) / 1000;
    const compacted = objects.filter((o) => arrivalHourOf(o.key) < watermark);
    await writeSilver(store, SILVER, recordsOf(compacted), { rawCompleteBefore: new Date(watermark * 1000) });

    const raw = await run(name, params);
    const auto = await run(name, params, 'auto');

    expectSameRows(auto.rows, raw.rows);
    expect(auto.stats.rawCompleteBefore).toBe(at(3));
    const rawHours = auto.stats.prefixes.filter((p) => p.startsWith(`${RAW}/`));
    expect(rawHours.every((p) => p >= `${RAW}/raw/2026/11/27/03/`)).toBe(true);
  });

  it('silver alone misses what is not compacted yet; auto takes it from raw', async () => {
    await putObjects(store, RAW, objects);
    const watermark = Date.parse(at(2)) / 1000;
    await writeSilver(store, SILVER, recordsOf(objects.filter((o) => arrivalHourOf(o.key) < watermark)), {
      rawCompleteBefore: new Date(watermark * 1000),
    });
    const params = { product: 'BTC-USD', interval: '1h', from: at(0), to: at(HOURS) };
    const raw = await run('ohlc', params);
    const silver = await run('ohlc', params, 'silver');
    const auto = await run('ohlc', params, 'auto');
    expect(auto.rows).toEqual(raw.rows);
    const ticks = (rows: ResultRow[]) => rows.reduce((n, r) => n + Number(r.ticks), 0);
    expect(ticks(silver.rows)).toBeLessThan(ticks(raw.rows));
  });

  it('auto with no watermark yet reads every raw hour and the partitions that exist', async () => {
    await putObjects(store, RAW, objects);
    await writeSilver(store, SILVER, recordsOf(objects.filter((o) => arrivalHourOf(o.key) < Date.parse(at(1)) / 1000)));
    const params = { product: 'BTC-USD', interval: '1m', from: at(0), to: at(2) };
    const raw = await run('ohlc', params);
    const auto = await run('ohlc', params, 'auto');
    expect(auto.rows).toEqual(raw.rows);
    expect(auto.stats.rawCompleteBefore).toBeUndefined();
    expect(auto.stats.duplicates).toBeGreaterThan(0); // the compacted records came from raw too, counted once
  });

  it('auto without a silver bucket is raw', async () => {
    await putObjects(store, RAW, objects);
    const params = { product: 'BTC-USD', interval: '1m', from: at(0), to: at(2) };
    const auto = await run('ohlc', params, 'auto');
    expect(auto.rows).toEqual((await run('ohlc', params)).rows);
    expect(auto.stats).toMatchObject({ silverObjectsRead: 0 });
    expect(auto.stats.rawCompleteBefore).toBeUndefined();
  });

  it('finds a record that arrived hours late in its event hour, where raw needs a wider slack', async () => {
    const key = (arrival: string) => buildFirehoseKey({ streamName: 'btc-etl-ticks', arrival: new Date(arrival) });
    const tick = (second: string, price: string) =>
      okTick({ scheduled_time: `${second}.000Z`, exchange_time: `${second}.250000Z`, price });
    const onTime = [tick('2026-11-27T10:00:00', '100'), tick('2026-11-27T10:30:00', '101')];
    const late = [tick('2026-11-27T10:45:00', '150')]; // replayed from a spool at 14:10
    await store.put(RAW, key('2026-11-27T10:00:01Z'), encodeNdjson(onTime));
    await store.put(RAW, key('2026-11-27T14:10:00Z'), encodeNdjson(late));
    // the compactor merged the late object into hour 10 on its 15:00 run
    await writeSilver(store, SILVER, [...onTime, ...late], { rawCompleteBefore: new Date('2026-11-27T15:00:00Z') });

    const params = { product: 'BTC-USD', interval: '1h', from: '2026-11-27T10:00:00Z', to: '2026-11-27T11:00:00Z' };
    const raw = await run('ohlc', params);
    const auto = await run('ohlc', params, 'auto');
    expect(raw.rows).toMatchObject([{ ticks: 2, high: '101' }]);
    expect(auto.rows).toMatchObject([{ ticks: 3, high: '150', close: '150' }]);
  });

  it('reads only the files a manifest names, never a leftover in the partition folder', async () => {
    const tick = okTick({ scheduled_time: '2026-11-27T10:00:00.000Z', exchange_time: '2026-11-27T10:00:00.5Z' });
    await writeSilver(store, SILVER, [tick], { rawCompleteBefore: new Date('2026-11-27T12:00:00Z') });
    // a crashed run's file: another record, never named by the manifest
    const [leftover] = await writeSilver(
      store,
      'scratch',
      [okTick({ scheduled_time: '2026-11-27T10:00:01.000Z', exchange_time: '2026-11-27T10:00:01Z', price: '1' })],
      { fileName: 'g000002-crashed.parquet' },
    );
    const { body } = await store.get('scratch', leftover as string);
    await store.put(
      SILVER,
      silverKey({ productId: 'BTC-USD', hour: new Date('2026-11-27T10:00:00Z'), name: 'g000002-crashed.parquet' }),
      body,
    );
    const params = { product: 'BTC-USD', interval: '1h', from: '2026-11-27T10:00:00Z', to: '2026-11-27T11:00:00Z' };
    const silver = await run('ohlc', params, 'silver');
    expect(silver.rows).toMatchObject([{ ticks: 1, open: tick.price }]);
    expect(silver.stats.silverObjectsRead).toBe(1);
  });

  it('keeps every digit and the written form of prices and times', async () => {
    const tick = okTick({
      scheduled_time: '2026-11-27T10:00:00Z',
      exchange_time: '2026-11-27T10:00:00.120000Z',
      price: '97123.4500',
    });
    await writeSilver(store, SILVER, [tick], { rawCompleteBefore: new Date('2026-11-27T12:00:00Z') });
    const latest = await run(
      'latest',
      { product: 'BTC-USD', from: '2026-11-27T10:00:00Z', to: '2026-11-27T11:00:00Z', now: '2026-11-27T11:00:00Z' },
      'silver',
    );
    expect(latest.rows).toEqual([
      { product_id: 'BTC-USD', price: '97123.4500', tick_time: '2026-11-27T10:00:00.120000Z', age_s: 3600 },
    ]);
  });

  it('orders ticks of the same event time as raw does (by record id), without reading the record ids', async () => {
    const same = '2026-11-27T10:00:00.500000Z';
    const ticks = ['1', '2', '3', '4', '5'].map((price, i) =>
      okTick({ scheduled_time: `2026-11-27T10:00:0${i}.000Z`, exchange_time: same, price }),
    );
    const key = buildFirehoseKey({ streamName: 'btc-etl-ticks', arrival: new Date('2026-11-27T10:00:10Z') });
    await store.put(RAW, key, encodeNdjson(ticks));
    await writeSilver(store, SILVER, ticks, { rawCompleteBefore: new Date('2026-11-27T12:00:00Z') });
    const params = { product: 'BTC-USD', interval: '1m', from: '2026-11-27T10:00:00Z', to: '2026-11-27T10:01:00Z' };
    const raw = await run('ohlc', params);
    const silver = await run('ohlc', params, 'silver');
    expect(silver.rows).toEqual(raw.rows);
    const sorted = [...ticks].sort((a, b) => (a.record_id < b.record_id ? -1 : 1));
    expect(silver.rows).toMatchObject([{ open: sorted[0]?.price, close: sorted[4]?.price, ticks: 5 }]);
  });

  it.each(['1m', '15m', '1d'] as const)(
    'ohlc %s over small row groups (candles split across row groups and hour files) equals raw',
    async (interval) => {
      await putObjects(store, RAW, objects);
      await writeSilver(store, SILVER, recordsOf(objects), {
        rawCompleteBefore: new Date(at(HOURS + 1)),
        rowGroupSize: 97,
      });
      const params = { product: 'BTC-USD', interval, from: at(0, 30), to: at(4, 45) };
      const raw = await run('ohlc', params);
      const silver = await run('ohlc', params, 'silver');
      expect(silver.rows).toEqual(raw.rows);
      expect(silver.stats.silverTypedRowGroups).toBeGreaterThan(100);
    },
  );

  it(
    'auto: a minute split between silver and the raw past the watermark, its ties ' + 'and spellings as raw has them',
    async () => {
      const key = (arrival: string) => buildFirehoseKey({ streamName: 'btc-etl-ticks', arrival: new Date(arrival) });
      const tick = (time: string, price: string, due = time.slice(0, 8)) =>
        okTick({ scheduled_time: `2026-11-27T${due}.000Z`, exchange_time: `2026-11-27T${time}Z`, price });
      // arrived before the watermark (11:00): compacted into hour 10
      const early = [
        tick('10:59:10.5', '101.5'), // the high, first spelled '101.5'
        tick('10:59:20', '99.10'),
        tick('10:59:40.25', '99'), // equal to the low of the raw part below, and earlier
      ];
      // arrived after it: read from raw, same minute, and an equal time with another id
      const late = [
        tick('10:59:40.250000', '99.0', '10:59:41'), // another record of the same time
        tick('10:59:45', '101.50'), // equal to the high, later: the high stays '101.5'
        tick('10:59:59.999999', '100.25'),
        tick('11:00:00', '100.3'),
      ];
      await store.put(RAW, key('2026-11-27T10:59:41Z'), encodeNdjson(early));
      await store.put(RAW, key('2026-11-27T11:00:05Z'), encodeNdjson(late));
      await writeSilver(store, SILVER, early, { rawCompleteBefore: new Date('2026-11-27T11:00:00Z') });
      const params = { product: 'BTC-USD', interval: '1m', from: '2026-11-27T10:59:00Z', to: '2026-11-27T11:01:00Z' };
      const raw = await run('ohlc', params);
      const auto = await run('ohlc', params, 'auto');
      expect(auto.rows).toEqual(raw.rows);
      // the two records at 10:59:40.25 tie on time: the smaller record id is the low
      const low = [early[2], late[0]].sort((a, b) => ((a?.record_id ?? '') < (b?.record_id ?? '') ? -1 : 1))[0];
      expect(auto.rows[0]).toMatchObject({ open: '101.5', high: '101.5', low: low?.price, close: '100.25', ticks: 6 });
      expect(auto.stats.silverTypedRowGroups).toBe(1); // read typed, its record ids with it (raw records were read)
    },
  );

  it('auto: records of one event time in silver and in raw order by their ids, duplicates counted once', async () => {
    const key = (arrival: string) => buildFirehoseKey({ streamName: 'btc-etl-ticks', arrival: new Date(arrival) });
    const same = '2026-11-27T10:59:59.500000Z';
    const ticks = ['1', '2', '3', '4', '5', '6'].map((price, i) =>
      okTick({ scheduled_time: `2026-11-27T10:59:5${i}.000Z`, exchange_time: same, price }),
    );
    // ticks 0-3 arrived before the watermark (11:00) and are in silver; 3-5 arrived after it, 3 sent twice
    await store.put(RAW, key('2026-11-27T10:59:59.900Z'), encodeNdjson(ticks.slice(0, 4)));
    await store.put(RAW, key('2026-11-27T11:00:10Z'), encodeNdjson(ticks.slice(3)));
    await writeSilver(store, SILVER, ticks.slice(0, 4), { rawCompleteBefore: new Date('2026-11-27T11:00:00Z') });
    const params = { product: 'BTC-USD', interval: '1m', from: '2026-11-27T10:59:00Z', to: '2026-11-27T11:00:00Z' };
    const raw = await run('ohlc', params);
    const auto = await run('ohlc', params, 'auto');
    expect(auto.rows).toEqual(raw.rows);
    const sorted = [...ticks].sort((a, b) => (a.record_id < b.record_id ? -1 : 1));
    expect(auto.rows).toMatchObject([{ open: sorted[0]?.price, close: sorted[5]?.price, ticks: 6 }]);
    expect(auto.stats.duplicates).toBe(1);
    expect(auto.stats.silverTypedRowGroups).toBe(1);
  });

  it(
    'ohlc reads each silver file after the first in one ranged read (its tail takes ' + 'the column chunks too)',
    async () => {
      await writeSilver(store, SILVER, recordsOf(objects), { rawCompleteBefore: new Date(at(HOURS + 1)) });
      const reads: { key: string; start: number; end: number }[] = [];
      const ranged = localRangeReader(root);
      const params = QUERIES.ohlc.params.parse({ product: 'BTC-USD', interval: '1m', from: at(0), to: at(HOURS) });
      const { stats } = await runLocalQuery(QUERIES.ohlc, params, {
        ...options('silver'),
        readAhead: 1, // each tail is fetched after the file before it was read, as the size it learned
        readRange: (bucket, key, start, end, etag) => {
          reads.push({ key, start, end });
          return ranged(bucket, key, start, end, etag);
        },
      });
      expect(stats.silverObjectsRead).toBe(HOURS);
      const perFile = new Map<string, number>();
      for (const r of reads) perFile.set(r.key, (perFile.get(r.key) ?? 0) + 1);
      // the first two files (the second's tail is fetched ahead, before the first taught the size): footer, then two
      // runs of chunks; every later file: one read from its status chunk to its end
      expect([...perFile.values()]).toEqual([3, 3, ...new Array<number>(HOURS - 2).fill(1)]);
      // what the single reads fetch stays near what is needed: record_id (32 bytes a row) is never read
      const bytes = reads.reduce((n, r) => n + r.end - r.start, 0);
      expect(stats.records).toBeGreaterThan(HOURS * 3000);
      expect(bytes).toBeLessThan(stats.records * 32);
    },
  );

  it('counts no row without an ok status, even in a row group where no row is ok', async () => {
    // not a valid record (the compactor never writes one): the typed path must still skip it as the string path does
    const tick = { ...okTick({ exchange_time: '2026-11-27T10:00:00.5Z', price: '5' }), status: null as never };
    await writeSilver(store, SILVER, [tick], { rawCompleteBefore: new Date('2026-11-27T12:00:00Z') });
    const params = { product: 'BTC-USD', interval: '1m', from: '2026-11-27T10:00:00Z', to: '2026-11-27T11:00:00Z' };
    const silver = await run('ohlc', params, 'silver');
    expect(silver.stats.silverTypedRowGroups).toBe(1);
    expect(silver.rows).toEqual([]);
  });

  it('skips row groups and files whose event_time statistics are outside the range', async () => {
    await putObjects(store, RAW, objects);
    await writeSilver(store, SILVER, recordsOf(objects), { rawCompleteBefore: new Date(at(HOURS + 1)) });
    const params = { product: 'BTC-USD', interval: '1m', from: at(2, 10), to: at(2, 20) };
    const silver = await run('ohlc', params, 'silver');
    expect(silver.rows).toEqual((await run('ohlc', params)).rows);
    expect(silver.stats.silverObjectsRead).toBe(1); // the hour-2 partition only
    expect(silver.stats.records).toBeLessThan(3700);
  });

  it('names the file when a silver file is not readable', async () => {
    await writeWatermark(store, SILVER, new Date('2026-11-27T12:00:00Z'));
    const [key] = await writeSilver(store, SILVER, [
      okTick({ scheduled_time: '2026-11-27T10:00:00.000Z', exchange_time: '2026-11-27T10:00:00.100Z' }),
    ]);
    await store.put(SILVER, key as string, 'PAR1 not really parquet PAR1');
    const params = { product: 'BTC-USD', interval: '1h', from: '2026-11-27T10:00:00Z', to: '2026-11-27T11:00:00Z' };
    await expect(run('ohlc', params, 'silver')).rejects.toThrow(key as string);
  });
});
