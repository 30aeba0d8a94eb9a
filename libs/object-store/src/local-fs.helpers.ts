import { mkdir, open, rmdir, type FileHandle } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { retry } from '@btc-etl/resilience';
import { InvalidObjectKeyError, ObjectStoreError, type ObjectStoreOperation } from './object-store.errors';

/** Codes meaning "no such file" (ENOTDIR: a path segment is a file). */
export const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR']);
/** Codes meaning a key needs a path to be both a file and a folder. */
export const CONFLICT_CODES = new Set(['ENOTDIR', 'EISDIR', 'EEXIST']);

/** The `code` of a Node file-system error, if any. */
export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Any failure as an `ObjectStoreError` naming operation, bucket and key (store errors pass through unchanged). */
export function toStoreError(
  operation: ObjectStoreOperation,
  bucket: string,
  key: string | undefined,
  error: unknown,
): ObjectStoreError {
  if (error instanceof ObjectStoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ObjectStoreError(operation, bucket, key, message, { cause: error });
}

/** The error for a key that needs `a` to be both a file and a folder. */
export function keyConflictError(
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

/** Write all of `bytes` at the handle's position (one `write` may write less). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

/** Make a rename in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  // Some file systems refuse fsync on a directory, which costs only durability.
  const handle = await open(dir, 'r').catch(() => undefined);
  await handle?.sync().catch(() => undefined);
  await handle?.close();
}

/** Remove now-empty folders from `dir` up to, not including, `stop` (rmdir never removes a non-empty folder). */
export async function pruneEmptyDirs(dir: string, stop: string): Promise<void> {
  for (let current = dir; current.startsWith(stop + sep); current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
  }
}

/**
 * Create `path` exclusively, making its folder first; retried at once (up to 5 times) because a concurrent delete may
 * prune the folder in between. A path that collides with an existing file or folder rejects with
 * {@link keyConflictError}.
 */
export async function createExclusive(
  operation: ObjectStoreOperation,
  bucket: string,
  key: string,
  path: string,
): Promise<FileHandle> {
  try {
    return await retry(
      async () => {
        await mkdir(dirname(path), { recursive: true });
        return open(path, 'wx', 0o644);
      },
      { delayMs: (attempt, error) => (errorCode(error) === 'ENOENT' && attempt <= 5 ? 0 : null) },
    );
  } catch (error) {
    if (CONFLICT_CODES.has(errorCode(error) ?? '')) throw keyConflictError(operation, bucket, key, error);
    throw error;
  }
}
