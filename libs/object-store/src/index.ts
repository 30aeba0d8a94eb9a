// The port first, then the types of its methods' arguments and results, in method order.
export type {
  ObjectStore,
  Body,
  PutOptions,
  ObjectInfo,
  ObjectRef,
  CopyOptions,
  ListOptions,
  ListPage,
} from './object-store.port';
export {
  BucketNotFoundError,
  InvalidObjectKeyError,
  ObjectNotFoundError,
  ObjectStoreConfigError,
  ObjectStoreError,
  PreconditionFailedError,
  type ObjectStoreErrorData,
  type ObjectStoreOperation,
} from './object-store.errors';
export { LocalObjectStore, type LocalObjectStoreOptions } from './local.object-store';
export { S3ObjectStore, type S3ObjectStoreOptions } from './s3.object-store';
export { createObjectStore, type ObjectStoreConfig } from './object-store.factory';
/** The order every listing comes in (UTF-8 bytes, as S3 sorts): for merging two listings. */
export { compareKeys } from './object-store.shared';
export {
  DEFAULT_COPY_CONCURRENCY,
  DEFAULT_MULTIPART_COPY_THRESHOLD,
  DEFAULT_MULTIPART_PART_SIZE,
  DEFAULT_UPLOAD_PART_SIZE,
  md5Hex,
  multipartEtag,
  quoteEtag,
  S3_MIN_PART_SIZE,
  unquoteEtag,
} from './s3-etag';
