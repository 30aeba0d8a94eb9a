import { createHash, randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { assertBucketName, localObjectPath, UnsafeKeyError } from '@btc-etl/s3-keys';
import { KeyLocks } from './local-file.lock';
import {
  checkPutConditions,
  checkSourceSize,
  compareKeys,
  isStreamBody,
  listAllPages,
  pageSize,
} from './object-store.shared';
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
  EtagHasher,
  S3_MIN_PART_SIZE,
  unquoteEtag,
} from './s3-etag';

/** Sidecars live in a mirror tree `<root>/.btc-etl-meta/<bucket>/<key>`; bucket names cannot start with a dot. */
export const LOCAL_META_DIR = '.btc-etl-meta';
/** Temp files (data and sidecars) start with this; keys with a segment starting with it are refused. */
export const LOCAL_TEMP_PREFIX = '.btc-etl-tmp-';
/** What S3 reports for an object stored without a content type (moto says the same). */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const LOCKS_DIR = '.locks';
/** NAME_MAX on Linux, macOS and Windows file systems. */
const MAX_SEGMENT_BYTES = 255;
const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR']);
const CONFLICT_CODES = new Set(['ENOTDIR', 'EISDIR', 'EEXIST']);

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

/** What is stored next to each object; `ino`/`size`/`mtimeNs` say which bytes it describes. */
interface Sidecar {
  v: 1;
  etag: string;
  size: number;
  contentType?: string;
  metadata: Record<string, string>;
  ino: string;
  mtimeNs: string;
}

interface KeyPaths {
  dataPath: string;
  metaPath: string;
  lockPath: string;
  bucketDir: string;
  metaBucketDir: string;
}

interface Snapshot {
  handle: FileHandle;
  info: ObjectInfo;
}

type Chunks = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function describes(sidecar: Sidecar | undefined, stats: BigIntStats): sidecar is Sidecar {
  return (
    sidecar !== undefined &&
    sidecar.ino === stats.ino.toString() &&
    sidecar.mtimeNs === stats.mtimeNs.toString() &&
    sidecar.size === Number(stats.size)
  );
}

async function readSidecar(metaPath: string): Promise<Sidecar | undefined> {
  try {
    const parsed = JSON.parse(await readFile(metaPath, 'utf8')) as Partial<Sidecar>;
    return parsed.v === 1 && typeof parsed.etag === 'string' ? (parsed as Sidecar) : undefined;
  } catch {
    // missing, half-read or foreign: the caller falls back to hashing the bytes
    return undefined;
  }
}

