import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ObjectNotFoundError, ObjectStoreError, PreconditionFailedError } from './object-store.errors';
import type { ObjectInfo, ObjectStore } from './object-store.port';

/**
 * The behaviour every `ObjectStore` adapter must share, as one vitest suite. Test-only: not exported from index.ts.
 * `object-store.int.spec.ts` runs it against the local adapter (temp folder) and the S3 adapter (moto).
 */
export interface ContractFixture {
  store: ObjectStore;
  /** Two empty buckets, fresh for each test. */
  bucket: string;
  otherBucket: string;
}

export interface ContractStoreOptions {
  multipartCopyThresholdBytes?: number;
  multipartPartSizeBytes?: number;
}

export type ContractFactory = (options?: ContractStoreOptions) => Promise<ContractFixture>;

const MiB = 1024 * 1024;

export function md5(bytes: Uint8Array | string): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** The multipart ETag computed independently of the code under test: md5 of the part md5s, `-N`. */
export function expectedMultipartEtag(bytes: Uint8Array, partSize: number): string {
  const outer = createHash('md5');
  let parts = 0;
  for (let start = 0; start < bytes.byteLength; start += partSize, parts++) {
    outer.update(
      createHash('md5')
        .update(bytes.subarray(start, start + partSize))
        .digest(),
    );
  }
  return `${outer.digest('hex')}-${parts}`;
}

/** Deterministic, non-repeating-ish bytes so a misplaced part would change the hash. */
export function patternBytes(size: number, seed = 7): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A stream that hands out `bytes` in uneven chunks, like a socket would. */
export function chunkedStream(bytes: Uint8Array, chunk = 64 * 1024 + 3): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.byteLength; i += chunk) yield Buffer.from(bytes.subarray(i, i + chunk));
    })(),
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function keysOf(store: ObjectStore, bucket: string, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.listAll(bucket, prefix)) keys.push(info.key);
  return keys;
}

