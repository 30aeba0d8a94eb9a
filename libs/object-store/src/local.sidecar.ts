import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, type BigIntStats } from 'node:fs';
import { mkdir, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LOCAL_TEMP_PREFIX } from './local-key.paths';
import type { ObjectInfo } from './object-store.port';

/** What S3 reports for an object stored without a content type (moto says the same). */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** What is stored next to each object; `ino`/`size`/`mtimeNs` say which bytes it describes. */
export interface Sidecar {
  v: 1;
  etag: string;
  size: number;
  contentType?: string;
  metadata: Record<string, string>;
  ino: string;
  mtimeNs: string;
}

/** The sidecar for freshly written bytes (metadata keys lower-cased, as S3 returns them). */
export function newSidecar(
  etag: string,
  size: number,
  stats: BigIntStats,
  options: { contentType?: string; metadata?: Record<string, string> },
): Sidecar {
  return {
    v: 1,
    etag,
    size,
    contentType: options.contentType,
    metadata: Object.fromEntries(Object.entries(options.metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    ino: stats.ino.toString(),
    mtimeNs: stats.mtimeNs.toString(),
  };
}

/** The sidecar describes exactly the file with these stats (same inode, size and mtime). */
export function describes(sidecar: Sidecar | undefined, stats: BigIntStats): sidecar is Sidecar {
  return (
    sidecar !== undefined &&
    sidecar.ino === stats.ino.toString() &&
    sidecar.mtimeNs === stats.mtimeNs.toString() &&
    sidecar.size === Number(stats.size)
  );
}

/**
 * The sidecar at `metaPath`, or undefined when there is none that parses. Synchronous: a sidecar is a ~200-byte
 * file, read in a few microseconds from the page cache, whereas an asynchronous read costs about ten times that in
 * CPU (the round trips to the thread pool), once per listed key and per GET.
 */
export function readSidecarSync(metaPath: string): Sidecar | undefined {
  try {
    const parsed = JSON.parse(readFileSync(metaPath, 'utf8')) as Partial<Sidecar>;
    return parsed.v === 1 && typeof parsed.etag === 'string' ? (parsed as Sidecar) : undefined;
  } catch {
    // missing, half-read or foreign: the caller falls back to hashing the bytes
    return undefined;
  }
}

/** MD5 (hex) of the first `size` bytes of an open file: the ETag of a file without a matching sidecar. */
export async function md5OfHandle(handle: FileHandle, size: number): Promise<string> {
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

/** The port's `ObjectInfo` from the file's stats and its sidecar (or, without one, the computed `etag`). */
export function objectInfoOf(
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
 * Keep a sidecar for bytes that had none (a file placed by hand), best effort: written to a temp file and renamed
 * over, so a reader sees the old sidecar or this one; a read-only or unwritable folder keeps none (the bytes are then
 * hashed again at the next read).
 */
export async function keepSidecar(metaPath: string, sidecar: Sidecar): Promise<void> {
  const temp = join(dirname(metaPath), `${LOCAL_TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
  try {
    await mkdir(dirname(metaPath), { recursive: true });
    await writeFile(temp, JSON.stringify(sidecar), { flag: 'wx' });
    await rename(temp, metaPath);
  } catch {
    await unlink(temp).catch(() => undefined);
  }
}
