import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** One HTTP request as the SDK signed and sent it. */
export interface SentS3Request {
  method: string;
  path: string;
  /** Lower-case names, e.g. `x-amz-expected-bucket-owner`, `range`. */
  headers: Readonly<Record<string, string>>;
}

/**
 * An S3 client (path style, for moto) that records every HTTP request it sends, headers as signed. moto 5.2.1 ignores
 * the bucket-owner headers (it never answers 403 for a wrong owner), so what a test can prove with it is that every
 * request carries them.
 *
 * @example
 * const { client, sent } = recordingS3Client();
 * await new S3ObjectStore({ client, expectedBucketOwner: '123456789012' }).get(bucket, key);
 * expect(sent.every((s) => s.headers['x-amz-expected-bucket-owner'] === '123456789012')).toBe(true);
 */
export function recordingS3Client(config: S3ClientConfig = {}): { client: S3Client; sent: SentS3Request[] } {
  const sent: SentS3Request[] = [];
  const client = new S3Client({ forcePathStyle: true, ...config });
  client.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { method?: string; path?: string; headers?: Record<string, string> };
      sent.push({ method: request.method ?? '', path: request.path ?? '', headers: { ...request.headers } });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordRequests' },
  );
  return { client, sent };
}
