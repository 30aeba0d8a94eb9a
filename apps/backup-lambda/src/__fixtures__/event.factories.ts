import { encodeS3EventKey } from '@btc-etl/s3-keys';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A fixture file's text (this folder, or `not-ok/...`). */
export function fixture(name: string): string {
  return readFileSync(join(import.meta.dirname, name), 'utf8');
}

export interface S3RecordInput {
  bucket?: string;
  /** The real (decoded) key: encoded here the way S3 does (`+` for spaces). */
  key: string;
  size: number;
  etag: string;
  eventName?: string;
}

/** One `Records` entry as S3 documents it (shared/REFERENCE.md). */
export function s3EventRecord(input: S3RecordInput) {
  const bucket = input.bucket ?? 'btc-etl-raw';
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName: input.eventName ?? 'ObjectCreated:Put',
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'raw-object-created',
      bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
      object: { key: encodeS3EventKey(input.key), size: input.size, eTag: input.etag, sequencer: '0055AED6DCD90281E5' },
    },
  };
}

/** The SQS message body S3 sends for one or more objects. */
export function s3NotificationBody(...records: S3RecordInput[]): string {
  return JSON.stringify({ Records: records.map(s3EventRecord) });
}

/** The body S3 sends once when a notification configuration is saved. */
export function s3TestEventBody(bucket = 'btc-etl-raw'): string {
  return JSON.stringify({
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: new Date().toISOString(),
    Bucket: bucket,
    RequestId: 'R',
    HostId: 'H',
  });
}

/** A Lambda SQS record around a body (the documented shape; `sqs-record.json` holds a captured one). */
export function sqsRecordFactory(body: string, overrides: Partial<SQSRecord> = {}): SQSRecord {
  return {
    messageId: randomUUID(),
    receiptHandle: `AQEB${randomUUID()}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '098f6bcd4621d373cade4e832627b4f6',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:111122223333:btc-etl-raw-events',
    awsRegion: 'us-east-1',
    ...overrides,
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
