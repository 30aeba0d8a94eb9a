import { createHash, type Hash } from 'node:crypto';
import { ObjectStoreConfigError } from './object-store.errors';

/** S3's smallest part (all but the last) and its part-count limit. */
export const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
export const S3_MAX_PARTS = 10_000;
/** Above this, CopyObject is refused by S3 and a multipart UploadPartCopy is needed. */
export const DEFAULT_MULTIPART_COPY_THRESHOLD = 5 * 1024 * 1024 * 1024;
/** Copy part size: 64 MiB keeps a 5 GiB copy at 80 parts; raised automatically past 10,000 parts. */
export const DEFAULT_MULTIPART_PART_SIZE = 64 * 1024 * 1024;
/** lib-storage `Upload`'s default part size: a stream longer than this becomes a multipart upload. */
export const DEFAULT_UPLOAD_PART_SIZE = S3_MIN_PART_SIZE;
export const DEFAULT_COPY_CONCURRENCY = 4;

/** S3 hands ETags back quoted (`"abc"`); the port always speaks them bare. */
export function unquoteEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/** RFC 7232 wants entity tags quoted in `If-Match`-style headers; S3 accepts either, moto too. */
export function quoteEtag(etag: string): string {
  return `"${unquoteEtag(etag)}"`;
}

export function md5Hex(bytes: Uint8Array | string): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** S3's multipart ETag: MD5 over the concatenated binary MD5s of the parts, then `-<part count>`. */
export function multipartEtag(partDigests: readonly Uint8Array[]): string {
  const outer = createHash('md5');
  for (const digest of partDigests) outer.update(digest);
  return `${outer.digest('hex')}-${partDigests.length}`;
}

/**
 * Part size for a multipart copy of `size` bytes: the configured size, raised (to whole MiB) to stay <= 10,000 parts.
 */
export function effectivePartSize(size: number, configuredPartSize: number): number {
  const mib = 1024 * 1024;
  const needed = Math.ceil(Math.ceil(size / S3_MAX_PARTS) / mib) * mib;
  return Math.max(configuredPartSize, needed);
}

export interface PartRange {
  partNumber: number;
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive (as in an HTTP `bytes=start-end` range). */
  end: number;
}

/** Split `size` bytes into consecutive parts of `partSize` (the last one shorter), numbered from 1 like S3. */
export function planParts(size: number, partSize: number): PartRange[] {
  const parts: PartRange[] = [];
  for (let start = 0, partNumber = 1; start < size; start += partSize, partNumber++) {
    parts.push({ partNumber, start, end: Math.min(start + partSize, size) - 1 });
  }
  return parts;
}

/**
 * Hashes bytes as they stream past and yields the ETag S3 would give them: the plain MD5, or the multipart form
 * for the same bytes split into `partSize` parts. Whether the object is multipart is decided at the end, when the
 * size is known (lib-storage's rule: more than one part's worth of bytes).
 */
export class EtagHasher {
  private readonly whole = createHash('md5');
  private readonly partDigests: Buffer[] = [];
  private part: Hash | undefined;
  private partFill = 0;
  private total = 0;

  /** `partSize` undefined: never multipart (a PutObject). */
  constructor(private readonly partSize: number | undefined) {}

  update(chunk: Uint8Array): void {
    this.total += chunk.byteLength;
    this.whole.update(chunk);
    if (this.partSize === undefined) return;
    let offset = 0;
    while (offset < chunk.byteLength) {
      this.part ??= createHash('md5');
      const take = Math.min(this.partSize - this.partFill, chunk.byteLength - offset);
      this.part.update(chunk.subarray(offset, offset + take));
      this.partFill += take;
      offset += take;
      if (this.partFill === this.partSize) {
        this.partDigests.push(this.part.digest());
        this.part = undefined;
        this.partFill = 0;
      }
    }
  }

  get size(): number {
    return this.total;
  }

  /**
   * The ETag. `multipart` defaults to lib-storage's rule (more bytes than one part); a multipart copy passes its
   * own decision (size above the copy threshold), which can mean a single part and an ETag ending in `-1`.
   */
  digest(multipart = this.partSize !== undefined && this.total > this.partSize): string {
    if (this.partSize === undefined || !multipart || this.total === 0) return this.whole.digest('hex');
    const digests = this.part ? [...this.partDigests, this.part.digest()] : this.partDigests;
    return multipartEtag(digests);
  }
}

/** Validates a byte-size option at construction time, naming the option in the error. */
export function checkSize(field: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ObjectStoreConfigError(field, `must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}
