import { LocalObjectStore } from '@btc-etl/object-store';
import { SILVER_ROW_GROUP_SIZE, type PriceTick } from '@btc-etl/price-schema';
import { missedTick } from '@btc-etl/price-schema/testing';
import { parseSilverManifest, silverManifestKey } from '@btc-etl/s3-keys';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonical, polledTick, putRaw } from '../../test/raw.fixtures';
import { readSilver, silverDataFiles } from '../../test/silver.reader';
import { compactRun, DEFAULT_LOOKBACK_HOURS, type RunOptions } from './compact.run';

const RAW = 'btc-etl-raw';
const SILVER = 'btc-etl-silver';
const H19 = Date.UTC(2026, 10, 27, 19) / 1000;
const HOUR = 3600;

describe('compactRun over a local store', () => {
  let dir: string;
  let store: LocalObjectStore;
  let nowMs: number;
  const options = (extra: Partial<RunOptions> = {}): RunOptions => ({
    store,
    rawBucket: RAW,
    silverBucket: SILVER,
    lateSlackMs: 20 * 60_000,
    gcGraceMs: 0,
    now: () => nowMs,
    ...extra,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'compactor-'));
    store = new LocalObjectStore({ root: dir });
    nowMs = (H19 + 3 * HOUR) * 1000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('places a missed record (no exchange_time) by scheduled time, first in a run or in a row group', async () => {
    // a batch allocates a column at its first value: a batch that starts with a missed record has no exchange_time
    // column yet, and its event time must still come from scheduled_time (was: an undefined time, a NaN hour)
    const missedAt = (second: number) =>
      missedTick('timeout', {
        scheduled_time: new Date(second * 1000).toISOString(),
        ingest_time: new Date(second * 1000 + 400).toISOString(),
      });
    const ticks: PriceTick[] = [missedAt(H19 + 5)];
    for (let i = 0; i < SILVER_ROW_GROUP_SIZE; i++)
      ticks.push(polledTick(H19 + 10 + i / 10, { price: `97000.${i % 10}` }));
    ticks.push(missedAt(H19 + 3000)); // the first record of the partition's second row group
    await putRaw(store, RAW, new Date((H19 + 3590) * 1000), ticks);

    const report = await compactRun(options());

    expect(report).toMatchObject({ recordsIn: ticks.length, partitionsWritten: 1, quarantinedLines: 0 });
    expect(canonical(await readSilver(store, SILVER))).toEqual(canonical(ticks));
  });

  it(
    'writes every valid record once, by event hour, quarantines bad lines with key and line, and ' + 'reports',
    async () => {
      const a = Array.from({ length: 50 }, (_, i) => polledTick(H19 + 3570 + i)); // 19:59:30 .. 20:00:19
      const key1 = await putRaw(store, RAW, new Date((H19 + 3590) * 1000), [
        ...a.slice(0, 30),
        'not json at all',
        a[3] as never, // a duplicate inside the object
      ]);
      const nanos = polledTick(H19 + 3600 + 40, { exchange_time: '2026-11-27T20:00:40.123456789Z' });
      const key2 = await putRaw(store, RAW, new Date((H19 + HOUR + 10) * 1000), [
        ...a.slice(25), // 5 duplicates of the first object
        '{"record_id":"x"}',
        nanos,
      ]);
      const report = await compactRun(options());
      expect(report).toMatchObject({
        objectsRead: 2,
        recordsIn: 56,
        duplicatesDropped: 6,
        quarantinedLines: 3,
        partitionsWritten: 2,
        manifestConflicts: 0,
      });
      expect(report.bytesWritten).toBeGreaterThan(0);
      expect(canonical(await readSilver(store, SILVER))).toEqual(canonical(a));
      // partitioned by event hour: 19:59:30-19:59:59 in hour 19, the rest in hour 20
      const m19 = parseSilverManifest(
        'm19',
        (await store.get(SILVER, silverManifestKey({ productId: 'BTC-USD', hour: new Date(H19 * 1000) }))).body,
      );
      expect(m19.rows).toBe(30);
      // quarantine: one object per raw object with bad lines, each line naming its source and line number
      const q1 = new TextDecoder().decode(
        (await store.get(SILVER, `quarantine/${RAW}/${key1}.${(await store.head(RAW, key1))?.etag}.ndjson`)).body,
      );
      expect(
        q1
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ).toEqual([
        expect.objectContaining({
          source_key: key1,
          line: 31,
          text: 'not json at all',
          reason: expect.stringContaining('not JSON'),
        }),
      ]);
      const q2 = new TextDecoder().decode(
        (await store.get(SILVER, `quarantine/${RAW}/${key2}.${(await store.head(RAW, key2))?.etag}.ndjson`)).body,
      );
      expect(
        q2
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).line),
      ).toEqual([26, 27]);
      expect(q2).toContain('microsecond');
    },
  );

  it('keeps prices and times character for character', async () => {
    const ticks = [
      polledTick(H19 + 1, { price: '97123.40' }),
      polledTick(H19 + 2, { price: '97123' }),
      polledTick(H19 + 3, { price: '0.00000001', exchange_time: '2026-11-27T19:00:03Z' }),
    ];
    await putRaw(store, RAW, new Date((H19 + 5) * 1000), ticks);
    await compactRun(options());
    const back = await readSilver(store, SILVER);
    expect(back.map((t) => [t.price, t.exchange_time, t.scheduled_time, t.ingest_time])).toEqual(
      ticks.map((t) => [t.price, t.exchange_time, t.scheduled_time, t.ingest_time]),
    );
  });

  it('is incremental: a second run reads nothing new; a late object is merged into its event hour', async () => {
    const early = Array.from({ length: 20 }, (_, i) => polledTick(H19 + i * 60));
    await putRaw(store, RAW, new Date((H19 + 1200) * 1000), early);
    await compactRun(options());
    const again = await compactRun(options());
    expect(again).toMatchObject({ objectsRead: 0, recordsIn: 0, partitionsWritten: 0 });

    // a spool replay: records of hour 19 (some already there) arrive two hours later
    const late = [polledTick(H19 + 30), polledTick(H19 + 90), early[5] as PriceTick];
    nowMs += 2 * HOUR * 1000;
    await putRaw(store, RAW, new Date((H19 + 2 * HOUR + 100) * 1000), late);
    const report = await compactRun(options());
    expect(report).toMatchObject({ objectsRead: 1, recordsIn: 3, duplicatesDropped: 1, partitionsWritten: 1 });
    expect(canonical(await readSilver(store, SILVER))).toEqual(canonical([...early, ...late.slice(0, 2)]));
    const manifest = parseSilverManifest(
      'm',
      (await store.get(SILVER, silverManifestKey({ productId: 'BTC-USD', hour: new Date(H19 * 1000) }))).body,
    );
    expect(manifest).toMatchObject({ generation: 2, rows: 22 });
    // the old generation's file is collected: the folder holds exactly the manifest's file
    expect(await silverDataFiles(store, SILVER)).toEqual([
      expect.stringContaining(manifest.files[0]?.name ?? '(none)'),
    ]);
  });

  it('moves the watermark past closed hours only, and a later run starts there', async () => {
    await putRaw(store, RAW, new Date((H19 + 100) * 1000), [polledTick(H19 + 50)]);
    await putRaw(store, RAW, new Date((H19 + HOUR + 100) * 1000), [polledTick(H19 + HOUR + 50)]);
    nowMs = (H19 + 2 * HOUR + 10 * 60) * 1000; // hour 20 closed 10 minutes ago: within the 20-minute slack
    expect((await compactRun(options())).rawCompleteBefore).toBe(new Date((H19 + HOUR) * 1000).toISOString());
    nowMs = (H19 + 2 * HOUR + 30 * 60) * 1000;
    const report = await compactRun(options());
    expect(report.rawCompleteBefore).toBe(new Date((H19 + 2 * HOUR) * 1000).toISOString());
    expect(report.hoursScanned).toBe(2); // hours 20 and 21: hour 19 was complete
  });

  it('compacts an object delivered late into an arrival hour already behind the watermark (lookback)', async () => {
    await putRaw(store, RAW, new Date((H19 + 100) * 1000), [polledTick(H19 + 50)]);
    nowMs = (H19 + 3 * HOUR) * 1000;
    expect((await compactRun(options())).rawCompleteBefore).toBe(new Date((H19 + 2 * HOUR) * 1000).toISOString());
    // a Firehose S3 retry delivers, hours later, an object under arrival hour 19 (behind the watermark)
    const late = polledTick(H19 + 70);
    nowMs = (H19 + 5 * HOUR) * 1000;
    await putRaw(store, RAW, new Date((H19 + 200) * 1000), [late]);
    const report = await compactRun(options());
    expect(report).toMatchObject({ objectsRead: 1, recordsIn: 1, partitionsWritten: 1 });
    expect(report.lookbackHoursScanned).toBe(DEFAULT_LOOKBACK_HOURS);
    expect(canonical(await readSilver(store, SILVER))).toEqual(canonical([polledTick(H19 + 50), late]));
    // recorded: the next run reads nothing
    expect(await compactRun(options())).toMatchObject({ objectsRead: 0, recordsIn: 0 });
    // beyond the lookback window such an object is left to `run --from --to`
    nowMs = (H19 + 30 * HOUR) * 1000;
    expect((await compactRun(options())).rawCompleteBefore).toBe(new Date((H19 + 29 * HOUR) * 1000).toISOString());
    await putRaw(store, RAW, new Date((H19 + 300) * 1000), [polledTick(H19 + 80)]);
    expect(await compactRun(options({ lookbackHours: 24 }))).toMatchObject({ objectsRead: 0 });
    expect(await compactRun(options({ lookbackHours: 29 }))).toMatchObject({ objectsRead: 1, recordsIn: 1 });
  });

  it('re-compacts exactly the event hours asked for, leaving state alone', async () => {
    const ticks = [polledTick(H19 + 10), polledTick(H19 + HOUR + 10), polledTick(H19 + 2 * HOUR + 10)];
    await putRaw(store, RAW, new Date((H19 + 2 * HOUR + 20) * 1000), ticks);
    const report = await compactRun(
      options({ from: new Date((H19 + HOUR) * 1000), to: new Date((H19 + 2 * HOUR) * 1000) }),
    );
    expect(report).toMatchObject({ recordsIn: 1, partitionsWritten: 1 });
    expect(canonical(await readSilver(store, SILVER))).toEqual(canonical([ticks[1] as PriceTick]));
    // the incremental run still sees the object as new, and completes the rest
    const incremental = await compactRun(options());
    expect(incremental).toMatchObject({ objectsRead: 1, recordsIn: 3, duplicatesDropped: 1 });
    expect(canonical(await readSilver(store, SILVER))).toEqual(canonical(ticks));
  });

  it('dry-run reads and reports but writes nothing', async () => {
    await putRaw(store, RAW, new Date((H19 + 100) * 1000), [polledTick(H19 + 1), 'bad']);
    const report = await compactRun(options({ dryRun: true }));
    expect(report).toMatchObject({
      dryRun: true,
      objectsRead: 1,
      recordsIn: 1,
      quarantinedLines: 1,
      partitionsWritten: 0,
    });
    const written: string[] = [];
    for await (const o of store.listAll(SILVER)) written.push(o.key);
    expect(written).toEqual([]);
  });

  it('merges a late record into a partition larger than a row group, reading it group by group', async () => {
    const many = Array.from({ length: 60_000 }, (_, i) =>
      polledTick(H19, {
        record_id: i.toString(16).padStart(32, '0'),
        exchange_time: `2026-11-27T19:00:00.${String(i).padStart(6, '0')}Z`,
      }),
    );
    await putRaw(store, RAW, new Date((H19 + 100) * 1000), many);
    await compactRun(options());
    const late = polledTick(H19 + 10);
    nowMs += 3_600_000;
    await putRaw(store, RAW, new Date(nowMs - 60_000), [late, many[59_999] as PriceTick]);
    const report = await compactRun(options());
    expect(report).toMatchObject({ recordsIn: 2, duplicatesDropped: 1, partitionsWritten: 1 });
    const back = await readSilver(store, SILVER);
    expect(back).toHaveLength(60_001);
    expect(new Set(back.map((t) => t.record_id)).size).toBe(60_001);
  });
});
