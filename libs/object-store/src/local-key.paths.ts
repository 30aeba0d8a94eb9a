import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { assertBucketName, localObjectPath, UnsafeKeyError } from '@btc-etl/s3-keys';
import { InvalidObjectKeyError, ObjectStoreError, type ObjectStoreOperation } from './object-store.errors';

/** Sidecars live in a mirror tree `<root>/.btc-etl-meta/<bucket>/<key>`; bucket names cannot start with a dot. */
export const LOCAL_META_DIR = '.btc-etl-meta';
/** Temp files (data and sidecars) start with this; keys with a segment starting with it are refused. */
export const LOCAL_TEMP_PREFIX = '.btc-etl-tmp-';
/** Lock files live in `<root>/.btc-etl-meta/.locks/`, named by a hash of bucket and key. */
export const LOCAL_LOCKS_DIR = '.locks';
/** NAME_MAX on Linux, macOS and Windows file systems. */
const MAX_SEGMENT_BYTES = 255;

/** The files behind one (bucket, key) in the local store. */
export interface KeyPaths {
  /** The object's bytes: `<root>/<bucket>/<key>`. */
  dataPath: string;
  /** Its sidecar: `<root>/.btc-etl-meta/<bucket>/<key>`. */
  metaPath: string;
  /** The per-key lock file writers hold across their two renames. */
  lockPath: string;
  bucketDir: string;
  metaBucketDir: string;
}

/** Map (bucket, key) to its files, refusing anything that could escape the root or is not a plain file name. */
export function localKeyPaths(root: string, operation: ObjectStoreOperation, bucket: string, key: string): KeyPaths {
  const metaRoot = join(root, LOCAL_META_DIR);
  let dataPath: string;
  let metaPath: string;
  try {
    dataPath = localObjectPath(root, bucket, key);
    metaPath = localObjectPath(metaRoot, bucket, key);
  } catch (error) {
    if (error instanceof UnsafeKeyError)
      throw new InvalidObjectKeyError(operation, bucket, key, error.reason, { cause: error });
    throw error;
  }
  for (const segment of key.split('/')) {
    if (segment.startsWith(LOCAL_TEMP_PREFIX)) {
      throw new InvalidObjectKeyError(
        operation,
        bucket,
        key,
        `segment starts with "${LOCAL_TEMP_PREFIX}" (reserved for temp files)`,
      );
    }
    if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) {
      throw new InvalidObjectKeyError(operation, bucket, key, `path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
    }
  }
  return {
    dataPath,
    metaPath,
    // hashed on first use: reads (LIST, GET) rarely take the lock
    get lockPath() {
      const lockName = createHash('sha256').update(`${bucket}\0${key}`).digest('hex').slice(0, 40);
      return join(metaRoot, LOCAL_LOCKS_DIR, `${lockName}.lock`);
    },
    bucketDir: join(root, bucket),
    metaBucketDir: join(metaRoot, bucket),
  };
}

/** Refuse a bucket name that is not a plain folder name (bucket-level operations such as `list`). */
export function checkLocalBucket(operation: ObjectStoreOperation, bucket: string): void {
  try {
    assertBucketName(bucket);
  } catch (error) {
    if (error instanceof UnsafeKeyError)
      throw new ObjectStoreError(operation, bucket, undefined, error.reason, { cause: error });
    throw error;
  }
}
