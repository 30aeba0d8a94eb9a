import { DataError, type ErrorData } from '@btc-etl/errors';

/** Which port method failed; part of every error so logs and retry policies can tell reads from writes. */
export type ObjectStoreOperation = 'put' | 'get' | 'getStream' | 'getChunks' | 'head' | 'copy' | 'list' | 'delete';

function quoteKey(key: string): string {
  return JSON.stringify(key.length > 300 ? `${key.slice(0, 300)}…` : key);
}

/** What every object-store error carries in `data`. */
export type ObjectStoreErrorData = {
  operation: ObjectStoreOperation;
  bucket: string;
  key: string | undefined;
};

/**
 * Base of every error an `ObjectStore` rejects with. Carries where (bucket, key) and what (operation) failed, as typed
 * fields and in `data` (with a subclass's own facts); the SDK or file-system error stays in `cause`.
 */
export class ObjectStoreError<D extends ErrorData = ErrorData> extends DataError<ObjectStoreErrorData & D> {
  readonly bucket: string;
  /** The object key; undefined for bucket-level operations such as `list`. */
  readonly key: string | undefined;
  readonly operation: ObjectStoreOperation;

  constructor(
    operation: ObjectStoreOperation,
    bucket: string,
    key: string | undefined,
    message: string,
    options?: ErrorOptions,
    data: D = {} as D,
  ) {
    // e.g. `copy raw-bucket key "raw/2026/x": precondition failed ...`
    super(
      `${operation} ${bucket}${key === undefined ? '' : ` key ${quoteKey(key)}`}: ${message}`,
      {
        ...data,
        operation,
        bucket,
        key,
      },
      options,
    );
    this.operation = operation;
    this.bucket = bucket;
    this.key = key;
  }
}

/** The object does not exist (S3 404 `NoSuchKey`/`NotFound`, or no such file in the local store). */
export class ObjectNotFoundError extends ObjectStoreError {
  constructor(operation: ObjectStoreOperation, bucket: string, key: string, options?: ErrorOptions) {
    super(operation, bucket, key, 'no such object', options);
  }
}

/**
 * The bucket itself does not exist (S3 `NoSuchBucket`). Not an `ObjectNotFoundError` on purpose: a missing bucket is
 * a configuration error that must fail loudly, never be treated as "object already gone". The local store creates
 * bucket folders on first write, so only the S3 adapter throws this.
 */
export class BucketNotFoundError extends ObjectStoreError {
  constructor(operation: ObjectStoreOperation, bucket: string, key: string | undefined, options?: ErrorOptions) {
    super(operation, bucket, key, 'no such bucket', options);
  }
}

/**
 * A conditional copy found the source with another ETag than the caller expected, or a conditional put found another
 * object than it allowed (S3 412 `PreconditionFailed`). `expectedEtag` is `'*'` for a create-only put (`ifNoneMatch`).
 * `actualEtag` is undefined when the store did not say (a 412 from S3 carries no ETag) or there is no object.
 */
export class PreconditionFailedError extends ObjectStoreError<{
  expectedEtag: string;
  actualEtag: string | undefined;
}> {
  readonly expectedEtag: string;
  readonly actualEtag: string | undefined;

  constructor(
    operation: ObjectStoreOperation,
    bucket: string,
    key: string,
    expectedEtag: string,
    actualEtag: string | undefined,
    options?: ErrorOptions,
  ) {
    super(
      operation,
      bucket,
      key,
      expectedEtag === '*'
        ? `precondition failed: expected no object, found ${actualEtag ? `ETag ${actualEtag}` : 'one'}`
        : `precondition failed: expected ETag ${expectedEtag}, found ${actualEtag ?? '(unknown or no object)'}`,
      options,
      { expectedEtag, actualEtag },
    );
    this.expectedEtag = expectedEtag;
    this.actualEtag = actualEtag;
  }
}

/**
 * A bucket name or key the local store cannot hold safely: it could escape the root (`..`, absolute paths, NUL,
 * backslashes, percent-encoded variants), collide with another key (`a//b`, `a/`), or is reserved by the store.
 * Nothing is read or written for such a key.
 */
export class InvalidObjectKeyError extends ObjectStoreError<{ reason: string }> {
  readonly reason: string;

  constructor(operation: ObjectStoreOperation, bucket: string, key: string, reason: string, options?: ErrorOptions) {
    super(operation, bucket, key, `invalid key for a local store: ${reason}`, options, { reason });
    this.reason = reason;
  }
}

/** A bad option handed to an adapter or the factory; `field` names it. Thrown at construction, never later. */
export class ObjectStoreConfigError extends DataError<{ field: string }> {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`object store config: ${field} ${message}`, { field });
    this.field = field;
  }
}
