import type { ObjectStore } from '@btc-etl/object-store';
import { MISS_REASONS, encodeNdjsonLine, encodeParquet, recordId, type PriceTick } from '@btc-etl/price-schema';
import { buildFirehoseKey } from '@btc-etl/s3-keys';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { seededRandom } from '@btc-etl/price-schema/testing';

/** Options of the synthetic raw bucket: one polled record per second and product, as the extractor writes them. */
export interface GenerateOptions {
  /** First due second (UTC). */
  start: Date;
  seconds: number;
  products?: string[];
  seed?: number;
  format?: 'ndjson' | 'parquet';
  /** Firehose buffering interval: one object per this many seconds of arrival. Default 300. */
  objectSeconds?: number;
  /** Share of due seconds recorded as `missed` (with a random reason). Default 0.01. */
  missRate?: number;
  /** Chance per second that a run of 1-20 seconds has no record at all. Default 0.001. */
  holeRate?: number;
  /** Share of records sent twice (the copy lands in a later object). Default 0.003. */
  dupRate?: number;
  /** Share of records that arrive late, by up to `maxLateS`. Default 0.002. */
  lateRate?: number;
  maxLateS?: number;
  /** Share of objects with a bad line in them (NDJSON only). Default 0. */
  badObjectRate?: number;
  streamName?: string;
}

export interface GeneratedObject {
  key: string;
  body: string | Uint8Array;
  records: number;
}

/** The seeded generator of the test data (mulberry32, from price-schema's testing door). */
export const prng = seededRandom;

const hex = (rand: () => number, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
};

const BAD_LINES = [
  '{"record_id":"0123", "truncated',
  'this is not json',
  // valid JSON, an ok record whose price is not a decimal: the schema rejects it
  '{"record_id":"ffffffffffffffffffffffffffffffff","product_id":"BTC-USD","source":"coinbase-exchange-ticker",' +
    '"status":"ok","price":"abc","exchange_time":"2026-11-27T00:00:00.000Z",' +
    '"scheduled_time":"2026-11-27T00:00:00.000Z","ingest_time":"2026-11-27T00:00:00.000Z","reason":null}',
];

interface Pending {
  minArrivalMs: number;
  lines: string[];
  ticks: PriceTick[];
  records: number;
}

/**
 * Objects as Firehose would write them for `seconds` due seconds from `start`: keys carry the arrival time of the
 * object's oldest record; records arrive ~0.3 s after their second, some late, some twice; some seconds are
 * missed (with a reason) or have no record at all; exchange times lag and sometimes repeat (no new trade).
 */
