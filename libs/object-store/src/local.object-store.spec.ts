import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catchError } from '@btc-etl/testing';
import { LOCAL_META_DIR, LOCAL_TEMP_PREFIX } from './local-key.paths';
import { LocalObjectStore } from './local.object-store';
import { DEFAULT_CONTENT_TYPE } from './local.sidecar';
import { md5 } from './object-store.contract';
import { InvalidObjectKeyError, ObjectStoreConfigError, ObjectStoreError } from './object-store.errors';
import { createObjectStore } from './object-store.factory';

const MiB = 1024 * 1024;
const BUCKET = 'local-bucket';

let sandbox: string;
let root: string;
let store: LocalObjectStore;

beforeEach(async () => {
  sandbox = await mkdtemp(join(tmpdir(), 'local-object-store-'));
  root = join(sandbox, 'data');
  store = new LocalObjectStore({ root });
});

afterEach(async () => {
  await rm(sandbox, { recursive: true, force: true });
});

/** Every file and folder under `dir`, relative to it, sorted. */
async function tree(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true });
  return entries.map((entry) => entry.toString()).sort();
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

describe('LocalObjectStore key safety', () => {
  const escapingKeys = [
    '../outside.txt',
    '../../etc/passwd',
    'a/../../outside.txt',
    'a/../b',
    '..',
    './x',
    '/etc/passwd',
    'C:/windows/system32',
    'a\\..\\..\\outside.txt',
    '..\\outside.txt',
    'nul\0byte',
    '%2e%2e/outside.txt',
    '%2E%2E/outside.txt',
    'a/%2e%2e/%2e%2e/outside.txt',
    '.%2e/outside.txt',
    '%2e./outside.txt',
    '%252e%252e/outside.txt',
    '..%2foutside.txt',
    '..%2Foutside.txt',
    '..%5coutside.txt',
    'x%00y',
    'a//b',
    'folder/',
    '',
    '.btc-etl-tmp-0123456789abcdef',
    `long/${'x'.repeat(256)}`,
  ];

  it.each(escapingKeys)('rejects %j for every operation and writes nothing', async (key) => {
    await writeFile(join(sandbox, 'outside.txt'), 'secret');
    await store.put(BUCKET, 'legit', 'ok');
    const before = await tree(sandbox);

    const attempts: [string, Promise<unknown>][] = [
      ['put', store.put(BUCKET, key, 'evil')],
      ['streamed put', store.put(BUCKET, key, Readable.from([Buffer.from('evil')]))],
      ['get', store.get(BUCKET, key)],
      ['getStream', store.getStream(BUCKET, key)],
      ['head', store.head(BUCKET, key)],
      ['delete', store.delete(BUCKET, key)],
      ['copy to it', store.copy({ bucket: BUCKET, key: 'legit' }, { bucket: BUCKET, key })],
      ['copy from it', store.copy({ bucket: BUCKET, key }, { bucket: BUCKET, key: 'copy-target' })],
    ];
    const outcomes = await Promise.allSettled(attempts.map(([, attempt]) => attempt));

    for (const [i, outcome] of outcomes.entries()) {
      // the message names the operation, so a failure says which one let the key through
      expect(outcome.status, attempts[i]?.[0]).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as InvalidObjectKeyError;
      expect(reason).toBeInstanceOf(InvalidObjectKeyError);
      expect(reason.key).toBe(key);
      expect(reason.bucket).toBe(BUCKET);
      expect(reason.reason.length).toBeGreaterThan(0);
      expect(reason.message).toContain('invalid key for a local store');
    }
    expect(await tree(sandbox)).toEqual(before);
    expect(await readFile(join(sandbox, 'outside.txt'), 'utf8')).toBe('secret');
  });

  it.each(['..', '../data', 'UPPER', '.btc-etl-meta', 'a/b', 'x', 'bad..dots'])('rejects bucket %j', async (bucket) => {
    const before = await tree(sandbox);

    await expect(store.put(bucket, 'k', 'v')).rejects.toBeInstanceOf(InvalidObjectKeyError);
    await expect(store.get(bucket, 'k')).rejects.toBeInstanceOf(InvalidObjectKeyError);
    await expect(store.list(bucket)).rejects.toBeInstanceOf(ObjectStoreError);

    expect(await tree(sandbox)).toEqual(before);
  });

  it.each(['100%', '50%25', 'a%20b/c', '%e2%82%ac'])(
    'accepts %j: percent signs that are not escapes of "." "/" "\\" or NUL',
    async (key) => {
      await store.put(BUCKET, key, key);
      expect(Buffer.from((await store.get(BUCKET, key)).body).toString()).toBe(key);
      expect(existsSync(join(root, BUCKET, key))).toBe(true);
    },
  );

  it('refuses a key that needs a file to also be a folder, keeping the existing object', async () => {
    await store.put(BUCKET, 'a', 'file a');
    await store.put(BUCKET, 'c/d', 'file c/d');

    const fileAsFolder = await catchError(() => store.put(BUCKET, 'a/b', 'x'), InvalidObjectKeyError);
    await catchError(() => store.put(BUCKET, 'c', 'x'), InvalidObjectKeyError);

    expect(fileAsFolder.message).toMatch(/conflicts with an existing object/);
    expect(Buffer.from((await store.get(BUCKET, 'a')).body).toString()).toBe('file a');
    expect(Buffer.from((await store.get(BUCKET, 'c/d')).body).toString()).toBe('file c/d');
    expect((await tree(root)).filter((p) => p.includes('.btc-etl-tmp-'))).toEqual([]);
  });
});

