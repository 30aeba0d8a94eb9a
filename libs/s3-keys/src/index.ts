export { S3KeyError, UnsafeKeyError } from './s3-keys.errors';
export {
  buildFirehoseKey,
  hourlyPrefixes,
  parseDatehour,
  parseFirehoseKey,
  RAW_PREFIX,
  toDatehour,
  type FirehoseKeyParts,
  type ParsedFirehoseKey,
} from './firehose-key';
export { decodeS3EventKey, encodeS3EventKey } from './event-key';
export { assertBucketName, localObjectPath, unsafeKeyReason, unsafePrefixReason } from './local-path';
export {
  parseSilverKey,
  SILVER_MANIFEST_NAME,
  SILVER_PREFIX,
  silverHourOf,
  silverKey,
  silverManifestKey,
  silverPartitionPrefix,
  type ParsedSilverKey,
  type SilverPartition,
} from './silver-key';
export {
  parseSilverManifest,
  parseSilverWatermark,
  SILVER_WATERMARK_KEY,
  SilverManifestSchema,
  SilverWatermarkSchema,
  type SilverManifest,
  type SilverWatermark,
} from './silver-manifest';
