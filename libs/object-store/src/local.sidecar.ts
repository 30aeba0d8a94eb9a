import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { readFileSync } from 'node:fs';
import { readFile, type FileHandle } from 'node:fs/promises';
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

/** The sidecar at `metaPath`, or undefined when there is none that parses. */
export async function readSidecar(metaPath: string): Promise<Sidecar | undefined> {
  try {
    return parseSidecar(await readFile(metaPath, 'utf8'));
  } catch {
    // missing, half-read or foreign: the caller falls back to hashing the bytes
    return undefined;
  }
}

/**
 * {@link readSidecar} without the thread pool, for LIST: a sidecar is a ~200-byte file, read in a few microseconds,
 * whereas an asynchronous read costs about ten times that in CPU (the round trips to the pool), per listed key.
 */
export function readSidecarSync(metaPath: string): Sidecar | undefined {
  try {
    return parseSidecar(readFileSync(metaPath, 'utf8'));
  } catch {
    return undefined;
  }
}

function parseSidecar(text: string): Sidecar | undefined {
  const parsed = JSON.parse(text) as Partial<Sidecar>;
  return parsed.v === 1 && typeof parsed.etag === 'string' ? (parsed as Sidecar) : undefined;
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
