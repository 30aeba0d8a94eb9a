// A namespace import lets esbuild drop what is unused (`import { z }` keeps all of zod, locales included).
import * as z from 'zod';
import { DEFAULT_LOOKBACK_HOURS } from '../compaction/compact.run';
import { CompactorConfigError } from '../compactor.errors';

const bucketName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)',
  );
const seconds = (min: number, max: number) =>
  z.coerce
    .number()
    .int('must be a whole number of seconds')
    .min(min, `must be >= ${min}`)
    .max(max, `must be <= ${max}`);

/** Every setting, from the environment (the CLI's flags only choose the command and its range). */
export const CompactorEnvSchema = z
  .object({
    /** `local`: buckets are folders under DATA_DIR. `s3`: AWS (or moto with AWS_ENDPOINT_URL); buckets required. */
    OBJECT_STORE: z.enum(['local', 's3']).optional(),
    DATA_DIR: z.string().min(1).default('./data'),
    RAW_BUCKET: bucketName.optional(),
    SILVER_BUCKET: bucketName.optional(),
    RAW_PREFIX: z
      .string()
      .refine((p) => p === '' || (p.endsWith('/') && !p.startsWith('/')), 'must be empty or end in "/"')
      .default('raw/'),
    /** The local scheduler's period (serve); the Lambda's comes from EventBridge Scheduler. */
    COMPACT_INTERVAL_S: seconds(1, 86_400).default(300),
    /** How long after an arrival hour ends raw objects may still appear in it (Firehose buffers up to 900 s). */
    COMPACT_LATE_SLACK_S: seconds(0, 86_400).default(1_200),
    COMPACT_MAX_HOURS: seconds(1, 24 * 366).default(72),
    /** Arrival hours behind the watermark listed again for late Firehose deliveries (0 = off). */
    COMPACT_LOOKBACK_H: z.coerce
      .number()
      .int('must be a whole number of hours')
      .min(0, 'must be >= 0')
      .max(24 * 31, `must be <= ${24 * 31}`)
      .default(DEFAULT_LOOKBACK_HOURS),
    COMPACT_BATCH_RECORDS: z.coerce.number().int().min(1_000).max(50_000_000).default(2_000_000),
    SILVER_GC_GRACE_S: seconds(0, 7 * 86_400).default(600),
    METRICS_EMF: z.stringbool().optional(),
    S3_FORCE_PATH_STYLE: z.stringbool().default(false),
    AWS_LAMBDA_FUNCTION_NAME: z.string().optional(),
    /** Test hook: SIGKILL the process itself at this step of a run (the crash tests use it). */
    COMPACTOR_CRASH_AT: z
      .enum([
        'batch-read',
        'data-written',
        'manifest-swung',
        'old-deleted',
        'quarantine-written',
        'state-recorded',
        'watermark-advanced',
      ])
      .optional(),
  })
  .superRefine((e, ctx) => {
    if ((e.OBJECT_STORE ?? 'local') !== 's3') return;
    // against S3 no default bucket names: a typo must not write silver into somebody else's bucket
    for (const name of ['RAW_BUCKET', 'SILVER_BUCKET'] as const) {
      if (e[name] === undefined)
        ctx.addIssue({ code: 'custom', path: [name], message: 'required with OBJECT_STORE=s3' });
    }
  });

export interface CompactorConfig {
  objectStore: 'local' | 's3';
  dataDir: string;
  rawBucket: string;
  silverBucket: string;
  rawPrefix: string;
  intervalMs: number;
  lateSlackMs: number;
  maxHours: number;
  lookbackHours: number;
  batchRecords: number;
  gcGraceMs: number;
  metricsEmf: boolean;
  s3ForcePathStyle: boolean;
  crashAt: string | undefined;
}

type Env = Record<string, string | undefined>;

/**
 * Validate the environment once, at the edge. Throws CompactorConfigError naming each bad variable. Local defaults:
 * buckets `btc-etl-raw` and `btc-etl-silver` under DATA_DIR (the extractor's local sink writes btc-etl-raw).
 * In Lambda (AWS_LAMBDA_FUNCTION_NAME set) the store is S3 and EMF metrics are on unless told otherwise.
 */
export function loadCompactorConfig(env: Env): CompactorConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const inLambda = present.AWS_LAMBDA_FUNCTION_NAME !== undefined;
  const withDefaults = inLambda && present.OBJECT_STORE === undefined ? { ...present, OBJECT_STORE: 's3' } : present;
  const result = CompactorEnvSchema.safeParse(withDefaults);
  if (!result.success) {
    throw new CompactorConfigError(
      result.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(env)'), message: i.message })),
    );
  }
  const e = result.data;
  return {
    objectStore: e.OBJECT_STORE ?? 'local',
    dataDir: e.DATA_DIR,
    rawBucket: e.RAW_BUCKET ?? 'btc-etl-raw',
    silverBucket: e.SILVER_BUCKET ?? 'btc-etl-silver',
    rawPrefix: e.RAW_PREFIX,
    intervalMs: e.COMPACT_INTERVAL_S * 1000,
    lateSlackMs: e.COMPACT_LATE_SLACK_S * 1000,
    maxHours: e.COMPACT_MAX_HOURS,
    lookbackHours: e.COMPACT_LOOKBACK_H,
    batchRecords: e.COMPACT_BATCH_RECORDS,
    gcGraceMs: e.SILVER_GC_GRACE_S * 1000,
    metricsEmf: e.METRICS_EMF ?? inLambda,
    s3ForcePathStyle: e.S3_FORCE_PATH_STYLE,
    crashAt: e.COMPACTOR_CRASH_AT,
  };
}
