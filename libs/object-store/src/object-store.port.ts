import type { Readable } from 'node:stream';

/** What a store knows of one object. ETags are always unquoted (S3 returns them quoted; events carry them bare). */
export interface ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  /** MD5 hex of the bytes for single-part objects; `<md5-of-part-md5s>-<N>` for multipart ones, as S3 does. */
  etag: string;
  lastModified: Date;
  contentType?: string;
  /** User metadata (x-amz-meta-*), keys lower-case. */
  metadata: Record<string, string>;
}

export interface ObjectRef {
  bucket: string;
  key: string;
}

export type Body = Uint8Array | string | Readable;

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /**
   * `'*'`: create only; write nothing when any object is at the key (S3 `If-None-Match: *`). The basis of leases and
   * write-once manifests. A byte or string body only (not a stream). Refused with `PreconditionFailedError`.
   */
  ifNoneMatch?: '*';
  /**
   * Replace only the version with this ETag (quoted or not; S3 `If-Match`), for optimistic concurrency: read, change,
   * write back only if nobody wrote in between. A missing object fails too. A byte or string body only.
   */
  ifMatch?: string;
}

export interface CopyOptions {
  /** Copy only if the source still has this ETag (S3 `CopySourceIfMatch`); else `PreconditionFailedError`. */
  ifSourceEtag?: string;
  /**
   * The size of the source version `ifSourceEtag` names, when the caller already knows it (an S3 event carries
   * both). A hint, never trusted alone: the S3 adapter with `trustServerConditions` uses it, together with
   * `ifSourceEtag`, to pick CopyObject without reading the source first; other adapters ignore it.
   */
  sourceSize?: number;
}

export interface ListOptions {
  prefix?: string;
  /** Page size, at most 1000 (default 1000). */
  maxKeys?: number;
  continuationToken?: string;
  startAfter?: string;
}

export interface ListPage {
  /** In ascending key order (UTF-8 binary order, like S3). `metadata` and `contentType` are not filled by list. */
  objects: ObjectInfo[];
  nextContinuationToken?: string;
}

/**
 * One port, two adapters: S3 (AWS or moto) and a local directory (`<root>/<bucket>/<key>`), so the whole pipeline
 * runs the same on a laptop and on AWS. Missing objects reject with `ObjectNotFoundError`.
 */
export interface ObjectStore {
  put(bucket: string, key: string, body: Body, options?: PutOptions): Promise<{ etag: string }>;
  get(bucket: string, key: string): Promise<{ body: Uint8Array; info: ObjectInfo }>;
  getStream(bucket: string, key: string): Promise<{ stream: Readable; info: ObjectInfo }>;
  /**
   * The object's bytes as borrowed chunks, for a reader that copies what it keeps (a line splitter): a chunk is valid
   * only until the next one is asked for, or the iteration ends. The local adapter reads them into buffers it reuses
   * (no allocation, and no garbage collection, per chunk or per object); S3 yields the response's own chunks. Iterate
   * to the end, or break (which closes the object). To keep or pipe chunks, use getStream.
   */
  getChunks(bucket: string, key: string): Promise<{ chunks: AsyncIterable<Uint8Array>; info: ObjectInfo }>;
  /** `undefined` when there is no such object. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /** Same bytes, content type and metadata at the destination. Multipart above the adapter's threshold. */
  copy(source: ObjectRef, destination: ObjectRef, options?: CopyOptions): Promise<{ etag: string }>;
  list(bucket: string, options?: ListOptions): Promise<ListPage>;
  /** Every object under a prefix, page after page. */
  listAll(bucket: string, prefix?: string): AsyncIterable<ObjectInfo>;
  /** Deleting a missing object is not an error (as in S3). */
  delete(bucket: string, key: string): Promise<void>;
}
