import { decodeS3EventKey } from '@btc-etl/s3-keys';
// A namespace import lets esbuild drop what is unused (`import { z }` keeps all of zod, locales included: +350 KiB).
import * as z from 'zod';
import { InvalidNotificationError } from '../core/backup.errors';

/**
 * One entry of an S3 event notification's `Records`
 * (docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html). `size` and `eTag` are absent on
 * ObjectRemoved events, so they are optional here and required below for ObjectCreated. `eventTime` is kept as a
 * string: moto writes it without a zone (`2026-11-27T19:53:15.123456`).
 */
export const S3EventRecordSchema = z.object({
  eventVersion: z.string().optional(),
  eventSource: z.literal('aws:s3'),
  awsRegion: z.string().optional(),
  eventTime: z.string().optional(),
  eventName: z.string().min(1),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1), arn: z.string().optional() }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      eTag: z.string().min(1).optional(),
      versionId: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});
export type S3EventRecord = z.infer<typeof S3EventRecordSchema>;

/** The message body S3 sends to SQS for object events. */
export const S3NotificationSchema = z.object({ Records: z.array(S3EventRecordSchema).min(1) });
export type S3Notification = z.infer<typeof S3NotificationSchema>;

/** What S3 sends once when a notification configuration is saved; it names no object. */
export const S3TestEventSchema = z.object({
  Service: z.string().optional(),
  Event: z.literal('s3:TestEvent'),
  Time: z.string().optional(),
  Bucket: z.string().optional(),
});

/** One object the handler must back up: the decoded key and what the event says the bytes were. */
export interface ObjectCreatedEvent {
  bucket: string;
  /** Decoded (`+` -> space, percent escapes resolved). */
  key: string;
  size: number;
  /** Unquoted, as S3 events carry it. */
  etag: string;
  eventName: string;
  eventTime?: string;
  sequencer?: string;
}

/** A record the handler does not act on (not ObjectCreated), kept for logs. */
export interface SkippedEvent {
  eventName: string;
  bucket: string;
  key: string;
}

export type ParsedNotification =
  | { kind: 'test-event'; bucket?: string }
  | { kind: 'records'; created: ObjectCreatedEvent[]; skipped: SkippedEvent[] };

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
    .join('; ');
}

function decodeKey(encoded: string, body: string): string {
  try {
    return decodeS3EventKey(encoded);
  } catch (cause) {
    throw new InvalidNotificationError(`malformed key encoding ${JSON.stringify(encoded)}`, body, { cause });
  }
}

/**
 * Parse one SQS message body holding an S3 notification: a TestEvent, or every entry of `Records`, split into
 * ObjectCreated events (keys decoded, ETag and size required) and the rest (skipped). Anything else throws
 * `InvalidNotificationError`, so only this message fails.
 */
export function parseS3Notification(body: string): ParsedNotification {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new InvalidNotificationError('body is not JSON', body, { cause });
  }
  const test = S3TestEventSchema.safeParse(json);
  if (test.success) return { kind: 'test-event', ...(test.data.Bucket ? { bucket: test.data.Bucket } : {}) };

  const parsed = S3NotificationSchema.safeParse(json);
  if (!parsed.success) throw new InvalidNotificationError(describeIssues(parsed.error), body);

  const created: ObjectCreatedEvent[] = [];
  const skipped: SkippedEvent[] = [];
  for (const [index, record] of parsed.data.Records.entries()) {
    const { bucket, object } = record.s3;
    const key = decodeKey(object.key, body);
    if (!record.eventName.startsWith('ObjectCreated:')) {
      skipped.push({ eventName: record.eventName, bucket: bucket.name, key });
      continue;
    }
    if (object.eTag === undefined || object.size === undefined) {
      throw new InvalidNotificationError(`Records.${index}: an ObjectCreated event without eTag or size`, body);
    }
    created.push({
      bucket: bucket.name,
      key,
      size: object.size,
      etag: object.eTag.replace(/^"(.*)"$/, '$1'),
      eventName: record.eventName,
      ...(record.eventTime ? { eventTime: record.eventTime } : {}),
      ...(object.sequencer ? { sequencer: object.sequencer } : {}),
    });
  }
  return { kind: 'records', created, skipped };
}
