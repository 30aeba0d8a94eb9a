import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { lstat, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { KeyLocks } from './local-file.lock';
import {
  CONFLICT_CODES,
  createExclusive,
  errorCode,
  fsyncDir,
  keyConflictError,
  toStoreError,
  writeAll,
} from './local-fs.helpers';
import { LOCAL_TEMP_PREFIX, type KeyPaths } from './local-key.paths';
import { newSidecar } from './local.sidecar';
import type { ObjectStoreOperation } from './object-store.errors';
import { EtagHasher } from './s3-etag';

/** One atomic write of an object and its sidecar. */
export interface AtomicWrite {
  operation: ObjectStoreOperation;
  bucket: string;
  key: string;
  paths: KeyPaths;
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>;
  contentType?: string;
  metadata?: Record<string, string>;
  /** Part size of the ETag (a multipart ETag when the bytes are longer, or when `multipart` is set). */
  partSize?: number;
  multipart?: boolean;
  /** The per-key locks every writer of this store shares. */
  locks: KeyLocks;
  /** Runs under the key lock right before the renames (a conditional put checks its condition here). */
  beforeCommit?: () => Promise<void>;
}

/**
 * Write the bytes to a temp file in the target folder, fsync it, write the sidecar the same way, then rename both
 * over their targets under the key lock: a reader sees the old bytes or the new ones, never a part, and the last
 * writer's bytes and sidecar win together. On failure the temp files are removed.
 */
export async function writeAtomically(write: AtomicWrite): Promise<{ etag: string }> {
  const { operation, bucket, key, paths } = write;
  const token = randomBytes(8).toString('hex');
  const dataTemp = join(dirname(paths.dataPath), `${LOCAL_TEMP_PREFIX}${token}`);
  const metaTemp = join(dirname(paths.metaPath), `${LOCAL_TEMP_PREFIX}${token}`);
  let dataCommitted = false;
  try {
    const hasher = new EtagHasher(write.partSize);
    const handle = await createExclusive(operation, bucket, key, dataTemp);
    let stats: BigIntStats;
    try {
      for await (const chunk of write.chunks) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        hasher.update(bytes);
        await writeAll(handle, bytes);
      }
      await handle.sync();
      stats = await handle.stat({ bigint: true });
    } finally {
      await handle.close();
    }
    const sidecar = newSidecar(hasher.digest(write.multipart), hasher.size, stats, write);
    const metaHandle = await createExclusive(operation, bucket, key, metaTemp);
    try {
      await metaHandle.writeFile(JSON.stringify(sidecar));
      await metaHandle.sync();
    } finally {
      await metaHandle.close();
    }
    await write.locks.with(paths.lockPath, async () => {
      // Every writer takes the key lock, so a check made here and the renames are one step.
      await write.beforeCommit?.();
      const metaTarget = await lstat(paths.metaPath).catch(() => undefined);
      // An empty folder left in the sidecar tree would block the sidecar rename after the data was committed.
      if (metaTarget?.isDirectory()) await rmdir(paths.metaPath).catch(() => undefined);
      try {
        await rename(dataTemp, paths.dataPath);
      } catch (error) {
        if (CONFLICT_CODES.has(errorCode(error) ?? '')) throw keyConflictError(operation, bucket, key, error);
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
    throw toStoreError(operation, bucket, key, error);
  }
}
