import { describe, expect, it } from 'vitest';
import { loadBackupConfig, loadRunnerConfig } from './backup.config';
import { BackupConfigError } from './backup.errors';

function configError(fn: () => unknown): BackupConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BackupConfigError) return error;
    throw error;
  }
  throw new Error('expected a BackupConfigError');
}

/** The Lambda's config with the one required variable set. */
const withBucket = (env: Record<string, string | undefined>) => loadBackupConfig({ BACKUP_BUCKET: 'b-1', ...env });

describe('loadBackupConfig', () => {
  it('needs BACKUP_BUCKET (the Lambda only talks to S3), and defaults the rest: no prefix, 5 GiB multipart', () => {
    const missing = configError(() => loadBackupConfig({}));
    expect(missing.issues).toEqual([{ variable: 'BACKUP_BUCKET', message: expect.stringMatching(/required/) }]);
    expect(loadBackupConfig({ BACKUP_BUCKET: 'my-backup' })).toEqual({
      backupBucket: 'my-backup',
      rawBucket: undefined,
      expectedBucketOwner: undefined,
      backupPrefix: '',
      multipartThresholdBytes: 5 * 1024 ** 3,
      multipartPartSizeBytes: 64 * 1024 ** 2,
      copyConcurrency: 16,
      partCopyConcurrency: 8,
      s3ForcePathStyle: false,
      s3TrustServerConditions: true,
    });
  });

  it("trusts S3's CopySourceIfMatch by default only when no endpoint override points the SDK elsewhere", () => {
    expect(withBucket({}).s3TrustServerConditions).toBe(true);
    expect(withBucket({ AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }).s3TrustServerConditions).toBe(false);
    expect(withBucket({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:5000' }).s3TrustServerConditions).toBe(false);
    expect(
      withBucket({ AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', S3_TRUST_SERVER_CONDITIONS: 'true' })
        .s3TrustServerConditions,
    ).toBe(true);
    expect(withBucket({ S3_TRUST_SERVER_CONDITIONS: 'false' }).s3TrustServerConditions).toBe(false);
    // The moto global setup exports AWS_ENDPOINT_URL: every moto test here runs the safe way.
    expect(withBucket(process.env).s3TrustServerConditions).toBe(process.env.AWS_ENDPOINT_URL === undefined);
  });

  it('reads every variable, treating empty strings as unset', () => {
    const config = loadBackupConfig({
      BACKUP_BUCKET: 'my-backup',
      BACKUP_PREFIX: 'copies/',
      MULTIPART_THRESHOLD_BYTES: '8388608',
      MULTIPART_PART_SIZE_BYTES: '5242880',
      COPY_CONCURRENCY: '4',
      PART_COPY_CONCURRENCY: '2',
      S3_FORCE_PATH_STYLE: 'true',
      SOMETHING_ELSE: 'ignored',
    });
    expect(config).toMatchObject({
      backupBucket: 'my-backup',
      backupPrefix: 'copies/',
      multipartThresholdBytes: 8388608,
      copyConcurrency: 4,
      s3ForcePathStyle: true,
    });
    expect(configError(() => loadBackupConfig({ BACKUP_BUCKET: '', BACKUP_PREFIX: '' })).variable).toBe(
      'BACKUP_BUCKET',
    );
  });

  it.each([
    [{ BACKUP_BUCKET: 'Not_A_Bucket' }, 'BACKUP_BUCKET', /S3 bucket name/],
    [{ BACKUP_PREFIX: 'copies' }, 'BACKUP_PREFIX', /end in "\/"/],
    [{ BACKUP_PREFIX: '/copies/' }, 'BACKUP_PREFIX', /not start with/],
    [{ MULTIPART_THRESHOLD_BYTES: 'lots' }, 'MULTIPART_THRESHOLD_BYTES', /./],
    [{ MULTIPART_THRESHOLD_BYTES: '0' }, 'MULTIPART_THRESHOLD_BYTES', />= 1/],
    [{ MULTIPART_PART_SIZE_BYTES: '1024' }, 'MULTIPART_PART_SIZE_BYTES', /5 MiB/],
    [{ COPY_CONCURRENCY: '2.5' }, 'COPY_CONCURRENCY', /whole number/],
    [{ S3_FORCE_PATH_STYLE: 'maybe' }, 'S3_FORCE_PATH_STYLE', /./],
    [{ S3_TRUST_SERVER_CONDITIONS: 'sometimes' }, 'S3_TRUST_SERVER_CONDITIONS', /./],
    [{ RAW_BUCKET: 'Raw_Bucket' }, 'RAW_BUCKET', /S3 bucket name/],
    [{ EXPECTED_BUCKET_OWNER: '12345' }, 'EXPECTED_BUCKET_OWNER', /12-digit/],
    [{ EXPECTED_BUCKET_OWNER: 'arn:aws:iam::123456789012:root' }, 'EXPECTED_BUCKET_OWNER', /12-digit/],
  ])('names the bad variable in %j', (env, variable, message) => {
    const error = configError(() => withBucket(env));
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.message).toMatch(message);
  });

  it('reports every bad variable at once', () => {
    const error = configError(() => loadBackupConfig({ BACKUP_BUCKET: 'X', COPY_CONCURRENCY: '0' }));
    expect(error.issues.map((i) => i.variable).sort()).toEqual(['BACKUP_BUCKET', 'COPY_CONCURRENCY']);
  });
});

describe('loadRunnerConfig', () => {
  it('on the local store: the bucket folder names shared with the extractor', () => {
    expect(loadRunnerConfig({})).toMatchObject({
      rawBucket: 'btc-etl-raw',
      backupBucket: 'btc-etl-backup',
      dataDir: './data',
      sqsQueueUrl: undefined,
      objectStore: 'local',
      againstS3: false,
    });
  });

  it.each([
    ['a queue to poll', { SQS_QUEUE_URL: 'http://127.0.0.1:5000/123456789012/q' }],
    ['OBJECT_STORE=s3', { OBJECT_STORE: 's3' }],
  ])('against S3 (%s) needs both bucket names, naming each one missing', (_, env) => {
    expect(configError(() => loadRunnerConfig(env)).issues.map((i) => i.variable)).toEqual([
      'RAW_BUCKET',
      'BACKUP_BUCKET',
    ]);
    const onlyRaw = configError(() => loadRunnerConfig({ ...env, RAW_BUCKET: 'my-raw' }));
    expect(onlyRaw.issues).toEqual([
      { variable: 'BACKUP_BUCKET', message: expect.stringMatching(/required against S3/) },
    ]);
    expect(loadRunnerConfig({ ...env, RAW_BUCKET: 'my-raw', BACKUP_BUCKET: 'my-backup' })).toMatchObject({
      rawBucket: 'my-raw',
      backupBucket: 'my-backup',
      againstS3: true,
    });
  });

  it('reads EXPECTED_BUCKET_OWNER', () => {
    expect(loadRunnerConfig({ EXPECTED_BUCKET_OWNER: '123456789012' }).expectedBucketOwner).toBe('123456789012');
  });

  it('validates the queue URL and the store kind', () => {
    expect(configError(() => loadRunnerConfig({ SQS_QUEUE_URL: 'my-queue' })).variable).toBe('SQS_QUEUE_URL');
    expect(configError(() => loadRunnerConfig({ OBJECT_STORE: 'gcs' })).variable).toBe('OBJECT_STORE');
    expect(
      loadRunnerConfig({
        SQS_QUEUE_URL: 'http://127.0.0.1:5000/123456789012/q',
        RAW_BUCKET: 'r-1',
        BACKUP_BUCKET: 'b-1',
      }).sqsQueueUrl,
    ).toBe('http://127.0.0.1:5000/123456789012/q');
  });
});
