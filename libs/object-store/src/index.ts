export * from './object-store.port';
export * from './object-store.errors';
export * from './local.object-store';
export * from './s3.object-store';
export * from './object-store.factory';
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
