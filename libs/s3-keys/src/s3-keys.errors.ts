/** A key that does not follow Firehose's layout, or a datehour that is not `yyyy/MM/dd/HH`. */
export class S3KeyError extends Error {
  readonly key: string;
  constructor(key: string, reason: string) {
    super(`${reason}: ${JSON.stringify(key.length > 300 ? `${key.slice(0, 300)}…` : key)}`);
    this.name = 'S3KeyError';
    this.key = key;
  }
}

/** A bucket or key that cannot be mapped under a local root without escaping it. */
export class UnsafeKeyError extends Error {
  readonly bucket: string;
  readonly key: string;
  readonly reason: string;
  constructor(bucket: string, key: string, reason: string) {
    super(
      `unsafe object key for a local store (${reason}): bucket ${JSON.stringify(bucket)}, key ${JSON.stringify(key.slice(0, 300))}`,
    );
    this.name = 'UnsafeKeyError';
    this.bucket = bucket;
    this.key = key;
    this.reason = reason;
  }
}