async function md5OfHandle(handle: FileHandle, size: number): Promise<string> {
  const hash = createHash('md5');
  const buffer = Buffer.allocUnsafe(Math.min(Math.max(size, 1), 1024 * 1024));
  for (let position = 0; position < size; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename itself durable; some file systems refuse fsync on a directory, which costs only durability.
  const handle = await open(dir, 'r').catch(() => undefined);
  await handle?.sync().catch(() => undefined);
  await handle?.close();
}

/** Remove now-empty folders from `dir` up to, not including, `stop` (rmdir never removes a non-empty folder). */
async function pruneEmptyDirs(dir: string, stop: string): Promise<void> {
  for (let current = dir; current.startsWith(stop + sep); current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
  }
}

function encodeToken(lastKey: string): string {
  return Buffer.from(`v1\0${lastKey}`, 'utf8').toString('base64url');
}

/**
 * The local directory adapter: `<root>/<bucket>/<key>` holds the exact bytes (other tools, DuckDB for one, read
 * them in place), `<root>/.btc-etl-meta/<bucket>/<key>` a JSON sidecar with ETag, content type and metadata.
 *
 * - Writes go to a temp file in the target folder, are fsynced, then renamed over the target, so a reader sees the
 *   old bytes or the new ones, never a part. Concurrent writers of one key are serialized for the two renames
 *   (data, then sidecar) by a per-key lock file, so the last writer's bytes and sidecar always win together.
 * - A sidecar records which file (inode, size, mtime) it describes; a file without a matching one (placed by hand,
 *   or a crash between the renames) is served with its MD5 as ETag, the default content type and no metadata.
 * - Keys that could escape the root, or that a directory tree cannot tell apart (`a//b`, `a/`, `%2e%2e`, ...),
 *   reject with `InvalidObjectKeyError`; so does a key that needs `a` to be both a file and a folder.
 * - Buckets are folders created on first write; listing a bucket that has none yields an empty page.
 */
export class LocalObjectStore implements ObjectStore {
  readonly root: string;
  private readonly metaRoot: string;
  private readonly uploadPartSize: number;
  private readonly copyThreshold: number;
  private readonly copyPartSize: number;
  private readonly locks = new KeyLocks();

  constructor(options: LocalObjectStoreOptions) {
    this.root = resolve(options.root);
    this.metaRoot = join(this.root, LOCAL_META_DIR);
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
    return { stream: handle.createReadStream({ start: 0, autoClose: true }), info };
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
    this.checkBucket('list', bucket);
    const after =
      options.continuationToken !== undefined
        ? this.decodeToken(bucket, options.continuationToken)
        : options.startAfter;
    const objects: ObjectInfo[] = [];
    let truncated = false;
    for await (const info of this.walk(bucket, join(this.root, bucket), '', options.prefix ?? '', after)) {
      if (objects.length === maxKeys) {
        truncated = true;
        break;
      }
      objects.push(info);
    }
    const last = objects.at(-1);
    return truncated && last ? { objects, nextContinuationToken: encodeToken(last.key) } : { objects };
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
      throw this.wrap('delete', bucket, key, error);
    }
  }

  /** Map (bucket, key) to its files, refusing anything that could escape the root or is not a plain file name. */
  private paths(operation: ObjectStoreOperation, bucket: string, key: string): KeyPaths {
    let dataPath: string;
    let metaPath: string;
    try {
      dataPath = localObjectPath(this.root, bucket, key);
      metaPath = localObjectPath(this.metaRoot, bucket, key);
    } catch (error) {
      if (error instanceof UnsafeKeyError)
        throw new InvalidObjectKeyError(operation, bucket, key, error.reason, { cause: error });
      throw error;
    }
    for (const segment of key.split('/')) {
      if (segment.startsWith(LOCAL_TEMP_PREFIX)) {
        throw new InvalidObjectKeyError(
          operation,
          bucket,
          key,
          `segment starts with "${LOCAL_TEMP_PREFIX}" (reserved for temp files)`,
        );
      }
      if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) {
        throw new InvalidObjectKeyError(operation, bucket, key, `path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
      }
    }
    const lockName = createHash('sha256').update(`${bucket}\0${key}`).digest('hex').slice(0, 40);
    return {
      dataPath,
      metaPath,
      lockPath: join(this.metaRoot, LOCKS_DIR, `${lockName}.lock`),
      bucketDir: join(this.root, bucket),
      metaBucketDir: join(this.metaRoot, bucket),
    };
  }

  private checkBucket(operation: ObjectStoreOperation, bucket: string): void {
    try {
      assertBucketName(bucket);
    } catch (error) {
      if (error instanceof UnsafeKeyError)
        throw new ObjectStoreError(operation, bucket, undefined, error.reason, { cause: error });
      throw error;
    }
  }

  private decodeToken(bucket: string, token: string): string {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!decoded.startsWith('v1\0')) {
      throw new ObjectStoreError(
        'list',
        bucket,
        undefined,
        `invalid continuation token ${JSON.stringify(token.slice(0, 80))}`,
      );
    }
    return decoded.slice(3);
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
      throw this.wrap(operation, bucket, key, error);
    }
    try {
      const stats = await handle.stat({ bigint: true });
      // `key` names a folder (only `key/...` objects exist): no such object, as in S3.
      if (!stats.isFile()) throw new ObjectNotFoundError(operation, bucket, key);
      const sidecar = await readSidecar(paths.metaPath);
      if (describes(sidecar, stats)) return { handle, info: this.infoOf(bucket, key, stats, sidecar) };
      if (!fallback) {
        await handle.close();
        return undefined;
      }
      const etag = await md5OfHandle(handle, Number(stats.size));
      return { handle, info: this.infoOf(bucket, key, stats, undefined, etag) };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw this.wrap(operation, bucket, key, error);
    }
  }

  private infoOf(
    bucket: string,
    key: string,
    stats: BigIntStats,
    sidecar: Sidecar | undefined,
    etag?: string,
  ): ObjectInfo {
    return {
      bucket,
      key,
      size: Number(stats.size),
      etag: sidecar?.etag ?? etag ?? '',
      lastModified: new Date(Number(stats.mtimeMs)),
      contentType: sidecar?.contentType ?? DEFAULT_CONTENT_TYPE,
      metadata: { ...(sidecar?.metadata ?? {}) },
    };
  }

  /**
   * Depth-first walk yielding objects in S3 order. Sorting each folder's entries by their key bytes, with a `/`
   * after folder names, gives global UTF-8 byte order, because every key below folder `d` starts with `d/`.
   */
  private async *walk(
    bucket: string,
    dir: string,
    keyPrefix: string,
    prefix: string,
    after: string | undefined,
  ): AsyncGenerator<ObjectInfo> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (NOT_FOUND_CODES.has(errorCode(error) ?? '')) return;
      throw this.wrap('list', bucket, undefined, error);
    }
    const sorted = entries
      // Symlinks are not followed: a link could lead out of the root.
      .filter((entry) => !entry.name.startsWith(LOCAL_TEMP_PREFIX) && (entry.isFile() || entry.isDirectory()))
      .map((entry) => ({ entry, path: `${keyPrefix}${entry.name}${entry.isDirectory() ? '/' : ''}` }))
      .sort((a, b) => compareKeys(a.path, b.path));
    for (const { entry, path } of sorted) {
      if (!(path.startsWith(prefix) || (entry.isDirectory() && prefix.startsWith(path)))) continue;
      if (after !== undefined && compareKeys(path, after) <= 0 && !(entry.isDirectory() && after.startsWith(path)))
        continue;
      if (entry.isDirectory()) {
        yield* this.walk(bucket, join(dir, entry.name), path, prefix, after);
        continue;
      }
      const info = await this.listedInfo(bucket, path);
      if (info) yield info;
    }
  }

  private async listedInfo(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const { handle, info } = await this.snapshot('list', bucket, key);
      await handle.close();
      // Like S3's ListObjectsV2: no content type, no metadata (the port says so; callers head for them).
      const { contentType: _contentType, ...listed } = info;
      return { ...listed, metadata: {} };
    } catch (error) {
      // Deleted since readdir, or a hand-made file whose name is no valid key (it could not be read back): skip.
      if (error instanceof ObjectNotFoundError || error instanceof InvalidObjectKeyError) return undefined;
      throw error;
    }
  }

  /** Create `path` exclusively, making its folder first; retried because a concurrent delete may prune the folder. */
  private async createExclusive(
    operation: ObjectStoreOperation,
    bucket: string,
    key: string,
    path: string,
  ): Promise<FileHandle> {
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(dirname(path), { recursive: true });
        return await open(path, 'wx', 0o644);
      } catch (error) {
        if (errorCode(error) === 'ENOENT' && attempt < 5) continue;
        if (CONFLICT_CODES.has(errorCode(error) ?? '')) throw this.conflict(operation, bucket, key, error);
        throw error;
      }
    }
  }

  private conflict(
    operation: ObjectStoreOperation,
    bucket: string,
    key: string,
    cause: unknown,
  ): InvalidObjectKeyError {
    return new InvalidObjectKeyError(
      operation,
      bucket,
      key,
      'conflicts with an existing object: S3 can hold both "a" and "a/b", a directory tree cannot',
      { cause },
    );
  }

  private async write(
    operation: ObjectStoreOperation,
    bucket: string,
    key: string,
    paths: KeyPaths,
    chunks: Chunks,
    options: PutOptions & { partSize?: number; multipart?: boolean },
  ): Promise<{ etag: string }> {
    const token = randomBytes(8).toString('hex');
    const dataTemp = join(dirname(paths.dataPath), `${LOCAL_TEMP_PREFIX}${token}`);
    const metaTemp = join(dirname(paths.metaPath), `${LOCAL_TEMP_PREFIX}${token}`);
    let dataCommitted = false;
    try {
      const hasher = new EtagHasher(options.partSize);
      const handle = await this.createExclusive(operation, bucket, key, dataTemp);
      let stats: BigIntStats;
      try {
        for await (const chunk of chunks) {
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
          hasher.update(bytes);
          await writeAll(handle, bytes);
        }
        await handle.sync();
        stats = await handle.stat({ bigint: true });
      } finally {
        await handle.close();
      }
      const sidecar: Sidecar = {
        v: 1,
        etag: hasher.digest(options.multipart),
        size: hasher.size,
        contentType: options.contentType,
        metadata: Object.fromEntries(Object.entries(options.metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
        ino: stats.ino.toString(),
        mtimeNs: stats.mtimeNs.toString(),
      };
      const metaHandle = await this.createExclusive(operation, bucket, key, metaTemp);
      try {
        await metaHandle.writeFile(JSON.stringify(sidecar));
        await metaHandle.sync();
      } finally {
        await metaHandle.close();
      }
      await this.locks.with(paths.lockPath, async () => {
        // Conditions are checked under the key lock that every writer takes, so check and rename are one step.
        if (options.ifNoneMatch !== undefined || options.ifMatch !== undefined) {
          await this.checkConditions(operation, bucket, key, paths, options);
        }
        const metaTarget = await lstat(paths.metaPath).catch(() => undefined);
        // An empty folder left in the sidecar tree would block the sidecar rename after the data was committed.
        if (metaTarget?.isDirectory()) await rmdir(paths.metaPath).catch(() => undefined);
        try {
          await rename(dataTemp, paths.dataPath);
        } catch (error) {
          if (CONFLICT_CODES.has(errorCode(error) ?? '')) throw this.conflict(operation, bucket, key, error);
          throw error;
        }
        dataCommitted = true;
        await rename(metaTemp, paths.metaPath);
      });
      await fsyncDir(dirname(paths.dataPath));
      await fsyncDir(dirname(paths.metaPath));
      return { etag: sidecar.etag };
    } catch (error) {
      if (!dataCommitted) await unlink(dataTemp).catch(() => undefined);
      await unlink(metaTemp).catch(() => undefined);
      throw this.wrap(operation, bucket, key, error);
    }
  }

  private wrap(
    operation: ObjectStoreOperation,
    bucket: string,
    key: string | undefined,
    error: unknown,
  ): ObjectStoreError {
    if (error instanceof ObjectStoreError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new ObjectStoreError(operation, bucket, key, message, { cause: error });
  }
}