describe('LocalObjectStore layout and sidecars', () => {
  it(
    'keeps the exact bytes at <root>/<bucket>/<key> and ' + 'a JSON sidecar under .btc-etl-meta, never listed',
    async () => {
      await store.put(BUCKET, 'raw/2026/11/27/19/file', 'line\n', {
        contentType: 'application/x-ndjson',
        metadata: { Rows: '1' },
      });

      expect(await readFile(join(root, BUCKET, 'raw/2026/11/27/19/file'), 'utf8')).toBe('line\n');
      const sidecar = JSON.parse(
        await readFile(join(root, LOCAL_META_DIR, BUCKET, 'raw/2026/11/27/19/file'), 'utf8'),
      ) as Record<string, unknown>;
      expect(sidecar).toMatchObject({
        etag: md5('line\n'),
        size: 5,
        contentType: 'application/x-ndjson',
        metadata: { rows: '1' },
      });
      expect((await store.list(BUCKET)).objects.map((o) => o.key)).toEqual(['raw/2026/11/27/19/file']);
    },
  );

  it('serves a file placed by hand with its MD5, the default content type and no metadata', async () => {
    await mkdir(join(root, BUCKET, 'hand'), { recursive: true });
    await writeFile(join(root, BUCKET, 'hand/placed.ndjson'), '{"a":1}\n');

    const info = await store.head(BUCKET, 'hand/placed.ndjson');

    expect(info).toMatchObject({ size: 8, etag: md5('{"a":1}\n'), contentType: DEFAULT_CONTENT_TYPE, metadata: {} });
    expect((await store.list(BUCKET)).objects).toMatchObject([{ key: 'hand/placed.ndjson', etag: md5('{"a":1}\n') }]);
  });

  it('hashes a file placed by hand once: its sidecar is kept; a replacement by hand is hashed anew', async () => {
    const path = join(root, BUCKET, 'hand/placed.ndjson');
    await mkdir(join(root, BUCKET, 'hand'), { recursive: true });
    await writeFile(path, '{"a":1}\n');

    await store.head(BUCKET, 'hand/placed.ndjson');
    const sidecar = JSON.parse(await readFile(join(root, LOCAL_META_DIR, BUCKET, 'hand/placed.ndjson'), 'utf8'));
    expect(sidecar).toMatchObject({ etag: md5('{"a":1}\n'), size: 8, metadata: {} });
    // what a read finds now comes from the sidecar (a sidecar with another ETag would show it)
    await writeFile(
      join(root, LOCAL_META_DIR, BUCKET, 'hand/placed.ndjson'),
      JSON.stringify({ ...sidecar, etag: 'from-the-sidecar' }),
    );
    expect((await store.head(BUCKET, 'hand/placed.ndjson'))?.etag).toBe('from-the-sidecar');
    expect((await store.list(BUCKET)).objects[0]?.etag).toBe('from-the-sidecar');

    await writeFile(path, '{"a":22}\n');
    const replaced = await store.get(BUCKET, 'hand/placed.ndjson');
    expect(replaced.info).toMatchObject({ size: 9, etag: md5('{"a":22}\n'), contentType: DEFAULT_CONTENT_TYPE });
    expect(await tree(join(root, LOCAL_META_DIR))).not.toContainEqual(expect.stringContaining(LOCAL_TEMP_PREFIX));
  });

  it('ignores a sidecar that describes other bytes (file replaced by hand)', async () => {
    await store.put(BUCKET, 'k', 'original', { metadata: { a: 'b' } });
    await writeFile(join(root, BUCKET, 'k'), 'replaced by hand');

    const { body, info } = await store.get(BUCKET, 'k');

    expect(Buffer.from(body).toString()).toBe('replaced by hand');
    expect(info.etag).toBe(md5('replaced by hand'));
    expect(info.metadata).toEqual({});
    // LIST stats the file and reads the sidecar without opening the data: a stale sidecar must not lend its ETag
    expect((await store.list(BUCKET)).objects).toMatchObject([{ key: 'k', size: 16, etag: md5('replaced by hand') }]);
  });

  it('lists the ETag a sidecar records for exactly these bytes (not a hash of them), the same as a GET', async () => {
    await store.put(BUCKET, 'k', 'bytes');
    const metaPath = join(root, LOCAL_META_DIR, BUCKET, 'k');
    const sidecar = JSON.parse(await readFile(metaPath, 'utf8')) as Record<string, unknown>;
    // a multipart-style ETag is no MD5 of the bytes: only the sidecar can give it
    await writeFile(metaPath, JSON.stringify({ ...sidecar, etag: 'abc-2' }));

    expect((await store.list(BUCKET)).objects).toMatchObject([{ key: 'k', size: 5, etag: 'abc-2' }]);
    expect((await store.head(BUCKET, 'k'))?.etag).toBe('abc-2');
  });

  it('skips hand-made files whose names are no valid key when listing', async () => {
    await mkdir(join(root, BUCKET), { recursive: true });
    await writeFile(join(root, BUCKET, 'back\\slash'), 'x');
    await writeFile(join(root, BUCKET, 'fine'), 'x');

    expect((await store.list(BUCKET)).objects.map((o) => o.key)).toEqual(['fine']);
  });

  it('prunes emptied folders on delete, in both trees, and keeps the bucket folder', async () => {
    await store.put(BUCKET, 'p/q/r/s', 'x');
    await store.put(BUCKET, 'p/keep', 'y');

    await store.delete(BUCKET, 'p/q/r/s');

    expect(existsSync(join(root, BUCKET, 'p/q'))).toBe(false);
    expect(existsSync(join(root, LOCAL_META_DIR, BUCKET, 'p/q'))).toBe(false);
    expect(existsSync(join(root, BUCKET, 'p/keep'))).toBe(true);
    await store.delete(BUCKET, 'p/keep');
    expect(await tree(join(root, BUCKET))).toEqual([]);
    expect(existsSync(join(root, BUCKET))).toBe(true);
  });

  it('lists a bucket with no folder yet as empty and rejects a forged continuation token', async () => {
    expect(await store.list('never-written')).toEqual({ objects: [] });
    await expect(store.list(BUCKET, { continuationToken: 'not-a-token' })).rejects.toThrow(
      /invalid continuation token/,
    );
  });
});

