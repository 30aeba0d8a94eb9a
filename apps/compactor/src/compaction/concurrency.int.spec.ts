import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '@btc-etl/object-store';
import type { PriceTick } from '@btc-etl/price-schema';
import { parseSilverManifest, silverManifestKey } from '@btc-etl/s3-keys';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonical, polledTick, putRaw } from '../../test/raw.fixtures';
import { readSilver, silverDataFiles } from '../../test/silver.reader';
import { compactRun, type RunOptions } from './compact.run';
import { commitPartition } from './partition.commit';
import { RowStore } from './row.store';

// Against moto, which enforces If-Match / If-None-Match on PutObject as S3 does.
const client = new S3Client({ forcePathStyle: true });
const store = new S3ObjectStore({ client });
const H = Date.UTC(2026, 10, 27, 19) / 1000;

async function buckets() {
  const suffix = randomBytes(4).toString('hex');
  const raw = `raw-${suffix}`;
  const silver = `silver-${suffix}`;
  await client.send(new CreateBucketCommand({ Bucket: raw }));
  await client.send(new CreateBucketCommand({ Bucket: silver }));
  return { raw, silver };
}

const base = (raw: string, silver: string): RunOptions => ({
  store,
  rawBucket: raw,
  silverBucket: silver,
  lateSlackMs: 20 * 60_000,
  gcGraceMs: 0,
  now: () => (H + 3 * 3600) * 1000,
});

describe('two compactor runs at once (moto S3)', () => {
  it('the loser of the manifest swing re-reads, merges and retries: nothing lost, nothing doubled', async () => {
    const { raw, silver } = await buckets();
    const a = Array.from({ length: 30 }, (_, i) => polledTick(H + i * 10));
    const b = Array.from({ length: 30 }, (_, i) => polledTick(H + 5 + i * 10));
    await putRaw(store, raw, new Date((H + 400) * 1000), a);

    // run 1 stops after writing its data file, before its manifest swing ...
    let release: () => void = () => undefined;
    const paused = new Promise<void>((resolve) => (release = resolve));
    let reachedPause: () => void = () => undefined;
    const atPause = new Promise<void>((resolve) => (reachedPause = resolve));
    let pausedOnce = false;
    const run1 = compactRun({
      ...base(raw, silver),
      onStep: async (step) => {
        if (step === 'data-written' && !pausedOnce) {
          pausedOnce = true;
          reachedPause();
          await paused;
        }
      },
    });
    await atPause;
    // ... while run 2 compacts more records of the same partition and publishes first
    await putRaw(store, raw, new Date((H + 500) * 1000), b);
    const report2 = await compactRun(base(raw, silver));
    expect(report2.partitionsWritten).toBe(1);
    release();
    const report1 = await run1;
    expect(report1.manifestConflicts).toBe(1);

    expect(canonical(await readSilver(store, silver))).toEqual(canonical([...a, ...b]));
    const manifest = parseSilverManifest(
      'm',
      (await store.get(silver, silverManifestKey({ productId: 'BTC-USD', hour: new Date(H * 1000) }))).body,
    );
    // run 2 read both objects (run 1 had not recorded its state), so run 1's retry found nothing new to write
    expect(manifest).toMatchObject({ generation: 1, rows: 60 });
    // the loser deleted its unpublished file; older generations are collected
    expect(await silverDataFiles(store, silver)).toEqual([expect.stringContaining(manifest.files[0]?.name ?? '-')]);
  });

  it('many runs racing over the same objects end with the exact set', async () => {
    const { raw, silver } = await buckets();
    const all: PriceTick[] = [];
    for (let o = 0; o < 6; o++) {
      const ticks = Array.from({ length: 25 }, (_, i) => polledTick(H + o * 600 + i * 7));
      all.push(...ticks);
      await putRaw(store, raw, new Date((H + o * 600 + 300) * 1000), [...ticks, ticks[0] as PriceTick]);
    }
    const reports = await Promise.all([1, 2, 3, 4].map(() => compactRun(base(raw, silver))));
    expect(reports.every((r) => r.objectsRead === 6)).toBe(true);
    expect(canonical(await readSilver(store, silver))).toEqual(canonical(all));
    const again = await compactRun(base(raw, silver));
    expect(again.objectsRead).toBe(0);
  });

  it('a loser with records the winner lacks writes the next generation holding both', async () => {
    const { silver } = await buckets();
    const partition = { productId: 'BTC-USD', hour: new Date(H * 1000) };
    const mine = new RowStore();
    const theirs = new RowStore();
    const a = Array.from({ length: 20 }, (_, i) => polledTick(H + i * 10));
    const b = Array.from({ length: 20 }, (_, i) => polledTick(H + 5 + i * 10));
    a.forEach((t) => mine.add(t));
    b.forEach((t) => theirs.add(t));
    let release: () => void = () => undefined;
    const paused = new Promise<void>((resolve) => (release = resolve));
    let reached: () => void = () => undefined;
    const atPause = new Promise<void>((resolve) => (reached = resolve));
    let once = false;
    const slow = commitPartition(partition, mine, {
      store,
      bucket: silver,
      gcGraceMs: 0,
      onStep: async (step) => {
        if (step === 'data-written' && !once) {
          once = true;
          reached();
          await paused;
        }
      },
    });
    await atPause;
    const fast = await commitPartition(partition, theirs, { store, bucket: silver, gcGraceMs: 0 });
    release();
    const late = await slow;
    expect([fast.generation, late.generation, late.conflicts, late.rows]).toEqual([1, 2, 1, 40]);
    expect(canonical(await readSilver(store, silver))).toEqual(canonical([...a, ...b]));
    expect((await silverDataFiles(store, silver)).length).toBe(1);
  });
});
