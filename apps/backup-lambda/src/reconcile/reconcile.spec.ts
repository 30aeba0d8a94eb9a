import { createObjectStore, type ObjectStore } from '@btc-etl/object-store';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatReconcileCounts, reconcile, type ReconcileOptions, type ReconcileProgress } from './reconcile';

const RAW = 'btc-etl-raw';
const BACKUP = 'btc-etl-backup';
let root: string;
let store: ObjectStore;

const options = (extra: Partial<ReconcileOptions> = {}): ReconcileOptions => ({
  sourceBucket: RAW,
  prefix: 'raw/2026/11/',
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
      options({ prefix: '', target: { backupBucket: BACKUP, backupPrefix: 'copy/' } }),
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
    expect((await reconcile(store, options({ prefix: 'raw/1999/' }))).counts).toMatchObject({ scanned: 0, copied: 0 });
  });
});
