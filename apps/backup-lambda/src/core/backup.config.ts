// A namespace import lets esbuild drop what is unused (`import { z }` keeps all of zod, locales included: +350 KiB).
import * as z from 'zod';
import type { S3ObjectStoreOptions } from '@btc-etl/object-store';
import { BackupConfigError } from './backup.errors';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** S3's bucket naming rules, checked up front so a typo fails at start-up rather than on the first copy. */
const bucketName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)',
  );

const positiveInt = (max: number) =>
  z.coerce.number().int('must be a whole number').min(1, 'must be >= 1').max(max, `must be <= ${max}`);

/** An AWS account id, as S3's ExpectedBucketOwner takes it. */
const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');

/** The bucket names the local store uses when none is set (folders under DATA_DIR), shared with the extractor. */
export const LOCAL_BUCKET_DEFAULTS = { RAW_BUCKET: 'btc-etl-raw', BACKUP_BUCKET: 'btc-etl-backup' } as const;

/** An empty prefix, or one ending in `/` that does not start with one (keys never start with `/`). */
const keyPrefix = z
  .string()
  .refine(
    (p) => p === '' || (p.endsWith('/') && !p.startsWith('/')),
    'must be empty or end in "/" (and not start with "/")',
  );

/**
 * What the Lambda handler reads: where to copy, and how (the same names work for the local runner). The Lambda only
 * ever talks to S3, so BACKUP_BUCKET has no default: a name that could belong to someone else is never guessed.
 */
export const BackupEnvSchema = z.object({
  BACKUP_BUCKET: z
    .string({
      error: (issue) => (issue.input === undefined ? 'is required (no default bucket name against S3)' : undefined),
    })
    .pipe(bucketName),
  /** Set: the handler refuses events from any other bucket, or outside `raw/` (defence in depth behind IAM). */
  RAW_BUCKET: bucketName.optional(),
  /** Set: every S3 call names the account that must own the bucket (403 otherwise). */
  EXPECTED_BUCKET_OWNER: accountId.optional(),
  BACKUP_PREFIX: keyPrefix.default(''),
  /** Objects above this are copied by multipart UploadPartCopy (S3's CopyObject stops at 5 GiB). */
  MULTIPART_THRESHOLD_BYTES: positiveInt(5 * GiB).default(5 * GiB),
  MULTIPART_PART_SIZE_BYTES: z.coerce
    .number()
    .int('must be a whole number')
    .min(5 * MiB, 'must be >= 5 MiB (S3 minimum part size)')
    .default(64 * MiB),
  /** Object copies in flight at once across a whole batch. */
  COPY_CONCURRENCY: positiveInt(256).default(16),
  /** UploadPartCopy calls in flight for one multipart copy. */
  PART_COPY_CONCURRENCY: positiveInt(64).default(8),
  /** Path-style S3 URLs: needed against moto and most S3 emulators, off on AWS. */
  S3_FORCE_PATH_STYLE: z.stringbool().default(false),
  /**
   * Whether S3 itself enforces CopySourceIfMatch, so a small copy needs no HEAD of its source first. AWS S3 does;
   * moto 5.2.1 ignores the header. Unset: true unless AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3 points the SDK at
   * something else (an emulator), where false costs one request per copy and stays correct.
   */
  S3_TRUST_SERVER_CONDITIONS: z.stringbool().optional(),
  /** Read only to choose the default above; the SDK reads them itself. */
  AWS_ENDPOINT_URL: z.string().optional(),
  AWS_ENDPOINT_URL_S3: z.string().optional(),
});

/**
 * The local runner and reconcile also need the raw side and, for local mode, the data directory. Against S3 (a queue
 * to poll, or OBJECT_STORE=s3) both bucket names are required; the local store falls back to LOCAL_BUCKET_DEFAULTS.
 */
export const RunnerEnvSchema = BackupEnvSchema.extend({
  BACKUP_BUCKET: bucketName.optional(),
  RAW_BUCKET: bucketName.optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  /** Set: poll this queue (real SQS or moto). Unset: local mode, reconcile DATA_DIR on a timer. */
  SQS_QUEUE_URL: z.url('must be a queue URL').optional(),
  /** Where reconcile lists and copies: `local` (DATA_DIR) or `s3`. */
  OBJECT_STORE: z.enum(['local', 's3']).default('local'),
  RECONCILE_INTERVAL_MS: positiveInt(3_600_000).default(5_000),
  SQS_WAIT_TIME_SECONDS: z.coerce.number().int().min(0).max(20).default(20),
});

export interface BackupConfig {
  backupBucket: string;
  /** Only events from this bucket (under `raw/`) are backed up; unset in the Lambda: no check. */
  rawBucket: string | undefined;
  expectedBucketOwner: string | undefined;
  backupPrefix: string;
  multipartThresholdBytes: number;
  multipartPartSizeBytes: number;
  copyConcurrency: number;
  partCopyConcurrency: number;
  s3ForcePathStyle: boolean;
  s3TrustServerConditions: boolean;
}

