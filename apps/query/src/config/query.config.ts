import { resolve } from 'node:path';
import { z } from 'zod';
import { unsafePrefixReason } from '@btc-etl/s3-keys';
import { QueryInputError } from '../query.errors';
import type { ArrivalSlack } from '../engines/arrival-window';
import { LAYERS } from '../engines/layer';

const bucket = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name');
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'letters, digits and _ only');
const seconds = (max: number) => z.coerce.number().int().min(0).max(max);

/** Every environment variable the query app reads, with its default. */
const EnvSchema = z.object({
  OBJECT_STORE: z.enum(['local', 's3']).default('local'),
  DATA_DIR: z.string().min(1).default('./data'),
  RAW_BUCKET: bucket.default('btc-etl-raw'),
  BACKUP_BUCKET: bucket.default('btc-etl-backup'),
  /** Where the compactor writes silver Parquet (`silver/ticks/...`) and its state (`_state/compactor/...`). */
  SILVER_BUCKET: bucket.default('btc-etl-silver'),
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

export interface QueryConfig extends QueryEnv {
  /** Absolute. */
  DATA_DIR: string;
  slack: ArrivalSlack;
}

/**
 * Read and validate the environment once. An empty variable counts as unset.
 * @throws QueryInputError naming the first bad variable
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): QueryConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? '(environment)');
    throw new QueryInputError(name, present[name], issue?.message ?? 'invalid');
  }
  const c = parsed.data;
  return {
    ...c,
    DATA_DIR: resolve(c.DATA_DIR),
    slack: { lateS: c.QUERY_LATE_SLACK_S, bufferS: c.QUERY_BUFFER_S, skewS: c.QUERY_CLOCK_SKEW_S },
  };
}