describe('LocalObjectStore atomic writes', () => {
  it('never lets a reader see partial content or a sidecar from another version', async () => {
    const a = Buffer.alloc(2 * MiB, 'a');
    const b = Buffer.alloc(MiB + 7, 'b');
    const versions = new Map([
      [md5(a), { bytes: a, v: 'a' }],
      [md5(b), { bytes: b, v: 'b' }],
    ]);
    await store.put(BUCKET, 'hot/object', a, { metadata: { v: 'a' } });
    let writing = true;

    const writer = (async () => {
      for (let i = 0; i < 30; i++) {
        const bytes = i % 2 ? a : b;
        await store.put(
          BUCKET,
          'hot/object',
          i % 3 ? bytes : Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
          {
            metadata: { v: i % 2 ? 'a' : 'b' },
          },
        );
      }
      writing = false;
    })();
    const reader = (async () => {
      let reads = 0;
      while (writing || reads < 5) {
        const { body, info } = await store.get(BUCKET, 'hot/object');
        const version = versions.get(md5(body));
        expect(version, `read ${reads}: ${body.byteLength} bytes match no written version`).toBeDefined();
        expect(info.etag).toBe(md5(body));
        expect(info.size).toBe(body.byteLength);
        expect(info.metadata).toEqual({ v: version?.v });
        const raw = await readFile(join(root, BUCKET, 'hot/object'));
        expect(versions.has(md5(raw)), 'a plain file read saw a torn file').toBe(true);
        reads++;
      }
      return reads;
    })();

    const [, reads] = await Promise.all([writer, reader]);
    expect(reads).toBeGreaterThan(0);
    expect((await tree(root)).filter((p) => p.includes('.btc-etl-tmp-') || p.endsWith('.lock'))).toEqual([]);
  });

  it('ends concurrent writers of one key with one whole version whose sidecar matches it', async () => {
    // Many small writers, several rounds: the interleaving that would pair one writer's bytes with another's
    // sidecar is rare, so give it many chances.
    const bodies = Array.from({ length: 64 }, (_, i) => Buffer.alloc(1000 + i * 97, String.fromCharCode(48 + i)));

    for (let round = 0; round < 8; round++) {
      await Promise.all(
        bodies.map((body, i) => store.put(BUCKET, 'contended', body, { metadata: { writer: String(i) } })),
      );

      const { body, info } = await store.get(BUCKET, 'contended');
      const winner = bodies.findIndex((candidate) => candidate.equals(body));
      expect(winner).toBeGreaterThanOrEqual(0);
      expect(info.metadata, `round ${round}`).toEqual({ writer: String(winner) });
      expect(info.etag).toBe(md5(body));
    }
    expect((await tree(root)).filter((p) => p.includes('.btc-etl-tmp-') || p.endsWith('.lock'))).toEqual([]);
  });

  it('leaves no temp file behind after a put whose stream fails', async () => {
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(100_000, 1);
        throw new Error('upstream closed');
      })(),
    );

    const error = await catchError(() => store.put(BUCKET, 'dir/failed', failing), ObjectStoreError);
    expect(error.message).toContain('upstream closed');
    expect((await tree(root)).filter((p) => p.includes('.btc-etl-tmp-'))).toEqual([]);
  });

  it('keeps serving the version a stream was opened on while the key is overwritten and deleted', async () => {
    const original = Buffer.alloc(3 * MiB, 'o');
    await store.put(BUCKET, 'pinned', original);

    const { stream, info } = await store.getStream(BUCKET, 'pinned');
    await store.put(BUCKET, 'pinned', 'new');
    await store.delete(BUCKET, 'pinned');

    expect(info.etag).toBe(md5(original));
    expect((await readAll(stream)).equals(original)).toBe(true);
  });

  it('pins the version getChunks opened, and closes the file when the reader finishes or stops early', async () => {
    const original = Buffer.alloc(3 * MiB, 'o');
    await store.put(BUCKET, 'pinned', original);
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();

    const whole = await store.getChunks(BUCKET, 'pinned');
    await store.put(BUCKET, 'pinned', 'new');
    await store.delete(BUCKET, 'pinned');
    const copies: Buffer[] = [];
    for await (const chunk of whole.chunks) copies.push(Buffer.from(chunk));
    expect(Buffer.concat(copies).equals(original)).toBe(true);
    expect(openFiles()).toBe(before);

    await store.put(BUCKET, 'pinned', original);
    const early = await store.getChunks(BUCKET, 'pinned');
    expect(openFiles()).toBe(before + 1);
    for await (const chunk of early.chunks) {
      expect(chunk.byteLength).toBeGreaterThan(0);
      break;
    }
    expect(openFiles()).toBe(before);
  });

  it('waits for a lock held by another writer and breaks a stale one', async () => {
    const lockName = createHash('sha256').update(`${BUCKET}\0locked`).digest('hex').slice(0, 40);
    const lockPath = join(root, LOCAL_META_DIR, '.locks', `${lockName}.lock`);
    await mkdir(join(root, LOCAL_META_DIR, '.locks'), { recursive: true });
    await writeFile(lockPath, '');
    let putDone = false;
    let doneBeforeRelease: boolean | undefined;
    const released = new Promise<void>((resolveRelease) => {
      setTimeout(() => {
        doneBeforeRelease = putDone;
        void rm(lockPath).then(resolveRelease);
      }, 150);
    });

    const put = store.put(BUCKET, 'locked', 'waited').then(() => {
      putDone = true;
    });
    await Promise.all([put, released]);

    expect(doneBeforeRelease).toBe(false);
    expect(Buffer.from((await store.get(BUCKET, 'locked')).body).toString()).toBe('waited');

    await writeFile(lockPath, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath, old, old);
    await store.put(BUCKET, 'locked', 'after stale lock');
    expect(Buffer.from((await store.get(BUCKET, 'locked')).body).toString()).toBe('after stale lock');
    expect(existsSync(lockPath)).toBe(false);
  });
});

