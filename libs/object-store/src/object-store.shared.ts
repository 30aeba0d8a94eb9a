import type { Readable } from 'node:stream';
import type { Body, CopyOptions, ListOptions, ListPage, ObjectInfo, ObjectRef, PutOptions } from './object-store.port';
import { ObjectStoreError } from './object-store.errors';

export const MAX_LIST_KEYS = 1000;

/** S3 sorts keys by their UTF-8 bytes, not by UTF-16 code units as `<` on strings would. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Page size from the options, 1..1000 (default 1000); anything else is a caller bug, named in the error. */
export function pageSize(bucket: string, options: ListOptions): number {
  const { maxKeys } = options;
  if (maxKeys === undefined) return MAX_LIST_KEYS;
  if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > MAX_LIST_KEYS) {
    throw new ObjectStoreError(
      'list',
      bucket,
      undefined,
      `maxKeys must be an integer from 1 to ${MAX_LIST_KEYS}, got ${maxKeys}`,
    );
  }
  return maxKeys;
}

/**
 * Conditional put options are well-formed and go with a byte body: a stream may be sent as a multipart upload, which
 * these conditions do not cover the same way on every store. Anything else is a caller bug, named in the error.
 */
export function checkPutConditions(bucket: string, key: string, body: Body, options: PutOptions): void {
  const { ifNoneMatch, ifMatch } = options;
  if (ifNoneMatch === undefined && ifMatch === undefined) return;
  if (ifNoneMatch !== undefined && ifNoneMatch !== '*') {
    throw new ObjectStoreError('put', bucket, key, `ifNoneMatch takes only '*', got ${JSON.stringify(ifNoneMatch)}`);
  }
  if (ifMatch !== undefined && (typeof ifMatch !== 'string' || ifMatch.replace(/"/g, '') === '')) {
    throw new ObjectStoreError('put', bucket, key, `ifMatch must be an ETag, got ${JSON.stringify(ifMatch)}`);
  }
  if (ifNoneMatch !== undefined && ifMatch !== undefined) {
    throw new ObjectStoreError('put', bucket, key, 'ifNoneMatch and ifMatch cannot be combined');
  }
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new ObjectStoreError('put', bucket, key, 'a conditional put needs a byte or string body, not a stream');
  }
}

/** `CopyOptions.sourceSize`, when given, is a byte count; anything else is a caller bug, named in the error. */
export function checkSourceSize(source: ObjectRef, options: CopyOptions): number | undefined {
  const { sourceSize } = options;
  if (sourceSize !== undefined && !(Number.isSafeInteger(sourceSize) && sourceSize >= 0)) {
    throw new ObjectStoreError(
      'copy',
      source.bucket,
      source.key,
      `sourceSize must be a whole number of bytes >= 0, got ${String(sourceSize)}`,
    );
  }
  return sourceSize;
}

/** Port bodies are bytes, a string, or a Node stream. */
export function isStreamBody(body: Body): body is Readable {
  return typeof body !== 'string' && !(body instanceof Uint8Array);
}

/** `listAll` for any adapter: follow continuation tokens until the last page. */
export async function* listAllPages(
  list: (options: ListOptions) => Promise<ListPage>,
  prefix: string | undefined,
): AsyncIterable<ObjectInfo> {
  let continuationToken: string | undefined;
  do {
    const page = await list({ prefix, continuationToken });
    yield* page.objects;
    continuationToken = page.nextContinuationToken;
  } while (continuationToken !== undefined);
}
