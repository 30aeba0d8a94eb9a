import { mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalObjectStore, type ObjectStore } from '@btc-etl/object-store';
import { decodeNdjson, encodeNdjsonLine, type PriceTick } from '@btc-etl/price-schema';
import { missedTick, okTick } from '@btc-etl/price-schema/testing';
import { parseFirehoseKey } from '@btc-etl/s3-keys';
import { DeliveryPipeline } from './delivery.pipeline';
import { LocalDeliverySink } from '../sinks/local-delivery.sink';
import { silentLogger } from '../ops/logger';
import { ExtractorMetrics } from '../ops/extractor.metrics';
import { Spool, type SpoolWarning } from './spool';

const BUCKET = 'btc-etl-raw';
const STREAM = 'btc-etl-ticks';

function ticks(n: number, from = 0): PriceTick[] {
  return Array.from({ length: n }, (_, i) =>
    (i + from) % 7 === 3
      ? missedTick('timeout', { scheduled_time: new Date(Date.UTC(2026, 10, 27, 0, 0, i + from)).toISOString() })
      : okTick({
          scheduled_time: new Date(Date.UTC(2026, 10, 27, 0, 0, i + from)).toISOString(),
          price: `${97000 + i + from}.5`,
        }),
  );
}

async function readBucket(store: ObjectStore): Promise<{ keys: string[]; records: PriceTick[] }> {
  const keys: string[] = [];
  const records: PriceTick[] = [];
  for await (const info of store.listAll(BUCKET, 'raw/')) {
    keys.push(info.key);
    records.push(...decodeNdjson(Buffer.from((await store.get(BUCKET, info.key)).body).toString('utf8')));
  }
  return { keys, records };
}

/** A store whose puts fail until `healthy` is set (a sink outage). */
function flakyStore(inner: ObjectStore): ObjectStore & { healthy: boolean; failures: number } {
  const store = Object.create(inner) as ObjectStore & { healthy: boolean; failures: number };
  store.healthy = false;
  store.failures = 0;
  store.put = async (...args) => {
    if (!store.healthy) {
      store.failures++;
      throw Object.assign(new Error('disk unavailable'), { name: 'EIO' });
    }
    return inner.put(...args);
  };
  return store;
}

