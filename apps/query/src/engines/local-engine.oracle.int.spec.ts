import { LocalObjectStore } from '@btc-etl/object-store';
import { parseFirehoseKey } from '@btc-etl/s3-keys';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckOracle } from '../../test/duckdb.oracle';
import { generateObjects, writeObjectsToDir, type GeneratedObject } from '../../test/raw-data.generator';
import { recordsOf, writeSilver } from '../../test/silver.fixture';
import { INTERVALS } from '../queries/query.params';
import { QUERIES } from '../queries/query.registry';
import type { ResultRow } from '../queries/query.types';
import { runLocalQuery, type LocalEngineOptions } from './local.engine';

// Six hours of two products with misses, holes, late arrivals, duplicates and bad lines; the questions ask about
// the middle of it, so pruning and the arrival slack are exercised at both ends.
const START = new Date('2026-11-27T00:00:00Z');
const FROM = '2026-11-27T00:30:00';
const TO = '2026-11-27T05:00:00';
const NOW = Date.parse('2026-11-27T06:10:00Z') / 1000;
const iso = (t: string) => `${t}Z`;

let root: string;
let oracle: DuckOracle;
const bucket = { ndjson: 'raw-ndjson', parquet: 'raw-parquet', backup: 'backup-ndjson', silver: 'silver' };

function options(raw: string, backup = bucket.backup, bufferS = 300): LocalEngineOptions {
  return {
    store: new LocalObjectStore({ root }),
    buckets: { raw, backup },
    slack: { lateS: 600, bufferS, skewS: 60 },
  };
}

/** Compare rows, doubles to 1e-9 relative (summing order differs between engines), everything else exactly. */
function expectSameRows(actual: ResultRow[], expected: Record<string, unknown>[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    const want = expected[i] ?? {};
    for (const [k, v] of Object.entries(row)) {
      const w = want[k];
      if (typeof v === 'number' && !Number.isInteger(v)) expect(v, `row ${i} ${k}`).toBeCloseTo(w as number, 6);
      else expect(v, `row ${i} ${k}`).toEqual(w ?? null);
    }
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'query-oracle-'));
  const common = {
    start: START,
    seconds: 6 * 3600,
    products: ['BTC-USD', 'ETH-USD'],
    missRate: 0.02,
    holeRate: 0.002,
    dupRate: 0.01,
    lateRate: 0.01,
  };
  const ndjson: GeneratedObject[] = [...generateObjects({ ...common, seed: 7, badObjectRate: 0.2 })];
  writeObjectsToDir(root, bucket.ndjson, ndjson);
  // the backup lags: objects that arrived in the last 50 minutes are not copied yet
  const cutoff = Date.parse('2026-11-27T05:10:00Z');
  writeObjectsToDir(
    root,
    bucket.backup,
    ndjson.filter((o) => parseFirehoseKey(o.key).arrival.getTime() < cutoff),
  );
  writeObjectsToDir(
    root,
    bucket.parquet,
    generateObjects({ ...common, seed: 11, format: 'parquet', objectSeconds: 900 }),
  );
  // silver compacted from the NDJSON bucket (every record, so the hour after `to` is complete too)
  await writeSilver(new LocalObjectStore({ root }), bucket.silver, recordsOf(ndjson), {
    rawCompleteBefore: new Date('2026-11-27T07:00:00Z'),
  });
  oracle = await DuckOracle.open(1);
  const glob = (b: string) => join(root, b, 'raw', '*', '*', '*', '*', '*');
  await oracle.silverSource('sv', join(root, bucket.silver, 'silver', 'ticks', '*', '*', '*', '*.parquet'));
  await oracle.source('nd', glob(bucket.ndjson), 'ndjson');
  await oracle.source('pq', glob(bucket.parquet), 'parquet');
  await oracle.source('bk', glob(bucket.backup), 'ndjson');
}, 120_000);

