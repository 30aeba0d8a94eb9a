import { DataError } from '@btc-etl/errors';

export interface ConfigIssue {
  variable: string;
  message: string;
}

/** A bad environment variable or CLI flag; `variable` names it. Thrown once at start-up, never later. */
export class BackupConfigError extends DataError<{ issues: readonly ConfigIssue[] }> {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(`invalid backup-lambda configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`, {
      issues,
    });
    this.issues = issues;
  }

  /** The first variable named, for callers that report one. */
  get variable(): string {
    return this.issues[0]?.variable ?? '(unknown)';
  }
}

/**
 * An SQS message body that is not an S3 event notification the handler understands. Fails only its own message,
 * which then reaches the DLQ after `maxReceiveCount`; `bodyExcerpt` is kept so the DLQ entry can be diagnosed.
 */
export class InvalidNotificationError extends DataError<{ reason: string; bodyExcerpt: string }> {
  readonly bodyExcerpt: string;
  constructor(reason: string, body: string, options?: ErrorOptions) {
    const excerpt = body.length > 500 ? `${body.slice(0, 500)}…` : body;
    super(
      `not an S3 event notification (${reason}): ${JSON.stringify(excerpt)}`,
      { reason, bodyExcerpt: excerpt },
      options,
    );
    this.bodyExcerpt = excerpt;
  }
}

// A type alias, not an interface: DataError's data must be assignable to a string-keyed record.
type CopyData = {
  sourceBucket: string;
  sourceKey: string;
  destinationBucket: string;
  destinationKey: string;
};

/** A copy that failed for a reason worth retrying (throttling, 5xx, network): the message is redelivered. */
export class BackupCopyError extends DataError<CopyData> {
  readonly sourceBucket: string;
  readonly sourceKey: string;
  readonly destinationBucket: string;
  readonly destinationKey: string;
  constructor(
    source: { bucket: string; key: string },
    destination: { bucket: string; key: string },
    options: ErrorOptions,
  ) {
    const why = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      `backup copy s3://${source.bucket}/${source.key} -> s3://${destination.bucket}/${destination.key} failed: ${why}`,
      {
        sourceBucket: source.bucket,
        sourceKey: source.key,
        destinationBucket: destination.bucket,
        destinationKey: destination.key,
      },
      options,
    );
    this.sourceBucket = source.bucket;
    this.sourceKey = source.key;
    this.destinationBucket = destination.bucket;
    this.destinationKey = destination.key;
  }
}

/**
 * An event for an object outside the configured raw bucket and its `raw/` prefix. Refused as IAM would refuse the
 * copy on AWS: the object is not copied and its message fails (redelivered, then to the DLQ), where it can be looked
 * at; the other objects of the same message are still backed up.
 */
export class BackupRefusedError extends DataError<{
  bucket: string;
  key: string;
  allowedBucket: string;
  allowedPrefix: string;
}> {
  constructor(bucket: string, key: string, allowed: { bucket: string; prefix: string }) {
    super(`refused s3://${bucket}/${key}: only s3://${allowed.bucket}/${allowed.prefix}... is backed up (RAW_BUCKET)`, {
      bucket,
      key,
      allowedBucket: allowed.bucket,
      allowedPrefix: allowed.prefix,
    });
  }
}

/** One SQS message whose objects were not all backed up; `failures` holds each object's error. */
export class BackupMessageError extends DataError<{ messageId: string; failures: number }> {
  readonly messageId: string;
  readonly failures: readonly Error[];
  constructor(messageId: string, failures: readonly Error[]) {
    super(
      `message ${messageId}: ${failures.length} object(s) not backed up: ${failures.map((f) => f.message).join(' | ')}`,
      { messageId, failures: failures.length },
      { cause: failures[0] },
    );
    this.messageId = messageId;
    this.failures = failures;
  }
}

/** A listing that did not come in ascending key order: reconcile's merge would be wrong, so it stops instead. */
export class ListingOrderError extends DataError<{ bucket: string; previousKey: string; key: string }> {
  constructor(bucket: string, previousKey: string, key: string) {
    super(
      `listing of ${bucket} is not in ascending key order (${JSON.stringify(key)} came ` +
        `after ${JSON.stringify(previousKey)}): reconcile stopped`,
      { bucket, previousKey, key },
    );
  }
}

/** A bad `--prefix`, `--from` or `--to` for reconcile; `flag` names it. The CLI exits 2 with the message. */
export class ReconcileScopeError extends DataError<{ flag: string }> {
  readonly flag: string;
  constructor(flag: string, message: string, options?: ErrorOptions) {
    super(message, { flag }, options);
    this.flag = flag;
  }
}
