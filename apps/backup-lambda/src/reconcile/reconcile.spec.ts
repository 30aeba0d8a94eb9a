import { createObjectStore, type ListOptions, type ListPage, type ObjectStore } from '@btc-etl/object-store';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catchError } from '@btc-etl/testing';
import { ListingOrderError } from '../core/backup.errors';
import {
  formatReconcileCounts,
  MAX_FAILURES_KEPT,
  reconcile,
  type ReconcileOptions,
  type ReconcileProgress,
} from './reconcile';

const RAW = 'btc-etl-raw';
const BACKUP = 'btc-etl-backup';
let root: string;
let store: ObjectStore;

const options = (extra: Partial<ReconcileOptions> = {}): ReconcileOptions => ({
  sourceBucket: RAW,
  prefixes: ['raw/2026/11/'],
  target: { backupBucket: BACKUP, backupPrefix: '' },
  concurrency: 4,
  ...extra,
});

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'reconcile-'));
  store = createObjectStore({ kind: 'local', root });
  // Under the prefix: one backed up, one missing, one different; outside it: one missing; one orphan in the backup.
  await store.put(RAW, 'raw/2026/11/27/19/same.json', 'same');
  await store.put(BACKUP, 'raw/2026/11/27/19/same.json', 'same');
  await store.put(RAW, 'raw/2026/11/27/19/missing one.json', 'missing');
  await store.put(RAW, 'raw/2026/11/28/00/changed.json', 'new bytes');
  await store.put(BACKUP, 'raw/2026/11/28/00/changed.json', 'old bytes');
  await store.put(RAW, 'raw/2026/12/01/00/later.json', 'outside the prefix');
  await store.put(BACKUP, 'raw/2026/11/20/00/orphan.json', 'source deleted long ago');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('reconcile', () => {
  it('copies what is missing or different under the prefix and reports the rest', async () => {
    const { counts, failures } = await reconcile(store, options());
    expect(failures).toEqual([]);
    expect(counts).toEqual({
      scanned: 3,
      upToDate: 1,
      toCopy: 2,
      copied: 2,
      superseded: 0,
      sourceMissing: 0,
      failed: 0,
      extraInBackup: 1,
      bytesCopied: 16,
    });
    expect(Buffer.from((await store.get(BACKUP, 'raw/2026/11/28/00/changed.json')).body).toString()).toBe('new bytes');
    expect(await store.head(BACKUP, 'raw/2026/11/27/19/missing one.json')).toBeDefined();
    expect(await store.head(BACKUP, 'raw/2026/12/01/00/later.json')).toBeUndefined();
    expect(await store.head(BACKUP, 'raw/2026/11/20/00/orphan.json')).toBeDefined(); // never deleted
  });

  it('is safe to re-run: the second run copies nothing', async () => {
    await reconcile(store, options());
    const { counts } = await reconcile(store, options());
    expect(counts).toMatchObject({ scanned: 3, upToDate: 3, toCopy: 0, copied: 0 });
  });

  it('copies nothing on a dry run but says what it would copy', async () => {
    const { counts } = await reconcile(store, options({ dryRun: true }));
    expect(counts).toMatchObject({ toCopy: 2, copied: 0 });
    expect(await store.head(BACKUP, 'raw/2026/11/27/19/missing one.json')).toBeUndefined();
    expect(formatReconcileCounts(counts, true)).toContain('would copy 2');
  });

  it('honours BACKUP_PREFIX on the backup side', async () => {
    const { counts } = await reconcile(
      store,
      options({ prefixes: [''], target: { backupBucket: BACKUP, backupPrefix: 'copy/' } }),
    );
    expect(counts).toMatchObject({ scanned: 4, copied: 4, extraInBackup: 0 });
    expect(await store.head(BACKUP, 'copy/raw/2026/12/01/00/later.json')).toBeDefined();
  });

  it('reports progress up to every scanned object', async () => {
    const seen: ReconcileProgress[] = [];
    await reconcile(store, options({ onProgress: (p) => seen.push(p) }));
    expect(seen.at(-1)).toMatchObject({ done: 3, scanned: 3 });
  });

  it('lists an empty or absent prefix as nothing to do', async () => {
    expect((await reconcile(store, options({ prefixes: ['raw/1999/'] }))).counts).toMatchObject({
      scanned: 0,
      copied: 0,
    });
  });

  it('reconciles several prefixes in one run (the hour folders of a time range)', async () => {
    const { counts } = await reconcile(store, options({ prefixes: ['raw/2026/11/27/19/', 'raw/2026/12/01/00/'] }));
    expect(counts).toMatchObject({ scanned: 3, upToDate: 1, copied: 2, extraInBackup: 0 });
    expect(await store.head(BACKUP, 'raw/2026/12/01/00/later.json')).toBeDefined();
    expect(await store.head(BACKUP, 'raw/2026/11/28/00/changed.json')).toMatchObject({ size: 9 }); // not in scope
  });
});

/**
 * A store that serves generated listings page by page, never holding them, and records the order in which
 * reconcile pulls entries from each side and how many copies run at once.
 */