afterAll(() => {
  oracle?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('local engine over silver vs DuckDB over the same silver files', () => {
  const silver = (): LocalEngineOptions => ({
    ...options(bucket.ndjson),
    silver: { bucket: bucket.silver, layer: 'silver' },
  });
  const from = FROM.replace('T', ' ');
  const to = TO.replace('T', ' ');

  it.each(Object.keys(INTERVALS) as (keyof typeof INTERVALS)[])('ohlc %s matches', async (interval) => {
    const params = QUERIES.ohlc.params.parse({ product: 'BTC-USD', interval, from: iso(FROM), to: iso(TO) });
    const { rows, stats } = await runLocalQuery(QUERIES.ohlc, params, silver());
    expect(rows.length).toBeGreaterThan(0);
    expect(stats.silverObjectsRead).toBe(stats.objectsRead);
    expectSameRows(rows, await oracle.ohlc('sv', 'BTC-USD', INTERVALS[interval], from, to));
  });

  it('summary, latest, gaps and completeness match', async () => {
    const range = { from: iso(FROM), to: iso(TO) };
    const summary = await runLocalQuery(
      QUERIES.summary,
      QUERIES.summary.params.parse({ product: 'ETH-USD', ...range }),
      silver(),
    );
    expectSameRows(summary.rows, await oracle.summary('sv', 'ETH-USD', from, to));
    const latest = await runLocalQuery(
      QUERIES.latest,
      QUERIES.latest.params.parse({ ...range, now: new Date(NOW * 1000) }),
      silver(),
    );
    expect(latest.rows).toHaveLength(2);
    expectSameRows(latest.rows, await oracle.latest('sv', from, to, NOW));
    const gapsParams = QUERIES.gaps.params.parse({ product: 'BTC-USD', ...range });
    const gaps = await runLocalQuery(QUERIES.gaps, gapsParams, silver());
    expect(gaps.rows.some((r) => r.reason !== 'no_record')).toBe(true);
    expectSameRows(gaps.rows, await oracle.gaps('sv', 'BTC-USD', from, to));
    const completeness = await runLocalQuery(QUERIES.completeness, gapsParams, silver());
    expectSameRows(completeness.rows, await oracle.completeness('sv', 'BTC-USD', from, to));
  });

  it('the silver files hold the raw records: DuckDB answers the same over both', async () => {
    expectSameRows(
      (await oracle.ohlc('sv', 'ETH-USD', 60, from, to)) as ResultRow[],
      await oracle.ohlc('nd', 'ETH-USD', 60, from, to),
    );
  });
});

describe('local engine vs DuckDB on generated raw data', () => {
  for (const [format, name, raw, bufferS] of [
    ['NDJSON', 'nd', bucket.ndjson, 300],
    ['Parquet', 'pq', bucket.parquet, 900],
  ] as const) {
    for (const interval of Object.keys(INTERVALS) as (keyof typeof INTERVALS)[]) {
      it(`ohlc ${interval} over ${format} matches`, async () => {
        const params = QUERIES.ohlc.params.parse({ product: 'BTC-USD', interval, from: iso(FROM), to: iso(TO) });
        const { rows, stats } = await runLocalQuery(QUERIES.ohlc, params, options(raw, undefined, bufferS));
        const expected = await oracle.ohlc(
          name,
          'BTC-USD',
          INTERVALS[interval],
          FROM.replace('T', ' '),
          TO.replace('T', ' '),
        );
        expect(rows.length).toBeGreaterThan(0);
        expectSameRows(rows, expected);
        expect(stats.duplicates).toBeGreaterThan(0);
      });
    }

    it(`summary over ${format} matches`, async () => {
      const params = QUERIES.summary.params.parse({ product: 'ETH-USD', from: iso(FROM), to: iso(TO) });
      const { rows } = await runLocalQuery(QUERIES.summary, params, options(raw, undefined, bufferS));
      expectSameRows(rows, await oracle.summary(name, 'ETH-USD', FROM.replace('T', ' '), TO.replace('T', ' ')));
    });

    it(`latest over ${format} matches`, async () => {
      const params = QUERIES.latest.params.parse({ from: iso(FROM), to: iso(TO), now: new Date(NOW * 1000) });
      const { rows } = await runLocalQuery(QUERIES.latest, params, options(raw, undefined, bufferS));
      expect(rows.map((r) => r.product_id)).toEqual(['BTC-USD', 'ETH-USD']);
      expectSameRows(rows, await oracle.latest(name, FROM.replace('T', ' '), TO.replace('T', ' '), NOW));
    });

    it(`gaps and completeness over ${format} match`, async () => {
      const params = QUERIES.gaps.params.parse({ product: 'BTC-USD', from: iso(FROM), to: iso(TO) });
      const gaps = await runLocalQuery(QUERIES.gaps, params, options(raw, undefined, bufferS));
      expect(gaps.rows.some((r) => r.reason === 'no_record')).toBe(true);
      expect(gaps.rows.some((r) => r.reason !== 'no_record')).toBe(true);
      expectSameRows(gaps.rows, await oracle.gaps(name, 'BTC-USD', FROM.replace('T', ' '), TO.replace('T', ' ')));
      const completeness = await runLocalQuery(QUERIES.completeness, params, options(raw, undefined, bufferS));
      expect(completeness.rows).toHaveLength(5);
      expectSameRows(
        completeness.rows,
        await oracle.completeness(name, 'BTC-USD', FROM.replace('T', ' '), TO.replace('T', ' ')),
      );
    });
  }

  it('freshness of raw and backup matches, and the backup is behind', async () => {
    const params = QUERIES.freshness.params.parse({
      from: '2026-11-27T04:00:00Z',
      to: '2026-11-27T06:10:00Z',
      now: new Date(NOW * 1000),
    });
    const { rows } = await runLocalQuery(QUERIES.freshness, params, options(bucket.ndjson));
    expectSameRows(
      rows,
      await oracle.freshness({ backup: 'bk', raw: 'nd' }, '2026-11-27 04:00:00', '2026-11-27 06:10:00', NOW),
    );
    const age = (store: string) => rows.find((r) => r.store === store && r.product_id === 'BTC-USD')?.age_s as number;
    expect(age('backup')).toBeGreaterThan(age('raw') + 40 * 60);
  });

  it('Parquet statistics pruning changes no answer of any query, and reads fewer bytes', async () => {
    const ranges = [
      [iso(FROM), iso(TO)],
      ['2026-11-27T01:07:13Z', '2026-11-27T02:53:41Z'],
      ['2026-11-27T03:00:00Z', '2026-11-27T04:00:00Z'],
      ['2026-11-27T05:44:59Z', '2026-11-27T06:30:00Z'],
    ] as const;
    let pruned = 0;
    let bytes = 0;
    let baselineBytes = 0;
    for (const [from, to] of ranges) {
      const now = new Date(NOW * 1000);
      const cases = [
        [QUERIES.ohlc, { product: 'BTC-USD', interval: '1m', from, to }],
        [QUERIES.summary, { product: 'ETH-USD', from, to }],
        [QUERIES.latest, { from, to, now }],
        [QUERIES.gaps, { product: 'BTC-USD', from, to }],
        [QUERIES.completeness, { product: 'ETH-USD', from, to }],
        [QUERIES.freshness, { from, to, now }],
      ] as const;
      for (const [query, input] of cases) {
        const definition = query as typeof QUERIES.ohlc;
        const params = definition.params.parse(input);
        const withStats = await runLocalQuery(definition, params, options(bucket.parquet, bucket.parquet, 900));
        const without = await runLocalQuery(definition, params, {
          ...options(bucket.parquet, bucket.parquet, 900),
          statisticsPruning: false,
        });
        expect(without.rows.length, `${query.name} ${from}..${to}`).toBeGreaterThan(0);
        expect(withStats.rows, `${query.name} ${from}..${to}`).toEqual(without.rows);
        pruned += withStats.stats.objectsPrunedByStatistics;
        bytes += withStats.stats.bytesRead;
        baselineBytes += without.stats.bytesRead;
      }
    }
    expect(pruned).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(baselineBytes);
  });

  it('reads only the pruned hours and reports bad lines', async () => {
    const params = QUERIES.ohlc.params.parse({
      product: 'BTC-USD',
      interval: '1m',
      from: '2026-11-27T02:00:00Z',
      to: '2026-11-27T03:00:00Z',
    });
    const { stats } = await runLocalQuery(QUERIES.ohlc, params, options(bucket.ndjson));
    // arrival window [01:54, 03:10]: hours 01, 02 and 03 are listed, most of 01 and 03 skipped by key time
    expect(stats.prefixes).toEqual(['01', '02', '03'].map((h) => `${bucket.ndjson}/raw/2026/11/27/${h}/`));
    expect(stats.objectsSkipped).toBeGreaterThan(0);
    expect(stats.objectsRead).toBeLessThanOrEqual(17);
    const all = await runLocalQuery(
      QUERIES.ohlc,
      QUERIES.ohlc.params.parse({ ...params, from: '2026-11-26T23:00:00Z', to: '2026-11-27T07:00:00Z' }),
      options(bucket.ndjson),
    );
    expect(all.stats.badRecords).toBeGreaterThan(0);
    expect(all.stats.badSamples[0]).toMatchObject({
      bucket: bucket.ndjson,
      line: expect.any(Number),
      message: expect.any(String),
    });
  });
});
