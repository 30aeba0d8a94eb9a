import { LocalObjectStore } from '@btc-etl/object-store';
import { encodeNdjson, type PriceTick } from '@btc-etl/price-schema';
import { okTick } from '@btc-etl/price-schema/testing';
import { buildFirehoseKey } from '@btc-etl/s3-keys';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSilver } from '../../test/silver.fixture';
import { loadConfig } from '../config/query.config';
import type { LayerName } from '../engines/layer';
import type { LocalQueryStats } from '../engines/local.engine';
import { runQuery, type QueryDeps } from '../query.runner';
import { dashboardData, type RunNamed } from './dashboard.api';

// Why the 1d view used to read 120 days of raw: it asks for 120 daily candles (WINDOW_S['1d']), and raw is foldered
// by arrival hour, so every object of every hour of the window was listed and read on each refresh. Through the
// silver layer (the default, `auto`) it reads the compacted partitions and only the raw hours past the watermark.
const NOW = Date.parse('2026-11-27T12:00:30Z');
const DAYS = 120;
const HOUR = 3_600_000;
const EVERY_H = 6; // one raw object (two ticks) per 6 hours of the window: 480 objects
let root: string;
let rawObjects = 0;
let rawAfterWatermark = 0;
const watermark = new Date(NOW - (NOW % HOUR) - 2 * HOUR); // 10:00: the compactor is two hours behind

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'dashboard-silver-'));
  const store = new LocalObjectStore({ root });
  const compacted: PriceTick[] = [];
  const times: number[] = [];
  for (let t = NOW - (NOW % HOUR) - DAYS * 24 * HOUR; t < NOW - HOUR; t += EVERY_H * HOUR) times.push(t);
  times.push(NOW - (NOW % HOUR) - HOUR / 2); // 11:30, after the watermark
  for (const t of times) {
    const at = (ms: number) => new Date(ms).toISOString();
    const ticks = [0, 1].map((i) =>
      okTick({
        scheduled_time: at(t + i * 1000),
        exchange_time: at(t + i * 1000 + 250),
        ingest_time: at(t + i * 1000 + 300),
        price: `${97000 + ((t / HOUR) % 500)}.${i}5`,
      }),
    );
    const arrival = new Date(t + 2000);
    await store.put('btc-etl-raw', buildFirehoseKey({ streamName: 'btc-etl-ticks', arrival }), encodeNdjson(ticks));
    rawObjects++;
    if (arrival.getTime() >= watermark.getTime()) rawAfterWatermark++;
    else compacted.push(...ticks);
  }
  // the last objects (arrived from 10:00 on) are not compacted yet
  await writeSilver(store, 'btc-etl-silver', compacted, { rawCompleteBefore: watermark });
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function view(layer: LayerName) {
  const config = loadConfig({ DATA_DIR: root, QUERY_LAYER: layer });
  const store = new LocalObjectStore({ root: config.DATA_DIR });
  const deps: QueryDeps = {
    config,
    store: () => store,
    athena: () => {
      throw new Error('the dashboard never uses Athena');
    },
  };
  const stats = new Map<string, LocalQueryStats>();
  const run: RunNamed = async (name, params) => {
    const result = await runQuery(name, params, 'local', deps);
    if (result.stats.engine === 'local') stats.set(name, result.stats);
    return { rows: result.rows, badRecords: result.stats.engine === 'local' ? result.stats.badRecords : 0 };
  };
  const data = await dashboardData({ product: 'BTC-USD', interval: '1d' }, NOW, run);
  return { data, ohlc: stats.get('ohlc') as LocalQueryStats };
}

describe('dashboard 1d view', () => {
  it('reads the 120 days from silver and only the raw objects past the watermark, with the same candles', async () => {
    const raw = await view('raw');
    const auto = await view('auto');

    expect(raw.ohlc.objectsRead).toBe(rawObjects); // the old way: every raw object of 120 days
    expect(auto.data.candles).toEqual(raw.data.candles);
    expect(auto.data.candles).toHaveLength(DAYS + 1);
    expect(auto.ohlc.layer).toBe('auto');
    expect(auto.ohlc.objectsRead - auto.ohlc.silverObjectsRead).toBe(rawAfterWatermark);
    expect(rawAfterWatermark).toBe(1); // the 11:30 object: the part of raw not compacted yet is still read
    // raw hours listed: only those from the watermark on (10:00 to the end of the arrival window)
    const rawPrefixes = auto.ohlc.prefixes.filter((p) => p.startsWith('btc-etl-raw/'));
    expect(rawPrefixes.length).toBeLessThanOrEqual(4);
    expect(raw.ohlc.prefixes.length).toBeGreaterThan(DAYS * 24);
  });
});