describe('delivery pipeline with the local delivery stream', () => {
  let dir: string;
  let store: LocalObjectStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'extractor-pipeline-'));
    store = new LocalObjectStore({ root: join(dir, 'data') });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A pipeline over an existing spool, into the local store with default buffering. */
  function pipelineOn(spool: Spool): DeliveryPipeline {
    const pipeline = new DeliveryPipeline({
      spool,
      logger: silentLogger,
      createSink: (onDelivered) =>
        new LocalDeliverySink({
          store,
          bucket: BUCKET,
          streamName: STREAM,
          bufferSizeMb: 5,
          bufferIntervalS: 60,
          onDelivered,
          logger: silentLogger,
        }),
    });
    pipeline.start();
    return pipeline;
  }

  function build(
    options: {
      store?: ObjectStore;
      capBytes?: number;
      sizeMb?: number;
      intervalS?: number;
      warnings?: SpoolWarning[];
    } = {},
  ) {
    const spool = Spool.open({
      dir: join(dir, 'spool'),
      capBytes: options.capBytes ?? 64 * 1024 * 1024,
      fsync: false,
      ...(options.warnings ? { onWarning: (w: SpoolWarning) => options.warnings?.push(w) } : {}),
    });
    const metrics = new ExtractorMetrics();
    const pipeline = new DeliveryPipeline({
      spool,
      logger: silentLogger,
      metrics,
      createSink: (onDelivered) =>
        new LocalDeliverySink({
          store: options.store ?? store,
          bucket: BUCKET,
          streamName: STREAM,
          bufferSizeMb: options.sizeMb ?? 1,
          bufferIntervalS: options.intervalS ?? 60,
          onDelivered,
          logger: silentLogger,
          retryBaseMs: 5,
          retryCapMs: 20,
        }),
    });
    pipeline.start();
    return { spool, pipeline, metrics };
  }

  it('writes Firehose-keyed objects holding exactly the accepted records, then empties the spool', async () => {
    const { spool, pipeline } = build();
    const before = Date.now();
    const input = ticks(50);
    for (const t of input) expect(pipeline.accept(t)).toBe(true);
    expect(await pipeline.drain()).toBe(true);
    const { keys, records } = await readBucket(store);
    expect(keys).toHaveLength(1);
    const key = parseFirehoseKey(keys[0] as string);
    expect(key).toMatchObject({ prefix: 'raw/', streamName: STREAM, version: 1 });
    // the key's time is the arrival of the object's first record, in UTC, to the second
    expect(key.arrival.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(key.arrival.getTime()).toBeLessThanOrEqual(Date.now());
    expect(records).toEqual(input);
    // Firehose's bytes: the records' lines concatenated, nothing else
    const body = Buffer.from((await store.get(BUCKET, keys[0] as string)).body).toString('utf8');
    expect(body).toBe(input.map(encodeNdjsonLine).join(''));
    expect(spool.depth).toBe(0);
    expect(spool.bytes).toBe(0);
    expect(readdirSync(join(dir, 'spool'))).toEqual([]);
  });

  it('cuts an object when the size hint is reached', async () => {
    const { pipeline } = build({ sizeMb: 1 });
    const input = ticks(9000); // ~2.3 MB of NDJSON
    for (const t of input) pipeline.accept(t);
    await pipeline.drain();
    const { keys, records } = await readBucket(store);
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const k of keys) expect((await store.head(BUCKET, k))?.size).toBeLessThanOrEqual(1024 * 1024 + 400);
    expect(records.map((r) => r.record_id).sort()).toEqual(input.map((r) => r.record_id).sort());
  });

  it('rejects an invalid record without spooling it', () => {
    const { spool, pipeline, metrics } = build();
    const bad = { ...okTick(), price: '-1' } as PriceTick;
    expect(pipeline.accept(bad)).toBe(false);
    pipeline.flushSpool();
    expect(spool.depth).toBe(0);
    return metrics.registry
      .getSingleMetricAsString('extractor_ticks_rejected_total')
      .then((text) => expect(text).toContain('reason="invalid"} 1'));
  });

  it('keeps everything through a sink outage on disk only, and delivers it all when the sink is back', async () => {
    const flaky = flakyStore(store);
    const { spool, pipeline } = build({ store: flaky, intervalS: 0 });
    const input = ticks(300);
    for (const [i, t] of input.entries()) {
      pipeline.accept(t);
      if (i % 50 === 49) {
        pipeline.flushSpool();
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    pipeline.flushSpool();
    // wait for the outage to be hit (the event), not for a fixed 50 ms a loaded machine may not reach it in
    await vi.waitFor(() => expect(flaky.failures).toBeGreaterThan(0), { timeout: 60_000, interval: 10 });
    expect(spool.depth).toBe(300);
    flaky.healthy = true;
    expect(await pipeline.drain(AbortSignal.timeout(10_000))).toBe(true);
    const { records } = await readBucket(store);
    expect(new Set(records.map((r) => r.record_id))).toEqual(new Set(input.map((r) => r.record_id)));
    expect(spool.depth).toBe(0);
  });

  it('reads back ticks past the high-water mark from disk, in order, with flat memory', async () => {
    const spool = Spool.open({
      dir: join(dir, 'spool'),
      capBytes: 64 * 1024 * 1024,
      fsync: false,
      segmentMaxBytes: 8 * 1024,
    });
    const pipeline = new DeliveryPipeline({
      spool,
      logger: silentLogger,
      highWaterBytes: 4 * 1024,
      createSink: (onDelivered) =>
        new LocalDeliverySink({
          store,
          bucket: BUCKET,
          streamName: STREAM,
          bufferSizeMb: 1,
          bufferIntervalS: 0,
          onDelivered,
          logger: silentLogger,
        }),
    });
    const input = ticks(400);
    for (const t of input) {
      pipeline.accept(t);
      pipeline.flushSpool();
      // never more than the high-water mark (plus one batch) held by the sink
      expect(pipeline.sink.pendingBytes()).toBeLessThan(4 * 1024 + 8 * 1024);
    }
    expect(await pipeline.drain(AbortSignal.timeout(10_000))).toBe(true);
    const { records } = await readBucket(store);
    expect(records).toHaveLength(400);
    expect(new Set(records.map((r) => r.record_id)).size).toBe(400);
  });

  it('replays a spool left by a killed run, cutting off a half-written last line', async () => {
    const spoolDir = join(dir, 'spool');
    const first = Spool.open({ dir: spoolDir, capBytes: 1 << 26, fsync: false });
    const input = ticks(20);
    first.append(input.slice(0, 10).map(encodeNdjsonLine));
    first.append(input.slice(10).map(encodeNdjsonLine));
    first.close();
    const [segment] = readdirSync(spoolDir);
    appendFileSync(join(spoolDir, segment as string), '{"record_id":"half-writ');
    const repairs: number[] = [];
    const spool = Spool.open({
      dir: spoolDir,
      capBytes: 1 << 26,
      fsync: false,
      onRepair: (r) => repairs.push(r.droppedBytes),
    });
    expect(repairs).toEqual([23]);
    expect(spool.depth).toBe(20);
    const pipeline = pipelineOn(spool);
    pipeline.accept(ticks(1, 20)[0] as PriceTick);
    expect(await pipeline.drain()).toBe(true);
    const { records } = await readBucket(store);
    expect(records).toEqual(ticks(21));
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('quarantines a replayed line that is not JSON instead of sending or deleting it', async () => {
    const spoolDir = join(dir, 'spool');
    Spool.open({ dir: spoolDir, capBytes: 1 << 20 }).close();
    writeFileSync(join(spoolDir, 'segment-000000000001.ndjson'), `${encodeNdjsonLine(okTick())}garbage\n`);
    const spool = Spool.open({ dir: spoolDir, capBytes: 1 << 20 });
    const pipeline = pipelineOn(spool);
    expect(await pipeline.drain()).toBe(true);
    expect((await readBucket(store)).records).toEqual([okTick()]);
    expect(readFileSync(join(spoolDir, 'quarantine.ndjson'), 'utf8')).toContain('"line":"garbage\\n"');
  });

  it('warns as the spool fills and refuses ticks past the cap without losing the ones it holds', async () => {
    const warnings: SpoolWarning[] = [];
    const flaky = flakyStore(store);
    const line = encodeNdjsonLine(ticks(1)[0] as PriceTick).length;
    const { spool, pipeline, metrics } = build({ store: flaky, capBytes: line * 10, warnings });
    const input = ticks(12);
    for (const t of input) {
      pipeline.accept(t);
      pipeline.flushSpool();
    }
    expect(warnings.map((w) => w.threshold)).toEqual([0.5, 0.8, 0.95, 1]);
    expect(spool.depth).toBe(10);
    expect(await metrics.registry.getSingleMetricAsString('extractor_ticks_rejected_total')).toContain(
      'reason="spool_full"} 2',
    );
    flaky.healthy = true;
    expect(await pipeline.drain(AbortSignal.timeout(10_000))).toBe(true);
    expect((await readBucket(store)).records.map((r) => r.record_id)).toEqual(
      input.slice(0, 10).map((r) => r.record_id),
    );
  });
});
