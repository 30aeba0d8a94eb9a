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