export function* generateObjects(options: GenerateOptions): Generator<GeneratedObject> {
  const rand = prng(options.seed ?? 1);
  const products = options.products ?? ['BTC-USD'];
  const format = options.format ?? 'ndjson';
  const objectMs = (options.objectSeconds ?? 300) * 1000;
  const missRate = options.missRate ?? 0.01;
  const holeRate = options.holeRate ?? 0.001;
  const dupRate = options.dupRate ?? 0.003;
  const lateRate = options.lateRate ?? 0.002;
  const maxLateMs = (options.maxLateS ?? 480) * 1000;
  const badObjectRate = options.badObjectRate ?? 0;
  const streamName = options.streamName ?? 'btc-etl-ticks';
  const startMs = options.start.getTime();
  const buckets = new Map<number, Pending>();
  const state = products.map((product, i) => ({
    product,
    cents: 9_700_000 + i * 1_000_00,
    lastExchange: '',
    lastPrice: '',
    hole: 0,
    trade: 1000,
  }));

  const place = (arrivalMs: number, line: string, tick: PriceTick) => {
    const index = Math.floor(arrivalMs / objectMs);
    let b = buckets.get(index);
    if (b === undefined) {
      b = { minArrivalMs: arrivalMs, lines: [], ticks: [], records: 0 };
      buckets.set(index, b);
    }
    b.minArrivalMs = Math.min(b.minArrivalMs, arrivalMs);
    if (format === 'ndjson') b.lines.push(line);
    else b.ticks.push(tick);
    b.records++;
  };
  function* flush(beforeIndex: number): Generator<GeneratedObject> {
    const ready = [...buckets.keys()].filter((k) => k < beforeIndex).sort((a, b) => a - b);
    for (const index of ready) {
      const b = buckets.get(index);
      buckets.delete(index);
      if (b === undefined) continue;
      const uuid = `${hex(rand, 8)}-${hex(rand, 4)}-4${hex(rand, 3)}-8${hex(rand, 3)}-${hex(rand, 12)}`;
      const key = buildFirehoseKey({
        streamName,
        arrival: new Date(b.minArrivalMs),
        uuid,
        ...(format === 'parquet' ? { extension: 'parquet' } : {}),
      });
      if (format === 'parquet') {
        yield { key, body: encodeParquet(b.ticks), records: b.records };
      } else {
        if (rand() < badObjectRate)
          b.lines.splice(
            Math.floor(rand() * b.lines.length),
            0,
            `${BAD_LINES[Math.floor(rand() * BAD_LINES.length)]}\n`,
          );
        yield { key, body: b.lines.join(''), records: b.records };
      }
    }
  }

  for (let s = 0; s < options.seconds; s++) {
    const dueMs = startMs + s * 1000;
    const scheduled = new Date(dueMs).toISOString();
    for (const p of state) {
      if (p.hole > 0) {
        p.hole--;
        continue;
      }
      if (rand() < holeRate) {
        p.hole = Math.floor(rand() * 20);
        continue;
      }
      let tick: PriceTick;
      const ingestMs = dueMs + 150 + Math.floor(rand() * 100);
      const ingest = new Date(ingestMs).toISOString();
      if (rand() < missRate) {
        const reason = MISS_REASONS[Math.floor(rand() * MISS_REASONS.length)] ?? 'timeout';
        tick = {
          record_id: recordId({ productId: p.product, source: 'coinbase-exchange-ticker', scheduledTime: scheduled }),
          product_id: p.product,
          source: 'coinbase-exchange-ticker',
          status: 'missed',
          price: null,
          exchange_time: null,
          scheduled_time: scheduled,
          ingest_time: ingest,
          reason,
        };
      } else {
        if (p.lastExchange === '' || rand() > 0.1) {
          p.cents = Math.max(100, p.cents + Math.round((rand() - 0.5) * 600));
          p.lastPrice = (p.cents / 100).toFixed(2);
          const lagMs = Math.floor(rand() * 1500);
          p.lastExchange =
            `${new Date(dueMs - lagMs).toISOString().slice(0, 23)}` +
            `${String(Math.floor(rand() * 1000)).padStart(3, '0')}Z`;
          p.trade++;
        }
        tick = {
          record_id: recordId({ productId: p.product, source: 'coinbase-exchange-ticker', scheduledTime: scheduled }),
          product_id: p.product,
          source: 'coinbase-exchange-ticker',
          status: 'ok',
          price: p.lastPrice,
          exchange_time: p.lastExchange,
          scheduled_time: scheduled,
          ingest_time: ingest,
          reason: null,
          trade_id: p.trade,
        };
      }
      const line = encodeNdjsonLine(tick);
      const arrivalMs = ingestMs + (rand() < lateRate ? Math.floor(rand() * maxLateMs) : 50);
      place(arrivalMs, line, tick);
      if (rand() < dupRate) place(arrivalMs + 1000 + Math.floor(rand() * (maxLateMs / 2)), line, tick);
    }
    if (s % 60 === 59) yield* flush(Math.floor((dueMs - maxLateMs - 2000) / objectMs));
  }
  yield* flush(Number.POSITIVE_INFINITY);
}

/** Write generated objects straight to `<root>/<bucket>/<key>` (the local store's layout), fast. */
export function writeObjectsToDir(
  root: string,
  bucket: string,
  objects: Iterable<GeneratedObject>,
): { objects: number; bytes: number; records: number } {
  let count = 0;
  let bytes = 0;
  let records = 0;
  const made = new Set<string>();
  for (const o of objects) {
    const path = join(root, bucket, ...o.key.split('/'));
    const dir = dirname(path);
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    writeFileSync(path, o.body);
    count++;
    bytes += typeof o.body === 'string' ? Buffer.byteLength(o.body) : o.body.byteLength;
    records += o.records;
  }
  return { objects: count, bytes, records };
}

/** Put generated objects through an ObjectStore (S3 on moto, or a local store). */
export async function putObjects(
  store: ObjectStore,
  bucket: string,
  objects: Iterable<GeneratedObject>,
): Promise<number> {
  let count = 0;
  for (const o of objects) {
    await store.put(bucket, o.key, o.body);
    count++;
  }
  return count;
}