function s3Order(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

const EDGE_KEYS = [
  'with space/file name.json',
  'plus+sign/a+b=c.json',
  'percent/100%/50%25 off',
  'unicode/€uro/日本語/grüße-🚀.json',
  'deep/1/2/3/4/5/6/7/8/9/10/11/12/leaf.ndjson',
  `quotes/it's "quoted" & <angled>`,
  'raw/2026/11/27/19/btc-etl-raw-1-2026-11-27-19-53-15-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
];

/** Keys whose S3 order differs from a naive per-folder sort: `-` < `.` < `/` < `0` < `A` < `a` < `é`. */
const ORDER_KEYS = ['z', 'a0', 'a/c/d', 'a.txt', 'A', 'a/b', 'a-b', 'é/x', '~tilde', 'a/b0', 'b'];

export function objectStoreContract(name: string, factory: ContractFactory): void {
  describe(`ObjectStore contract: ${name}`, () => {
    describe('put / get / head', () => {
      it('stores a buffer with content type and metadata and reads it back', async () => {
        const { store, bucket } = await factory();
        const bytes = patternBytes(10_000);

        const put = await store.put(bucket, 'dir/obj.bin', bytes, {
          contentType: 'application/x-ndjson',
          metadata: { Source: 'extractor', 'record-count': '42' },
        });

        expect(put.etag).toBe(md5(bytes));
        const got = await store.get(bucket, 'dir/obj.bin');
        expect(Buffer.from(got.body).equals(bytes)).toBe(true);
        expect(got.info).toMatchObject({
          bucket,
          key: 'dir/obj.bin',
          size: 10_000,
          etag: md5(bytes),
          contentType: 'application/x-ndjson',
          metadata: { source: 'extractor', 'record-count': '42' },
        });
        expect(got.info.lastModified).toBeInstanceOf(Date);
        expect(Math.abs(got.info.lastModified.getTime() - Date.now())).toBeLessThan(10 * 60_000);
        const head = await store.head(bucket, 'dir/obj.bin');
        expect(head).toMatchObject({ size: 10_000, etag: md5(bytes), contentType: 'application/x-ndjson' });
        expect(head?.metadata).toEqual({ source: 'extractor', 'record-count': '42' });
      });

      it('stores a string as UTF-8 and an empty body as zero bytes', async () => {
        const { store, bucket } = await factory();
        const text = '{"price":"97123.45","note":"ünïcödé €"}\n';

        const put = await store.put(bucket, 'text.json', text);
        const empty = await store.put(bucket, 'empty', '');

        expect(put.etag).toBe(md5(Buffer.from(text, 'utf8')));
        expect(Buffer.from((await store.get(bucket, 'text.json')).body).toString('utf8')).toBe(text);
        expect(empty.etag).toBe('d41d8cd98f00b204e9800998ecf8427e');
        const got = await store.get(bucket, 'empty');
        expect(got.body.byteLength).toBe(0);
        expect(got.info.size).toBe(0);
      });

      it('stores a small stream with a plain MD5 ETag', async () => {
        const { store, bucket } = await factory();
        const bytes = patternBytes(300_000, 3);

        const put = await store.put(bucket, 'stream/small', chunkedStream(bytes), { contentType: 'text/plain' });

        expect(put.etag).toBe(md5(bytes));
        const got = await store.get(bucket, 'stream/small');
        expect(Buffer.from(got.body).equals(bytes)).toBe(true);
        expect(got.info.contentType).toBe('text/plain');
      });

      it('stores a stream longer than one 5 MiB part with the multipart ETag S3 gives it', async () => {
        const { store, bucket } = await factory();
        const bytes = patternBytes(5 * MiB + 12_345, 5);

        const put = await store.put(bucket, 'stream/large', chunkedStream(bytes));

        expect(put.etag).toBe(expectedMultipartEtag(bytes, 5 * MiB));
        expect(put.etag.endsWith('-2')).toBe(true);
        const got = await store.get(bucket, 'stream/large');
        expect(Buffer.from(got.body).equals(bytes)).toBe(true);
        expect(got.info.etag).toBe(put.etag);
        expect(got.info.size).toBe(bytes.byteLength);
      });

      it('replaces bytes, content type and metadata on overwrite (no merge)', async () => {
        const { store, bucket } = await factory();
        await store.put(bucket, 'k', 'first', { contentType: 'text/plain', metadata: { a: '1', b: '2' } });

        await store.put(bucket, 'k', 'second!', { contentType: 'application/json', metadata: { c: '3' } });

        const got = await store.get(bucket, 'k');
        expect(Buffer.from(got.body).toString()).toBe('second!');
        expect(got.info.metadata).toEqual({ c: '3' });
        expect(got.info.contentType).toBe('application/json');
        expect(got.info.etag).toBe(md5('second!'));
      });

      it('rejects a put whose stream fails and keeps the object already there', async () => {
        const { store, bucket } = await factory();
        await store.put(bucket, 'keep', 'accepted bytes');
        const failing = Readable.from(
          (async function* () {
            yield Buffer.from('partial ');
            throw new Error('source broke');
          })(),
        );

        await expect(store.put(bucket, 'keep', failing)).rejects.toBeInstanceOf(ObjectStoreError);
        await expect(
          store.put(
            bucket,
            'never',
            Readable.from(
              (async function* () {
                yield Buffer.from('x');
                throw new Error('boom');
              })(),
            ),
          ),
        ).rejects.toThrow();

        expect(Buffer.from((await store.get(bucket, 'keep')).body).toString()).toBe('accepted bytes');
        expect(await store.head(bucket, 'never')).toBeUndefined();
        expect(await keysOf(store, bucket)).toEqual(['keep']);
      });

      it('reports a missing object: get/getStream/getChunks reject (not found), head gives undefined', async () => {
        const { store, bucket } = await factory();

        const error = await store.get(bucket, 'nope/missing.json').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ObjectNotFoundError);
        expect(error).toMatchObject({ bucket, key: 'nope/missing.json', operation: 'get' });
        await expect(store.getStream(bucket, 'nope/missing.json')).rejects.toBeInstanceOf(ObjectNotFoundError);
        await expect(store.getChunks(bucket, 'nope/missing.json')).rejects.toBeInstanceOf(ObjectNotFoundError);
        expect(await store.head(bucket, 'nope/missing.json')).toBeUndefined();
      });

      it('treats a "folder" (a prefix of longer keys) as no object', async () => {
        const { store, bucket } = await factory();
        await store.put(bucket, 'folder/inside', 'x');

        expect(await store.head(bucket, 'folder')).toBeUndefined();
        await expect(store.get(bucket, 'folder')).rejects.toBeInstanceOf(ObjectNotFoundError);
      });
    });

    describe('conditional put (ifNoneMatch / ifMatch)', () => {
      it("creates with ifNoneMatch only where no object is, and leaves the first writer's bytes", async () => {
        const { store, bucket } = await factory();
        const first = await store.put(bucket, 'lease', 'first', { ifNoneMatch: '*' });

        const refused = await store.put(bucket, 'lease', 'second', { ifNoneMatch: '*' }).catch((e: unknown) => e);

        expect(refused).toBeInstanceOf(PreconditionFailedError);
        expect((refused as PreconditionFailedError).expectedEtag).toBe('*');
        expect((refused as PreconditionFailedError).key).toBe('lease');
        const got = await store.get(bucket, 'lease');
        expect(Buffer.from(got.body).toString()).toBe('first');
        expect(got.info.etag).toBe(first.etag);
      });

      it('replaces with ifMatch only the version it names (quoted or not), and refuses a stale one', async () => {
        const { store, bucket } = await factory();
        const v1 = await store.put(bucket, 'manifest', 'v1');
        const v2 = await store.put(bucket, 'manifest', 'v2', { ifMatch: `"${v1.etag}"` });

        const stale = await store.put(bucket, 'manifest', 'lost update', { ifMatch: v1.etag }).catch((e: unknown) => e);

        expect(stale).toBeInstanceOf(PreconditionFailedError);
        expect((stale as PreconditionFailedError).expectedEtag).toBe(v1.etag);
        const got = await store.get(bucket, 'manifest');
        expect(Buffer.from(got.body).toString()).toBe('v2');
        expect(got.info.etag).toBe(v2.etag);
      });

      it('refuses ifMatch on a missing object and writes nothing', async () => {
        const { store, bucket } = await factory();
        await expect(store.put(bucket, 'absent', 'x', { ifMatch: md5('x') })).rejects.toBeInstanceOf(
          PreconditionFailedError,
        );
        expect(await store.head(bucket, 'absent')).toBeUndefined();
      });

      it('lets exactly one of many concurrent create-only puts win', async () => {
        const { store, bucket } = await factory();
        const attempts = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => store.put(bucket, 'race', `writer ${i}`, { ifNoneMatch: '*' })),
        );
        const won = attempts.filter((a) => a.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const lost of attempts.filter((a) => a.status === 'rejected')) {
          expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(PreconditionFailedError);
        }
        const winner = attempts.findIndex((a) => a.status === 'fulfilled');
        expect(Buffer.from((await store.get(bucket, 'race')).body).toString()).toBe(`writer ${winner}`);
      });

      it('names a malformed condition or a stream body, before anything is written', async () => {
        const { store, bucket } = await factory();
        await expect(store.put(bucket, 'k', 'x', { ifNoneMatch: 'etag' as '*' })).rejects.toThrow(/ifNoneMatch/);
        await expect(store.put(bucket, 'k', 'x', { ifMatch: '' })).rejects.toThrow(/ifMatch/);
        await expect(store.put(bucket, 'k', chunkedStream(Buffer.from('x')), { ifNoneMatch: '*' })).rejects.toThrow(
          /stream/,
        );
        expect(await store.head(bucket, 'k')).toBeUndefined();
      });
    });

    describe('getStream', () => {
      it('streams the exact bytes with the object info', async () => {
        const { store, bucket } = await factory();
        const bytes = patternBytes(700_000, 11);
        await store.put(bucket, 's/x.bin', bytes, { contentType: 'application/octet-stream', metadata: { m: 'v' } });

        const { stream, info } = await store.getStream(bucket, 's/x.bin');

        expect(info).toMatchObject({ size: bytes.byteLength, etag: md5(bytes), metadata: { m: 'v' } });
        expect((await readAll(stream)).equals(bytes)).toBe(true);
      });
    });

    describe('getChunks', () => {
      it('yields the exact bytes, chunk by chunk, with the object info', async () => {
        const { store, bucket } = await factory();
        // larger than one chunk of either adapter, and not a multiple of one
        const bytes = patternBytes(2_500_003, 17);
        await store.put(bucket, 's/big.bin', bytes, { metadata: { m: 'w' } });

        const { chunks, info } = await store.getChunks(bucket, 's/big.bin');
        const copies: Buffer[] = [];
        // a chunk is borrowed until the next one: keep copies
        for await (const chunk of chunks) copies.push(Buffer.from(chunk));

        expect(info).toMatchObject({ size: bytes.byteLength, etag: md5(bytes), metadata: { m: 'w' } });
        expect(copies.length).toBeGreaterThan(1);
        expect(Buffer.concat(copies).equals(bytes)).toBe(true);
      });

      it('keeps readers apart: two objects read chunk by chunk in turns, then a third after them', async () => {
        const { store, bucket } = await factory();
        const a = patternBytes(2_200_000, 29);
        const b = patternBytes(2_300_000, 31);
        await store.put(bucket, 's/a.bin', a);
        await store.put(bucket, 's/b.bin', b);

        const readers = await Promise.all(
          ['s/a.bin', 's/b.bin'].map(async (key) =>
            (await store.getChunks(bucket, key)).chunks[Symbol.asyncIterator](),
          ),
        );
        const copies: Buffer[][] = [[], []];
        for (let open = [0, 1]; open.length > 0; ) {
          const next: number[] = [];
          for (const r of open) {
            const step = await (readers[r] as AsyncIterator<Uint8Array>).next();
            if (step.done) continue;
            (copies[r] as Buffer[]).push(Buffer.from(step.value));
            next.push(r);
          }
          open = next;
        }
        expect(Buffer.concat(copies[0] as Buffer[]).equals(a)).toBe(true);
        expect(Buffer.concat(copies[1] as Buffer[]).equals(b)).toBe(true);
        const third: Buffer[] = [];
        for await (const chunk of (await store.getChunks(bucket, 's/a.bin')).chunks) third.push(Buffer.from(chunk));
        expect(Buffer.concat(third).equals(a)).toBe(true);
      });
    });

    describe('copy', () => {
      it('copies bytes, content type and metadata to another bucket', async () => {
        const { store, bucket, otherBucket } = await factory();
        const bytes = patternBytes(50_000, 13);
        const put = await store.put(bucket, 'raw/a.json', bytes, {
          contentType: 'application/json',
          metadata: { origin: 'firehose' },
        });

        const copied = await store.copy({ bucket, key: 'raw/a.json' }, { bucket: otherBucket, key: 'backup/a.json' });

        expect(copied.etag).toBe(put.etag);
        const got = await store.get(otherBucket, 'backup/a.json');
        expect(Buffer.from(got.body).equals(bytes)).toBe(true);
        expect(got.info.contentType).toBe('application/json');
        expect(got.info.metadata).toEqual({ origin: 'firehose' });
        expect(await store.head(bucket, 'raw/a.json')).toBeDefined();
      });

      it('copies when the source ETag matches, quoted or not', async () => {
        const { store, bucket, otherBucket } = await factory();
        const { etag } = await store.put(bucket, 'src', 'conditional bytes');

        const bare = await store.copy(
          { bucket, key: 'src' },
          { bucket: otherBucket, key: 'dst1' },
          { ifSourceEtag: etag },
        );
        const quoted = await store.copy(
          { bucket, key: 'src' },
          { bucket: otherBucket, key: 'dst2' },
          { ifSourceEtag: `"${etag}"` },
        );

        expect(bare.etag).toBe(etag);
        expect(quoted.etag).toBe(etag);
        expect(Buffer.from((await store.get(otherBucket, 'dst2')).body).toString()).toBe('conditional bytes');
      });

      it('refuses with PreconditionFailedError when the source ETag differs, and writes nothing', async () => {
        const { store, bucket, otherBucket } = await factory();
        const { etag } = await store.put(bucket, 'src', 'current bytes');
        const stale = md5('older bytes');

        const error = await store
          .copy({ bucket, key: 'src' }, { bucket: otherBucket, key: 'dst' }, { ifSourceEtag: stale })
          .catch((e: unknown) => e);

        expect(error).toBeInstanceOf(PreconditionFailedError);
        expect(error).toMatchObject({ expectedEtag: stale, actualEtag: etag, bucket, key: 'src', operation: 'copy' });
        expect(await store.head(otherBucket, 'dst')).toBeUndefined();
      });

      it(
        'takes a sourceSize hint without changing the outcome: ' +
          'copies the named version, still refuses a stale ETag',
        async () => {
          const { store, bucket, otherBucket } = await factory();
          const { etag } = await store.put(bucket, 'src', 'hinted bytes', {
            contentType: 'application/x-ndjson',
            metadata: { origin: 'firehose' },
          });
          const size = Buffer.byteLength('hinted bytes');

          const copied = await store.copy(
            { bucket, key: 'src' },
            { bucket: otherBucket, key: 'dst' },
            { ifSourceEtag: etag, sourceSize: size },
          );
          const stale = await store
            .copy(
              { bucket, key: 'src' },
              { bucket: otherBucket, key: 'dst-stale' },
              { ifSourceEtag: md5('older bytes'), sourceSize: size },
            )
            .catch((e: unknown) => e);

          expect(copied.etag).toBe(etag);
          expect((await store.get(otherBucket, 'dst')).info).toMatchObject({
            contentType: 'application/x-ndjson',
            metadata: { origin: 'firehose' },
          });
          expect(stale).toBeInstanceOf(PreconditionFailedError);
          expect(await store.head(otherBucket, 'dst-stale')).toBeUndefined();
        },
      );

      it('refuses a sourceSize that is not a byte count, naming it', async () => {
        const { store, bucket, otherBucket } = await factory();
        const { etag } = await store.put(bucket, 'src', 'x');

        for (const sourceSize of [-1, 1.5, Number.NaN]) {
          await expect(
            store.copy({ bucket, key: 'src' }, { bucket: otherBucket, key: 'dst' }, { ifSourceEtag: etag, sourceSize }),
          ).rejects.toThrow(/sourceSize must be a whole number of bytes >= 0/);
        }
        expect(await store.head(otherBucket, 'dst')).toBeUndefined();
      });

      it('rejects a missing source with ObjectNotFoundError naming the source', async () => {
        const { store, bucket, otherBucket } = await factory();

        const error = await store
          .copy({ bucket, key: 'gone' }, { bucket: otherBucket, key: 'dst' })
          .catch((e: unknown) => e);

        expect(error).toBeInstanceOf(ObjectNotFoundError);
        expect(error).toMatchObject({ bucket, key: 'gone', operation: 'copy' });
        expect(await store.head(otherBucket, 'dst')).toBeUndefined();
      });

      it('copies above the threshold as multipart: ETag with -N, identical bytes, metadata kept', async () => {
        const { store, bucket, otherBucket } = await factory({
          multipartCopyThresholdBytes: 1024,
          multipartPartSizeBytes: 5 * MiB,
        });
        const bytes = patternBytes(11 * MiB + 777, 17);
        const put = await store.put(bucket, 'big/source.bin', bytes, {
          contentType: 'application/x-parquet',
          metadata: { kind: 'big' },
        });

        const copied = await store.copy(
          { bucket, key: 'big/source.bin' },
          { bucket: otherBucket, key: 'big/copy.bin' },
          { ifSourceEtag: put.etag },
        );

        expect(put.etag).toBe(md5(bytes));
        expect(copied.etag).toBe(expectedMultipartEtag(bytes, 5 * MiB));
        expect(copied.etag).toMatch(/^[0-9a-f]{32}-3$/);
        const got = await store.get(otherBucket, 'big/copy.bin');
        expect(Buffer.from(got.body).equals(bytes)).toBe(true);
        expect(got.info).toMatchObject({
          etag: copied.etag,
          contentType: 'application/x-parquet',
          metadata: { kind: 'big' },
        });
      });

      it('copies at or below the threshold in one piece', async () => {
        const { store, bucket, otherBucket } = await factory({ multipartCopyThresholdBytes: 1024 });
        const bytes = patternBytes(1024, 19);
        await store.put(bucket, 'edge', bytes);

        const copied = await store.copy({ bucket, key: 'edge' }, { bucket: otherBucket, key: 'edge' });

        expect(copied.etag).toBe(md5(bytes));
      });
    });

    describe('list', () => {
      it('lists in UTF-8 byte order with size and ETag, across folders', async () => {
        const { store, bucket } = await factory();
        for (const key of ORDER_KEYS) await store.put(bucket, key, `body of ${key}`);

        const page = await store.list(bucket);

        expect(page.objects.map((o) => o.key)).toEqual(s3Order(ORDER_KEYS));
        expect(page.nextContinuationToken).toBeUndefined();
        const first = page.objects.find((o) => o.key === 'a/b') as ObjectInfo;
        expect(first).toMatchObject({
          bucket,
          size: Buffer.byteLength('body of a/b'),
          etag: md5('body of a/b'),
          metadata: {},
        });
        expect(first.lastModified).toBeInstanceOf(Date);
      });

      it('filters by prefix, including prefixes that end inside a name', async () => {
        const { store, bucket } = await factory();
        for (const key of ORDER_KEYS) await store.put(bucket, key, 'x');

        expect((await store.list(bucket, { prefix: 'a/' })).objects.map((o) => o.key)).toEqual([
          'a/b',
          'a/b0',
          'a/c/d',
        ]);
        expect((await store.list(bucket, { prefix: 'a/b' })).objects.map((o) => o.key)).toEqual(['a/b', 'a/b0']);
        expect((await store.list(bucket, { prefix: 'a' })).objects.map((o) => o.key)).toEqual([
          'a-b',
          'a.txt',
          'a/b',
          'a/b0',
          'a/c/d',
          'a0',
        ]);
        expect((await store.list(bucket, { prefix: 'nothing/' })).objects).toEqual([]);
      });

      it('pages with maxKeys and continuation tokens, every key exactly once', async () => {
        const { store, bucket } = await factory();
        const keys = Array.from({ length: 23 }, (_, i) => `p/${String(i).padStart(3, '0')}/${i % 2 ? 'odd' : 'even'}`);
        for (const key of [...keys].reverse()) await store.put(bucket, key, key);

        const pages: string[][] = [];
        let token: string | undefined;
        do {
          const page = await store.list(bucket, { prefix: 'p/', maxKeys: 5, continuationToken: token });
          pages.push(page.objects.map((o) => o.key));
          token = page.nextContinuationToken;
        } while (token);

        expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
        expect(pages.flat()).toEqual(s3Order(keys));
        expect(await keysOf(store, bucket, 'p/')).toEqual(s3Order(keys));
      });

      it('starts after a given key, present or not', async () => {
        const { store, bucket } = await factory();
        for (const key of ORDER_KEYS) await store.put(bucket, key, 'x');
        const all = s3Order(ORDER_KEYS);

        expect((await store.list(bucket, { startAfter: 'a/b' })).objects.map((o) => o.key)).toEqual(
          all.slice(all.indexOf('a/b') + 1),
        );
        expect((await store.list(bucket, { startAfter: 'a/bz' })).objects.map((o) => o.key)).toEqual(
          all.slice(all.indexOf('a/c/d')),
        );
        expect((await store.list(bucket, { startAfter: 'a/', prefix: 'a/' })).objects.map((o) => o.key)).toEqual([
          'a/b',
          'a/b0',
          'a/c/d',
        ]);
        const paged = await store.list(bucket, { startAfter: 'a.txt', maxKeys: 2 });
        expect(paged.objects.map((o) => o.key)).toEqual(['a/b', 'a/b0']);
        const rest = await store.list(bucket, { continuationToken: paged.nextContinuationToken });
        expect(rest.objects[0]?.key).toBe('a/c/d');
      });

      it('rejects maxKeys outside 1..1000', async () => {
        const { store, bucket } = await factory();

        await expect(store.list(bucket, { maxKeys: 0 })).rejects.toThrow(/maxKeys/);
        await expect(store.list(bucket, { maxKeys: 1001 })).rejects.toBeInstanceOf(ObjectStoreError);
      });

      it('lists an empty bucket as no objects', async () => {
        const { store, bucket } = await factory();

        expect(await store.list(bucket)).toEqual({ objects: [] });
        expect(await keysOf(store, bucket)).toEqual([]);
      });
    });

    describe('delete', () => {
      it('deletes an object, leaves its neighbours, and accepts a missing key', async () => {
        const { store, bucket } = await factory();
        await store.put(bucket, 'd/1/a', 'a');
        await store.put(bucket, 'd/1/b', 'b');

        await store.delete(bucket, 'd/1/a');
        await store.delete(bucket, 'd/1/a');
        await store.delete(bucket, 'never/was');

        expect(await store.head(bucket, 'd/1/a')).toBeUndefined();
        expect(await keysOf(store, bucket)).toEqual(['d/1/b']);
      });

      it('lets a former folder become an object once its keys are deleted', async () => {
        const { store, bucket } = await factory();
        await store.put(bucket, 'x/y/z', 'deep');

        await store.delete(bucket, 'x/y/z');
        await store.put(bucket, 'x/y', 'now a file');

        expect(Buffer.from((await store.get(bucket, 'x/y')).body).toString()).toBe('now a file');
        expect(await keysOf(store, bucket)).toEqual(['x/y']);
      });
    });

    describe('keys with spaces, +, %, unicode and deep prefixes', () => {
      it('round-trips every operation on each key', async () => {
        const { store, bucket, otherBucket } = await factory();

        for (const key of EDGE_KEYS) {
          const put = await store.put(bucket, key, `bytes of ${key}`, { metadata: { k: 'v' } });
          expect(Buffer.from((await store.get(bucket, key)).body).toString(), key).toBe(`bytes of ${key}`);
          expect((await store.head(bucket, key))?.etag, key).toBe(put.etag);
          const copied = await store.copy({ bucket, key }, { bucket: otherBucket, key }, { ifSourceEtag: put.etag });
          expect(copied.etag, key).toBe(put.etag);
          expect((await store.head(otherBucket, key))?.metadata, key).toEqual({ k: 'v' });
        }

        expect(await keysOf(store, bucket)).toEqual(s3Order(EDGE_KEYS));
        const unicodeKey = 'unicode/€uro/日本語/grüße-🚀.json';
        expect(await keysOf(store, otherBucket, 'unicode/€uro/')).toEqual([unicodeKey]);
        expect(await keysOf(store, otherBucket, 'plus+sign/')).toEqual(['plus+sign/a+b=c.json']);
        for (const key of EDGE_KEYS) await store.delete(bucket, key);
        expect(await keysOf(store, bucket)).toEqual([]);
        expect(await keysOf(store, otherBucket)).toEqual(s3Order(EDGE_KEYS));
      });
    });
  });
}