export interface RunnerConfig extends BackupConfig {
  rawBucket: string;
  /** True when the buckets are S3 ones (SQS_QUEUE_URL set, or OBJECT_STORE=s3). */
  againstS3: boolean;
  dataDir: string;
  sqsQueueUrl: string | undefined;
  objectStore: 'local' | 's3';
  reconcileIntervalMs: number;
  sqsWaitTimeSeconds: number;
}

type Env = Record<string, string | undefined>;

/** Empty strings count as unset, as a shell's `VAR=` usually means "use the default". */
function present(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

function parseOrThrow<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  const result = schema.safeParse(present(env));
  if (result.success) return result.data;
  throw new BackupConfigError(
    result.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '(env)'), message: issue.message })),
  );
}

type BackupEnv = Omit<z.infer<typeof BackupEnvSchema>, 'BACKUP_BUCKET'>;

function toBackupConfig(e: BackupEnv, backupBucket: string): BackupConfig {
  return {
    backupBucket,
    rawBucket: e.RAW_BUCKET,
    expectedBucketOwner: e.EXPECTED_BUCKET_OWNER,
    backupPrefix: e.BACKUP_PREFIX,
    multipartThresholdBytes: e.MULTIPART_THRESHOLD_BYTES,
    multipartPartSizeBytes: e.MULTIPART_PART_SIZE_BYTES,
    copyConcurrency: e.COPY_CONCURRENCY,
    partCopyConcurrency: e.PART_COPY_CONCURRENCY,
    s3ForcePathStyle: e.S3_FORCE_PATH_STYLE,
    s3TrustServerConditions:
      e.S3_TRUST_SERVER_CONDITIONS ?? (e.AWS_ENDPOINT_URL === undefined && e.AWS_ENDPOINT_URL_S3 === undefined),
  };
}

/**
 * The Lambda's configuration, validated once at cold start. Throws `BackupConfigError` naming each bad variable.
 * @example loadBackupConfig({ BACKUP_BUCKET: 'my-backup', MULTIPART_THRESHOLD_BYTES: '8388608' })
 */
export function loadBackupConfig(env: Env): BackupConfig {
  const e = parseOrThrow(BackupEnvSchema, env);
  return toBackupConfig(e, e.BACKUP_BUCKET);
}

/** The local runner's and reconcile's configuration (the Lambda's plus the raw side). */
export function loadRunnerConfig(env: Env): RunnerConfig {
  const e = parseOrThrow(RunnerEnvSchema, env);
  const againstS3 = e.SQS_QUEUE_URL !== undefined || e.OBJECT_STORE === 's3';
  if (againstS3) {
    const missing = (['RAW_BUCKET', 'BACKUP_BUCKET'] as const).filter((name) => e[name] === undefined);
    if (missing.length > 0) {
      throw new BackupConfigError(
        missing.map((variable) => ({
          variable,
          message: 'is required against S3 (SQS_QUEUE_URL or OBJECT_STORE=s3 set): no default bucket name is guessed',
        })),
      );
    }
  }
  const rawBucket = e.RAW_BUCKET ?? LOCAL_BUCKET_DEFAULTS.RAW_BUCKET;
  return {
    ...toBackupConfig(e, e.BACKUP_BUCKET ?? LOCAL_BUCKET_DEFAULTS.BACKUP_BUCKET),
    rawBucket,
    againstS3,
    dataDir: e.DATA_DIR,
    sqsQueueUrl: e.SQS_QUEUE_URL,
    objectStore: e.OBJECT_STORE,
    reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    sqsWaitTimeSeconds: e.SQS_WAIT_TIME_SECONDS,
  };
}

/** What `backup-lambda:redrive` reads: the DLQ to empty and the queue its messages go back to. */
export const RedriveEnvSchema = z.object({
  DLQ_URL: z.url('must be a queue URL'),
  QUEUE_URL: z.url('must be a queue URL'),
  /** `--max`: move at most this many. */
  REDRIVE_MAX: positiveInt(1_000_000_000).optional(),
});

export interface RedriveConfig {
  dlqUrl: string;
  queueUrl: string;
  max: number | undefined;
}

/** The redrive tool's configuration; DLQ_URL and QUEUE_URL must differ. */
export function loadRedriveConfig(env: Env): RedriveConfig {
  const e = parseOrThrow(RedriveEnvSchema, env);
  if (e.DLQ_URL === e.QUEUE_URL)
    throw new BackupConfigError([{ variable: 'QUEUE_URL', message: 'must not be the DLQ itself (DLQ_URL)' }]);
  return { dlqUrl: e.DLQ_URL, queueUrl: e.QUEUE_URL, max: e.REDRIVE_MAX };
}

/** The S3 adapter's options from the config: one place for the Lambda, the runner and reconcile. */
export function s3StoreOptions(config: BackupConfig): S3ObjectStoreOptions {
  return {
    forcePathStyle: config.s3ForcePathStyle,
    trustServerConditions: config.s3TrustServerConditions,
    multipartCopyThresholdBytes: config.multipartThresholdBytes,
    multipartPartSizeBytes: config.multipartPartSizeBytes,
    copyConcurrency: config.partCopyConcurrency,
    ...(config.expectedBucketOwner ? { expectedBucketOwner: config.expectedBucketOwner } : {}),
  };
}
