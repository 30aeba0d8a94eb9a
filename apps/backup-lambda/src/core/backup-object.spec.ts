import { createObjectStore, md5Hex, ObjectStoreError, type ObjectStore } from '@btc-etl/object-store';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupObject, type BackupTarget } from './backup-object';
import { BackupCopyError } from './backup.errors';

const RAW = 'btc-etl-raw';
const target: BackupTarget = { backupBucket: 'btc-etl-backup', backupPrefix: '' };
const MiB = 1024 * 1024;

let root: string;
let store: ObjectStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'backup-object-'));
  store = createObjectStore({
    kind: 'local',
    root,
    multipartCopyThresholdBytes: 5 * MiB,
    multipartPartSizeBytes: 5 * MiB,
  });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function putRaw(key: string, body: string | Uint8Array, options = {}) {
  const { etag } = await store.put(RAW, key, body, options);
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  return { bucket: RAW, key, size, etag };
}

describe('backupObject', () => {
  it('copies the bytes, content type and metadata to the same key in the backup bucket', async () => {
    const event = await putRaw('raw/2026/11/27/19/a b+c%.json', '{"p":1}\n', {
      contentType: 'application/x-ndjson',
      metadata: { source: 'firehose' },
    });

    const result = await backupObject(store, event, target);

    expect(result).toMatchObject({
      outcome: 'copied',
      etag: event.etag,
      destination: { bucket: 'btc-etl-backup', key: event.key },
    });
    const copy = await store.get('btc-etl-backup', event.key);
    expect(Buffer.from(copy.body).toString()).toBe('{"p":1}\n');
    expect(copy.info).toMatchObject({
      etag: event.etag,
      contentType: 'application/x-ndjson',
      metadata: { source: 'firehose' },
    });
  });

  it(
    "hands the copy the event's ETag and size, " + "so a store that trusts S3's check need not read the source first",
    async () => {
      const event = await putRaw('raw/hint.json', '{"p":2}\n');
      const seen: unknown[] = [];
      const recording: ObjectStore = {
        ...store,
        head: store.head.bind(store),
        copy: (s, d, o) => (seen.push(o), store.copy(s, d, o)),
      };

      await backupObject(recording, event, target);

      expect(seen).toEqual([{ ifSourceEtag: event.etag, sourceSize: 8 }]);
    },
  );

  it('puts the copy under BACKUP_PREFIX when one is set', async () => {
    const event = await putRaw('raw/x.json', 'x');
    const result = await backupObject(store, event, { backupBucket: 'btc-etl-backup', backupPrefix: 'copies/' });
    expect(result.destination.key).toBe('copies/raw/x.json');
    expect(await store.head('btc-etl-backup', 'copies/raw/x.json')).toMatchObject({ etag: event.etag });
  });

  it('skips a duplicate delivery: same ETag and size already in the backup, nothing rewritten', async () => {
    const event = await putRaw('raw/dup.json', 'dup');
    await backupObject(store, event, target);
    const before = await store.head('btc-etl-backup', 'raw/dup.json');

    const again = await backupObject(store, event, target);

    expect(again.outcome).toBe('already-backed-up');
    expect((await store.head('btc-etl-backup', 'raw/dup.json'))?.lastModified).toEqual(before?.lastModified);
  });

  it(
    'refuses to copy bytes other than the event named: ' + 'a changed source is superseded, its own event copies it',
    async () => {
      const first = await putRaw('raw/changing.json', 'version 1');
      const second = await putRaw('raw/changing.json', 'version 2, longer');

      const stale = await backupObject(store, first, target);
      expect(stale).toMatchObject({ outcome: 'superseded', currentEtag: second.etag });
      expect(await store.head('btc-etl-backup', 'raw/changing.json')).toBeUndefined();

      expect((await backupObject(store, second, target)).outcome).toBe('copied');
      expect(Buffer.from((await store.get('btc-etl-backup', 'raw/changing.json')).body).toString()).toBe(
        'version 2, longer',
      );
    },
  );

  it('replaces an older backup of the same key when the event names newer bytes', async () => {
    const old = await putRaw('raw/k.json', 'old');
    await backupObject(store, old, target);
    const fresh = await putRaw('raw/k.json', 'new!');
    expect((await backupObject(store, fresh, target)).outcome).toBe('copied');
    expect((await store.head('btc-etl-backup', 'raw/k.json'))?.etag).toBe(md5Hex('new!'));
  });

  it('counts a source deleted before the copy as source-missing instead of failing', async () => {
    const event = await putRaw('raw/gone.json', 'gone soon');
    await store.delete(RAW, 'raw/gone.json');
    expect((await backupObject(store, event, target)).outcome).toBe('source-missing');
    expect(await store.head('btc-etl-backup', 'raw/gone.json')).toBeUndefined();
  });

  it('never copies an object onto itself', async () => {
    const event = await putRaw('raw/self.json', 'self');
    const result = await backupObject(store, event, { backupBucket: RAW, backupPrefix: '' });
    expect(result.outcome).toBe('same-object');
  });

  it('recognises its own multipart copy on redelivery although the ETags differ', async () => {
    const bytes = new Uint8Array(6 * MiB).map((_, i) => i % 251);
    const event = await putRaw('raw/big.bin', bytes);
    await new Promise((r) => setTimeout(r, 5)); // the backup must be strictly newer than the source (mtime in ms)

    const first = await backupObject(store, event, target);
    expect(first.outcome).toBe('copied');
    expect(first.etag).toMatch(/-2$/); // 6 MiB above a 5 MiB threshold: two parts
    expect(first.etag).not.toBe(event.etag);

    expect((await backupObject(store, event, target)).outcome).toBe('already-backed-up');
  });

  it('throws BackupCopyError with the cause for anything retrying could fix', async () => {
    const event = await putRaw('raw/flaky.json', 'flaky');
    const flaky: ObjectStore = {
      ...store,
      head: store.head.bind(store),
      copy: () =>
        Promise.reject(
          new ObjectStoreError('copy', RAW, 'raw/flaky.json', 'SlowDown (HTTP 503): Please reduce your request rate'),
        ),
    };
    const error = await backupObject(flaky, event, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupCopyError);
    expect(error).toMatchObject({ sourceKey: 'raw/flaky.json', destinationBucket: 'btc-etl-backup' });
    expect((error as Error).message).toMatch(/SlowDown/);
  });
});
