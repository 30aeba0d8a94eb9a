import { resolve } from 'node:path';
import { z } from 'zod';
import type { ObjectStoreConfig } from '@btc-etl/object-store';
import { unsafePrefixReason } from '@btc-etl/s3-keys';
import { QueryConfigError, type QueryInputIssue } from '../query.errors';
import type { ArrivalSlack } from '../engines/arrival-window';
import { LAYERS } from '../engines/layer';

const bucket = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name');
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'letters, digits and _ only');
const seconds = (max: number) => z.coerce.number().int().min(0).max(max);

/**
 * The bucket names of the local store (folders under DATA_DIR), the ones the extractor's local sink and the
 * compactor's local mode write. Never used against S3, where a guessed name could be somebody else's bucket.
 */
export const LOCAL_BUCKET_DEFAULTS = {
  RAW_BUCKET: 'btc-etl-raw',
  BACKUP_BUCKET: 'btc-etl-backup',
  SILVER_BUCKET: 'btc-etl-silver',
} as const;
const BUCKET_VARIABLES = Object.keys(LOCAL_BUCKET_DEFAULTS) as (keyof typeof LOCAL_BUCKET_DEFAULTS)[];

/** Every environment variable the query app reads, with its default (bucket names: see LOCAL_BUCKET_DEFAULTS). */
const EnvSchema = z.object({
  /** `local`: buckets are folders under DATA_DIR. `s3`: AWS (or moto with AWS_ENDPOINT_URL); bucket names required. */
  OBJECT_STORE: z.enum(['local', 's3']).default('local'),
  DATA_DIR: z.string().min(1).default('./data'),
  RAW_BUCKET: bucket.optional(),
  BACKUP_BUCKET: bucket.optional(),
  /** Where the compactor writes silver Parquet (`silver/ticks/...`) and its state (`_state/compactor/...`). */
  SILVER_BUCKET: bucket.optional(),
  /** Set: every S3 request names the account that must own the bucket (S3 answers 403 otherwise). */
  EXPECTED_BUCKET_OWNER: z
    .string()
    .regex(/^\d{12}$/, 'not a 12-digit AWS account id')
    .optional(),
  /** Default of `--layer`: `auto` reads silver for compacted hours and raw for the rest. */
  QUERY_LAYER: z.enum(LAYERS).default('auto'),
  RAW_PREFIX: z
    .string()
    .regex(/^([^/].*\/)?$/, 'empty or ending in "/"')
    .superRefine((prefix, ctx) => {
      const reason = unsafePrefixReason(prefix);
      if (reason) ctx.addIssue({ code: 'custom', message: `can never name a safe object key (${reason})` });
    })
    .default('raw/'),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false'),
  ATHENA_WORKGROUP: z.string().min(1).default('btc-etl'),
  ATHENA_DATABASE: identifier.default('btc_etl'),
  ATHENA_OUTPUT_LOCATION: z
    .string()
    .regex(/^s3:\/\/[^/]+\/.*$/, 'expected s3://bucket/prefix/')
    .optional(),
  ATHENA_RAW_TABLE: identifier.default('raw_ticks'),
  ATHENA_BACKUP_TABLE: identifier.default('backup_ticks'),
  ATHENA_SILVER_TABLE: identifier.default('silver_ticks'),
  /** How late a record may arrive after its own time and still be found (see arrival-window.ts). */
  QUERY_LATE_SLACK_S: seconds(7 * 86_400).default(600),
  /** The delivery stream's buffering interval (Firehose IntervalInSeconds). */
  QUERY_BUFFER_S: seconds(3600).default(300),
  QUERY_CLOCK_SKEW_S: seconds(3600).default(60),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  DASHBOARD_REFRESH_S: z.coerce.number().int().min(1).max(3600).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type QueryEnv = z.infer<typeof EnvSchema>;

/** The name of every environment variable the app reads (help text and README list them all). */
export const QUERY_ENV_VARIABLES = Object.keys(EnvSchema.shape) as readonly (keyof QueryEnv)[];

export interface QueryConfig extends QueryEnv {
  /** Absolute. */
  DATA_DIR: string;
  RAW_BUCKET: string;
  BACKUP_BUCKET: string;
  SILVER_BUCKET: string;
  slack: ArrivalSlack;
}

/**
 * Read and validate the environment once. An empty variable counts as unset. With OBJECT_STORE=s3 the three bucket
 * names are required; the local store falls back to {@link LOCAL_BUCKET_DEFAULTS}.
 * @throws QueryConfigError naming every bad or missing variable
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): QueryConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  const issues: QueryInputIssue[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const field = String(issue.path[0] ?? '(environment)');
        return { field, value: present[field], reason: issue.message };
      });
  if (present.OBJECT_STORE === 's3') {
    for (const field of BUCKET_VARIABLES) {
      if (present[field] === undefined)
        issues.push({
          field,
          value: undefined,
          reason: 'is required with OBJECT_STORE=s3 (no default bucket name is guessed against S3)',
        });
    }
  }
  if (!parsed.success || issues.length > 0) throw new QueryConfigError(issues);
  const c = parsed.data;
  return {
    ...c,
    DATA_DIR: resolve(c.DATA_DIR),
    RAW_BUCKET: c.RAW_BUCKET ?? LOCAL_BUCKET_DEFAULTS.RAW_BUCKET,
    BACKUP_BUCKET: c.BACKUP_BUCKET ?? LOCAL_BUCKET_DEFAULTS.BACKUP_BUCKET,
    SILVER_BUCKET: c.SILVER_BUCKET ?? LOCAL_BUCKET_DEFAULTS.SILVER_BUCKET,
    slack: { lateS: c.QUERY_LATE_SLACK_S, bufferS: c.QUERY_BUFFER_S, skewS: c.QUERY_CLOCK_SKEW_S },
  };
}

/** The ObjectStore adapter the config names: the local directory, or S3 with the bucket owner check when set. */
export function objectStoreConfig(config: QueryConfig): ObjectStoreConfig {
  if (config.OBJECT_STORE === 'local') return { kind: 'local', root: config.DATA_DIR };
  return {
    kind: 's3',
    forcePathStyle: config.S3_FORCE_PATH_STYLE === 'true',
    ...(config.EXPECTED_BUCKET_OWNER ? { expectedBucketOwner: config.EXPECTED_BUCKET_OWNER } : {}),
  };
}
