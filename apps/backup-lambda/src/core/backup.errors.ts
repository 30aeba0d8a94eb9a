/** A bad environment variable or CLI flag; `variable` names it. Thrown once at start-up, never later. */
export class BackupConfigError extends Error {
  readonly issues: readonly { variable: string; message: string }[];
  constructor(issues: readonly { variable: string; message: string }[]) {
    super(`invalid backup-lambda configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`);
    this.name = 'BackupConfigError';
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
export class InvalidNotificationError extends Error {
  readonly bodyExcerpt: string;
  constructor(reason: string, body: string, options?: ErrorOptions) {
    const excerpt = body.length > 500 ? `${body.slice(0, 500)}…` : body;
    super(`not an S3 event notification (${reason}): ${JSON.stringify(excerpt)}`, options);
    this.name = 'InvalidNotificationError';
    this.bodyExcerpt = excerpt;
  }
}

/** A copy that failed for a reason worth retrying (throttling, 5xx, network): the message is redelivered. */
export class BackupCopyError extends Error {
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
      options,
    );
    this.name = 'BackupCopyError';
    this.sourceBucket = source.bucket;
    this.sourceKey = source.key;
    this.destinationBucket = destination.bucket;
    this.destinationKey = destination.key;
  }
}

/** One SQS message whose objects were not all backed up; `failures` holds each object's error. */
export class BackupMessageError extends Error {
  readonly messageId: string;
  readonly failures: readonly Error[];
  constructor(messageId: string, failures: readonly Error[]) {
    super(
      `message ${messageId}: ${failures.length} object(s) not backed up: ${failures.map((f) => f.message).join(' | ')}`,
      { cause: failures[0] },
    );
    this.name = 'BackupMessageError';
    this.messageId = messageId;
    this.failures = failures;
  }
}
