// A namespace import lets esbuild drop what is unused (`import { z }` keeps all of zod, locales included: +350 KiB).
import * as z from 'zod';
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

/** An empty prefix, or one ending in `/` that does not start with one (keys never start with `/`). */
const keyPrefix = z
  .string()
  .refine(
    (p) => p === '' || (p.endsWith('/') && !p.startsWith('/')),
    'must be empty or end in "/" (and not start with "/")',
  );

/** What the Lambda handler reads: where to copy, and how (the same names work for the local runner). */
export const BackupEnvSchema = z.object({
  BACKUP_BUCKET: bucketName.default('btc-etl-backup'),
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

/** The local runner and reconcile also need the raw side and, for local mode, the data directory. */
export const RunnerEnvSchema = BackupEnvSchema.extend({
  RAW_BUCKET: bucketName.default('btc-etl-raw'),
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

function toBackupConfig(e: z.infer<typeof BackupEnvSchema>): BackupConfig {
  return {
    backupBucket: e.BACKUP_BUCKET,
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
  return toBackupConfig(parseOrThrow(BackupEnvSchema, env));
}

/** The local runner's and reconcile's configuration (the Lambda's plus the raw side). */
export function loadRunnerConfig(env: Env): RunnerConfig {
  const e = parseOrThrow(RunnerEnvSchema, env);
  return {
    ...toBackupConfig(e),
    rawBucket: e.RAW_BUCKET,
    dataDir: e.DATA_DIR,
    sqsQueueUrl: e.SQS_QUEUE_URL,
    objectStore: e.OBJECT_STORE,
    reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    sqsWaitTimeSeconds: e.SQS_WAIT_TIME_SECONDS,
  };
}
