import { fstatSync, lstatSync } from 'node:fs';
import { lstat, open, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { writeAtomically } from './local-atomic.writer';
import { KeyLocks } from './local-file.lock';
import { errorCode, NOT_FOUND_CODES, pruneEmptyDirs, toStoreError } from './local-fs.helpers';
import { checkLocalBucket, localKeyPaths, type KeyPaths } from './local-key.paths';
import { decodeListToken, encodeListToken, walkKeys } from './local.lister';
import { describes, keepSidecar, md5OfHandle, newSidecar, objectInfoOf, readSidecarSync } from './local.sidecar';
import { checkPutConditions, checkSourceSize, isStreamBody, listAllPages, pageSize } from './object-store.shared';
import {
  InvalidObjectKeyError,
  ObjectNotFoundError,
  ObjectStoreError,
  PreconditionFailedError,
  type ObjectStoreOperation,
} from './object-store.errors';
import type {
  Body,
  CopyOptions,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectRef,
  ObjectStore,
  PutOptions,
} from './object-store.port';
import {
  checkSize,
  DEFAULT_MULTIPART_COPY_THRESHOLD,
  DEFAULT_MULTIPART_PART_SIZE,
  DEFAULT_UPLOAD_PART_SIZE,
  effectivePartSize,
  S3_MIN_PART_SIZE,
  unquoteEtag,
} from './s3-etag';

/** Bytes per read of a stream from the store (getStream, getChunks). */
const READ_CHUNK = 1024 * 1024;
/** getChunks buffers kept for reuse: as many readers at once as a caller usually runs. */
const MAX_SPARE_BUFFERS = 4;

export interface LocalObjectStoreOptions {
  /** Folder holding `<bucket>/<key>` files (the apps' `DATA_DIR`); created on first write. */
  root: string;
  /**
   * A streamed put longer than this gets a multipart ETag (`<md5>-N`, parts of this size), exactly what the S3
   * adapter's lib-storage upload produces for the same bytes. Default 5 MiB, minimum 5 MiB (S3's part minimum).
   */
  uploadPartSizeBytes?: number;
  /** Copies of more bytes than this get a multipart ETag, like the S3 adapter's UploadPartCopy. Default 5 GiB. */
  multipartCopyThresholdBytes?: number;
  /** Part size of those copies (raised past 10,000 parts, as the S3 adapter does). Default 64 MiB, minimum 5 MiB. */
  multipartPartSizeBytes?: number;
}

interface Snapshot {
  handle: FileHandle;
  info: ObjectInfo;
}

type Chunks = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>;

/**
 * The local directory adapter: `<root>/<bucket>/<key>` holds the exact bytes (other tools, DuckDB for one, read
 * them in place), `<root>/.btc-etl-meta/<bucket>/<key>` a JSON sidecar with ETag, content type and metadata.
 *
 * - Writes go to a temp file in the target folder, are fsynced, then renamed over the target, so a reader sees the
 *   old bytes or the new ones, never a part. Concurrent writers of one key are serialized for the two renames
 *   (data, then sidecar) by a per-key lock file, so the last writer's bytes and sidecar always win together.
 * - A sidecar records which file (inode, size, mtime) it describes; a file without a matching one (placed by hand,
 *   or a crash between the renames) is served with its MD5 as ETag, the default content type and no metadata, and
 *   that sidecar is kept (best effort), so the file is hashed once, not at every read and listing.
 * - Keys that could escape the root, or that a directory tree cannot tell apart (`a//b`, `a/`, `%2e%2e`, ...),
 *   reject with `InvalidObjectKeyError`; so does a key that needs `a` to be both a file and a folder.
 * - Buckets are folders created on first write; listing a bucket that has none yields an empty page.
 */
export class LocalObjectStore implements ObjectStore {
  readonly root: string;
  private readonly uploadPartSize: number;
  private readonly copyThreshold: number;
  private readonly copyPartSize: number;
  private readonly locks = new KeyLocks();
  /**
   * Read buffers of getChunks readers that finished, for the next ones: a fresh buffer per object is external memory
   * V8 answers with a full GC every few megabytes (611 of them compacting the query bench's 8,640 raw objects).
   */
  private readonly spareBuffers: Buffer[] = [];

  constructor(options: LocalObjectStoreOptions) {
    this.root = resolve(options.root);
    this.uploadPartSize = checkSize(
      'uploadPartSizeBytes',
      options.uploadPartSizeBytes,
      DEFAULT_UPLOAD_PART_SIZE,
      S3_MIN_PART_SIZE,
    );
    this.copyThreshold = checkSize(
      'multipartCopyThresholdBytes',
      options.multipartCopyThresholdBytes,
      DEFAULT_MULTIPART_COPY_THRESHOLD,
      0,
    );
    this.copyPartSize = checkSize(
      'multipartPartSizeBytes',
      options.multipartPartSizeBytes,
      DEFAULT_MULTIPART_PART_SIZE,
      S3_MIN_PART_SIZE,
    );
  }

  async put(bucket: string, key: string, body: Body, options: PutOptions = {}): Promise<{ etag: string }> {
    const paths = this.paths('put', bucket, key);
    checkPutConditions(bucket, key, body, options);
    if (isStreamBody(body)) {
      return this.write('put', bucket, key, paths, body, { ...options, partSize: this.uploadPartSize });
    }
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    return this.write('put', bucket, key, paths, [bytes], options);
  }

  async get(bucket: string, key: string): Promise<{ body: Uint8Array; info: ObjectInfo }> {
    const { handle, info } = await this.snapshot('get', bucket, key);
    try {
      const body = Buffer.alloc(info.size);
      for (let offset = 0; offset < info.size; ) {
        const { bytesRead } = await handle.read(body, offset, info.size - offset, offset);
        if (bytesRead === 0) throw new ObjectStoreError('get', bucket, key, 'file shrank while being read');
        offset += bytesRead;
      }
      return { body, info };
    } finally {
      await handle.close();
    }
  }

  async getStream(bucket: string, key: string): Promise<{ stream: Readable; info: ObjectInfo }> {
    const { handle, info } = await this.snapshot('getStream', bucket, key);
    // The open handle pins this version: a concurrent overwrite or delete does not change what the stream yields.
    // Reads of READ_CHUNK bytes: each read is a trip to libuv's thread pool, so 64 KiB chunks (the default) cost a
    // reader of large objects more in thread hand-offs than in copying.
    return { stream: handle.createReadStream({ start: 0, autoClose: true, highWaterMark: READ_CHUNK }), info };
  }

  async getChunks(bucket: string, key: string): Promise<{ chunks: AsyncIterable<Uint8Array>; info: ObjectInfo }> {
    const { handle, info } = await this.snapshot('getChunks', bucket, key);
    const buffer = this.spareBuffers.pop() ?? Buffer.allocUnsafe(READ_CHUNK);
    const done = () => {
      if (this.spareBuffers.length < MAX_SPARE_BUFFERS) this.spareBuffers.push(buffer);
    };
    return { chunks: readInto(handle, buffer, bucket, key, done), info };
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const { handle, info } = await this.snapshot('head', bucket, key);
      await handle.close();
      return info;
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return undefined;
      throw error;
    }
  }

  async copy(source: ObjectRef, destination: ObjectRef, options: CopyOptions = {}): Promise<{ etag: string }> {
    // The size hint changes nothing here (the file is read anyway), but a bad one is refused as the S3 adapter does.
    checkSourceSize(source, options);
    const destinationPaths = this.paths('copy', destination.bucket, destination.key);
    const { handle, info } = await this.snapshot('copy', source.bucket, source.key);
    try {
      if (options.ifSourceEtag !== undefined && unquoteEtag(options.ifSourceEtag) !== info.etag) {
        throw new PreconditionFailedError(
          'copy',
          source.bucket,
          source.key,
          unquoteEtag(options.ifSourceEtag),
          info.etag,
        );
      }
      const multipart = info.size > this.copyThreshold && info.size > 0;
      const stream = handle.createReadStream({ start: 0, autoClose: false });
      return await this.write('copy', destination.bucket, destination.key, destinationPaths, stream, {
        contentType: info.contentType,
        metadata: info.metadata,
        partSize: multipart ? effectivePartSize(info.size, this.copyPartSize) : undefined,
        multipart,
      });
    } finally {
      await handle.close();
    }
  }

  async list(bucket: string, options: ListOptions = {}): Promise<ListPage> {
    const maxKeys = pageSize(bucket, options);
    checkLocalBucket('list', bucket);
    const after =
      options.continuationToken !== undefined ? decodeListToken(bucket, options.continuationToken) : options.startAfter;
    const objects: ObjectInfo[] = [];
    let truncated = false;
    const keys = walkKeys({ bucket, dir: join(this.root, bucket), keyPrefix: '', prefix: options.prefix ?? '', after });
    for await (const key of keys) {
      const info = await this.listedInfo(bucket, key);
      if (!info) continue;
      if (objects.length === maxKeys) {
        truncated = true;
        break;
      }
      objects.push(info);
    }
    const last = objects.at(-1);
    return truncated && last ? { objects, nextContinuationToken: encodeListToken(last.key) } : { objects };
  }

  listAll(bucket: string, prefix?: string): AsyncIterable<ObjectInfo> {
    return listAllPages((options) => this.list(bucket, options), prefix);
  }

  async delete(bucket: string, key: string): Promise<void> {
    const paths = this.paths('delete', bucket, key);
    try {
      await this.locks.with(paths.lockPath, async () => {
        const stats = await lstat(paths.dataPath).catch(() => undefined);
        // A folder at this path means only longer keys exist (`key/...`): like S3, nothing to delete here.
        if (stats?.isFile()) await unlink(paths.dataPath);
        await unlink(paths.metaPath).catch(() => undefined);
      });
      await pruneEmptyDirs(dirname(paths.dataPath), paths.bucketDir);
      await pruneEmptyDirs(dirname(paths.metaPath), paths.metaBucketDir);
    } catch (error) {
      throw toStoreError('delete', bucket, key, error);
    }
  }

  /** Refuse a conditional put whose condition the object at the key does not meet. Runs under the key lock. */
  private async checkConditions(
    operation: ObjectStoreOperation,
    bucket: string,
    key: string,
    paths: KeyPaths,
    options: PutOptions,
  ): Promise<void> {
    let current: Snapshot | undefined;
    try {
      current = await this.openWithSidecar(operation, bucket, key, paths, true);
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
    }
    await current?.handle.close();
    const actual = current?.info.etag;
    if (options.ifNoneMatch === '*' && actual !== undefined) {
      throw new PreconditionFailedError(operation, bucket, key, '*', actual);
    }
    if (options.ifMatch !== undefined && actual !== unquoteEtag(options.ifMatch)) {
      throw new PreconditionFailedError(operation, bucket, key, unquoteEtag(options.ifMatch), actual);
    }
  }

  /** Open the object and find the sidecar describing exactly the opened bytes. The caller closes the handle. */
  private async snapshot(operation: ObjectStoreOperation, bucket: string, key: string): Promise<Snapshot> {
    const paths = this.paths(operation, bucket, key);
    const fast = await this.openWithSidecar(operation, bucket, key, paths, false);
    if (fast) return fast;
    // Data and sidecar disagreed: maybe a writer was between its two renames. Writers hold the key lock across
    // both, so under it they agree, unless the file was put there by hand (or a crash came between the renames).
    // A read-only data folder cannot take the lock: then the bytes' own MD5 is still a correct ETag.
    return this.locks.with(
      paths.lockPath,
      () => this.openWithSidecar(operation, bucket, key, paths, true) as Promise<Snapshot>,
      {
        bestEffort: true,
      },
    );
  }

  /** The open object and its info; undefined when the sidecar does not describe these bytes and `fallback` is off. */
  private async openWithSidecar(
    operation: ObjectStoreOperation,
    bucket: string,
    key: string,
    paths: KeyPaths,
    fallback: boolean,
  ): Promise<Snapshot | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(paths.dataPath, 'r');
    } catch (error) {
      if (NOT_FOUND_CODES.has(errorCode(error) ?? ''))
        throw new ObjectNotFoundError(operation, bucket, key, { cause: error });
      throw toStoreError(operation, bucket, key, error);
    }
    try {
      // synchronous, like the sidecar read below: the inode's stats are in memory already
      const stats = fstatSync(handle.fd, { bigint: true });
      // `key` names a folder (only `key/...` objects exist): no such object, as in S3.
      if (!stats.isFile()) throw new ObjectNotFoundError(operation, bucket, key);
      const sidecar = readSidecarSync(paths.metaPath);
      if (describes(sidecar, stats)) return { handle, info: objectInfoOf(bucket, key, stats, sidecar) };
      if (!fallback) {
        await handle.close();
        return undefined;
      }
      const etag = await md5OfHandle(handle, Number(stats.size));
      const adopted = newSidecar(etag, Number(stats.size), stats, {});
      // under the key lock (writers take it too): a file placed by hand is hashed once, not at every read and listing
      await keepSidecar(paths.metaPath, adopted);
      return { handle, info: objectInfoOf(bucket, key, stats, adopted) };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw toStoreError(operation, bucket, key, error);
    }
  }

  /**
   * One listed entry, without opening the data file: its stats by path, then its sidecar. A sidecar that describes
   * exactly the stat'ed file (inode, size, mtime) gives the ETag of those bytes, as a GET would; otherwise (a writer
   * between its two renames, a hand-placed file) the entry takes the GET's path: under the key lock, or its MD5.
   * Both reads are synchronous: metadata of one file, a few microseconds each from the page cache, where the thread
   * pool's round trip costs about ten times that in CPU, per listed key (a page of 1000 keys blocks ~20 ms at most).
   */
  private async listedInfo(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const paths = this.paths('list', bucket, key);
      let stats;
      try {
        stats = lstatSync(paths.dataPath, { bigint: true });
      } catch (error) {
        if (NOT_FOUND_CODES.has(errorCode(error) ?? '')) return undefined;
        throw toStoreError('list', bucket, key, error);
      }
      if (!stats.isFile()) return undefined;
      const sidecar = readSidecarSync(paths.metaPath);
      let info: ObjectInfo;
      if (describes(sidecar, stats)) info = objectInfoOf(bucket, key, stats, sidecar);
      else {
        const snapshot = await this.snapshot('list', bucket, key);
        await snapshot.handle.close();
        info = snapshot.info;
      }
      // Like S3's ListObjectsV2: no content type, no metadata (the port says so; callers head for them).
      const { contentType: _contentType, ...listed } = info;
      return { ...listed, metadata: {} };
    } catch (error) {
      // Deleted since readdir, or a hand-made file whose name is no valid key (it could not be read back): skip.
      if (error instanceof ObjectNotFoundError || error instanceof InvalidObjectKeyError) return undefined;
      throw error;
    }
  }

  /** The files behind (bucket, key) in this store. */
  private paths(operation: ObjectStoreOperation, bucket: string, key: string): KeyPaths {
    return localKeyPaths(this.root, operation, bucket, key);
  }

  private write(
    operation: ObjectStoreOperation,
    bucket: string,
    key: string,
    paths: KeyPaths,
    chunks: Chunks,
    options: PutOptions & { partSize?: number; multipart?: boolean },
  ): Promise<{ etag: string }> {
    const conditional = options.ifNoneMatch !== undefined || options.ifMatch !== undefined;
    return writeAtomically({
      ...options,
      operation,
      bucket,
      key,
      paths,
      chunks,
      locks: this.locks,
      beforeCommit: conditional ? () => this.checkConditions(operation, bucket, key, paths, options) : undefined,
    });
  }
}

/**
 * The handle's bytes from the start, read into `buffer` over and over; at the end or a break the handle is closed and
 * the buffer handed to `done`.
 */
async function* readInto(
  handle: FileHandle,
  buffer: Buffer,
  bucket: string,
  key: string,
  done: () => void,
): AsyncGenerator<Uint8Array> {
  try {
    for (let position = 0; ; ) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, buffer.length, position));
      } catch (error) {
        throw toStoreError('getChunks', bucket, key, error);
      }
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
    done();
  }
}
