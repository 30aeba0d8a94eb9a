import { DataError } from '@btc-etl/errors';

/** A key that does not follow Firehose's layout, or a datehour that is not `yyyy/MM/dd/HH`. */
export class S3KeyError extends DataError<{ key: string; reason: string }> {
  readonly key: string;
  constructor(key: string, reason: string, options?: ErrorOptions) {
    super(`${reason}: ${JSON.stringify(key.length > 300 ? `${key.slice(0, 300)}…` : key)}`, { key, reason }, options);
    this.key = key;
  }
}

/** A bucket or key that cannot be mapped under a local root without escaping it. */
export class UnsafeKeyError extends DataError<{ bucket: string; key: string; reason: string }> {
  readonly bucket: string;
  readonly key: string;
  readonly reason: string;
  constructor(bucket: string, key: string, reason: string) {
    super(
      `unsafe object key for a local store (${reason}): bucket ${JSON.stringify(bucket)}, ` +
        `key ${JSON.stringify(key.slice(0, 300))}`,
      { bucket, key, reason },
    );
    this.bucket = bucket;
    this.key = key;
    this.reason = reason;
  }
}