describe('LocalObjectStore ETags', () => {
  it('equals the MD5 of the bytes for puts and small copies', async () => {
    const bytes = Buffer.from('price,97123.45\n'.repeat(1000));

    const put = await store.put(BUCKET, 'e', bytes);
    const copy = await store.copy({ bucket: BUCKET, key: 'e' }, { bucket: 'other-bucket', key: 'e' });

    expect(put.etag).toBe(createHash('md5').update(bytes).digest('hex'));
    expect(copy.etag).toBe(put.etag);
    expect(existsSync(join(root, 'other-bucket', 'e'))).toBe(true);
  });
});

describe('configuration', () => {
  it('names a bad option', () => {
    expect(() => new LocalObjectStore({ root, uploadPartSizeBytes: 1024 })).toThrow(ObjectStoreConfigError);
    expect(() => new LocalObjectStore({ root, multipartPartSizeBytes: 1.5 })).toThrow(/multipartPartSizeBytes/);
    expect(() => createObjectStore({ kind: 'local', root: ' ' })).toThrow(/root/);
    expect(() => createObjectStore({ kind: 'gcs' } as never)).toThrow(/kind must be "local" or "s3", got "gcs"/);
  });

  it('builds each adapter from its config', () => {
    expect(createObjectStore({ kind: 'local', root })).toBeInstanceOf(LocalObjectStore);
    expect((createObjectStore({ kind: 'local', root: 'relative/dir' }) as LocalObjectStore).root).toBe(
      join(process.cwd(), 'relative/dir'),
    );
  });
});
