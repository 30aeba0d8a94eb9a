import { encodeS3EventKey } from '@btc-etl/s3-keys';

/**
 * The body S3 (and moto) sends to SQS for one created object: the key URL-encoded with `+` for spaces
 * (shared/REFERENCE.md). Scenarios use it to replay, duplicate or forge notifications.
 */
export function s3EventBody(bucket: string, object: { key: string; size: number; etag: string }): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encodeS3EventKey(object.key), size: object.size, eTag: object.etag },
        },
      },
    ],
  });
}