function generatedStore(n: number, options: { missingEvery: number; extraEvery: number; failEvery?: number }) {
  /** Every entry handed out, in order: which side and the index its key was made from. */
  const pulls: { side: 'source' | 'backup'; index: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let copiesStartedBeforeListingEnded = 0;
  let sourceListingDone = false;
  const copied: string[] = [];
  // both sides generated lazily, in key order (the keys sort like their indexes)
  const keyOf = (i: number) => `raw/${String(i).padStart(8, '0')}`;
  function* backupKeys(): Generator<string> {
    for (let i = 0; i < n; i++) {
      if (i % options.missingEvery !== 0) yield keyOf(i);
      if (i % options.extraEvery === 0) yield `${keyOf(i)}-extra`;
    }
  }
  function* sourceKeysGen(): Generator<string> {
    for (let i = 0; i < n; i++) yield keyOf(i);
  }
  const info = (bucket: string, key: string) => ({
    bucket,
    key,
    size: 1,
    etag: 'e'.repeat(32),
    lastModified: new Date(0),
    metadata: {},
  });
  async function* listAll(bucket: string): AsyncGenerator<ReturnType<typeof info>> {
    const side = bucket === RAW ? 'source' : 'backup';
    for (const key of side === 'source' ? sourceKeysGen() : backupKeys()) {
      pulls.push({ side, index: Number(key.slice(4, 12)) });
      yield info(bucket, key);
      await Promise.resolve();
    }
    if (side === 'source') sourceListingDone = true;
  }
  const fake = {
    listAll,
    async head(bucket: string, key: string) {
      return bucket === RAW ? info(bucket, key) : undefined;
    },
    async copy(source: { key: string }) {
      if (!sourceListingDone) copiesStartedBeforeListingEnded++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((resolve) => setImmediate(resolve));
      inFlight--;
      const index = Number(source.key.slice(4));
      if (options.failEvery && index % options.failEvery === 0) throw new Error(`copy of ${source.key} failed`);
      copied.push(source.key);
      return { etag: 'e'.repeat(32) };
    },
    list(_bucket: string, _options?: ListOptions): Promise<ListPage> {
      throw new Error('not used');
    },
  } as unknown as ObjectStore;
  return {
    store: fake,
    pulls,
    copied,
    stats: () => ({ maxInFlight, copiesStartedBeforeListingEnded }),
  };
}

describe('reconcile streams both listings (many keys)', () => {
  it(
    'merges 20,000 keys: copies exactly the missing ones, ' + 'counts the extras, and pulls both sides in step',
    async () => {
      const n = 20_000;
      const fake = generatedStore(n, { missingEvery: 7, extraEvery: 11 });

      const { counts } = await reconcile(fake.store, options({ prefixes: ['raw/'], concurrency: 8 }));

      const missing = Math.ceil(n / 7);
      expect(counts).toMatchObject({
        scanned: n,
        upToDate: n - missing,
        toCopy: missing,
        copied: missing,
        failed: 0,
        extraInBackup: Math.ceil(n / 11),
      });
      expect(new Set(fake.copied).size).toBe(missing);
      expect(fake.copied.every((k) => Number(k.slice(4)) % 7 === 0)).toBe(true);
      // Neither listing is read ahead of the other by more than a few keys: nothing is collected first.
      const last = { source: -1, backup: -1 };
      let maxLead = 0;
      for (const { side, index } of fake.pulls) {
        last[side] = index;
        if (last.source >= 0 && last.backup >= 0) maxLead = Math.max(maxLead, Math.abs(last.source - last.backup));
      }
      expect(fake.pulls.length).toBeGreaterThan(2 * n - n / 7);
      expect(maxLead).toBeLessThanOrEqual(2);
      // Copies run while the listing goes on, never more than `concurrency` at once.
      expect(fake.stats().maxInFlight).toBeLessThanOrEqual(8);
      expect(fake.stats().copiesStartedBeforeListingEnded).toBeGreaterThan(missing / 2);
    },
  );

  it(`keeps at most ${MAX_FAILURES_KEPT} failures with their errors, and counts them all`, async () => {
    const fake = generatedStore(3_000, { missingEvery: 1, extraEvery: 1_000_000, failEvery: 2 });

    const { counts, failures } = await reconcile(fake.store, options({ prefixes: ['raw/'], concurrency: 4 }));

    expect(counts.failed).toBe(1_500);
    expect(failures).toHaveLength(MAX_FAILURES_KEPT);
    expect(failures[0]?.error.message).toMatch(/copy of raw\/\d+ failed/);
  });

  it(
    'stops with ListingOrderError when a listing is out of key order, ' + 'instead of copying the wrong things',
    async () => {
      const broken = {
        ...store,
        listAll: async function* (bucket: string) {
          for (const key of ['raw/b', 'raw/a'])
            yield { bucket, key, size: 1, etag: 'x', lastModified: new Date(0), metadata: {} };
        },
      } as unknown as ObjectStore;

      const error = await catchError(() => reconcile(broken, options({ prefixes: ['raw/'] })), ListingOrderError);

      expect(error.data).toMatchObject({ previousKey: 'raw/b', key: 'raw/a' });
    },
  );
});
