import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { LAYERS, type LayerName } from '../engines/layer';
import { QueryInputError } from '../query.errors';
import { QUERIES, QUERY_NAMES, isQueryName, type QueryName } from '../queries/query.registry';
import { FORMATS, type OutputFormat } from './output.format';

export const ENGINES = ['local', 'athena'] as const;
export type EngineName = (typeof ENGINES)[number];

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'serve' }
  | { kind: 'named-queries'; out?: string }
  | {
      kind: 'query';
      query: QueryName;
      params: unknown;
      engine: EngineName;
      format: OutputFormat;
      out?: string;
      lateSlackS?: number;
      layer?: LayerName;
    };

export const USAGE = `usage: node dist/apps/query/main.js <command> [flags]
  (or: npx nx run query:cli -- <command> [flags])

commands:
  ohlc          candles: --product BTC-USD --interval 1m|5m|15m|1h|1d --from ISO --to ISO
  latest        last price per product: [--product P] [--from] [--to] [--now]
  gaps          runs of due seconds without an ok record (missed with reason, or no_record): --product --from --to
  completeness  per hour: expected, ok, missed, missing seconds: --product --from --to
  freshness     now minus the newest ingest_time per product in raw and backup: [--product] [--from] [--to] [--now]
  summary       per day min, max, mean, stddev, open, close, return: --product --from --to
  serve         the dashboard (HOST, PORT)
  named-queries the Athena named queries as JSON [--out file]

flags:
  --engine local|athena   (default local: reads DATA_DIR/<bucket>/ or S3 with OBJECT_STORE=s3)
  --format table|csv|json (default table)    --out FILE (default stdout)
  --late-slack SECONDS    how late records may arrive and still count (default QUERY_LATE_SLACK_S, 600)
  --layer auto|raw|silver (default QUERY_LAYER, auto: silver for compacted hours, raw for the rest)
  times are ISO-8601 UTC on whole seconds; ranges are [from, to); --to defaults to now

environment: DATA_DIR (./data) RAW_BUCKET (btc-etl-raw) BACKUP_BUCKET (btc-etl-backup) SILVER_BUCKET (btc-etl-silver)
  OBJECT_STORE (local|s3) ATHENA_WORKGROUP ATHENA_DATABASE ATHENA_OUTPUT_LOCATION ATHENA_RAW_TABLE
  ATHENA_BACKUP_TABLE ATHENA_SILVER_TABLE QUERY_LAYER QUERY_LATE_SLACK_S QUERY_BUFFER_S QUERY_CLOCK_SKEW_S HOST PORT
`;

/** How far back `--from` goes when it is not given. */
const DEFAULT_SPAN_S: Record<QueryName, number> = {
  latest: 86_400,
  freshness: 86_400,
  ohlc: 3600,
  gaps: 3600,
  completeness: 86_400,
  summary: 7 * 86_400,
};

const FLAGS = {
  product: { type: 'string' },
  interval: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  now: { type: 'string' },
  engine: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  'late-slack': { type: 'string' },
  layer: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Which flags each query takes (others are refused rather than silently ignored). */
const QUERY_FLAGS: Record<QueryName, readonly string[]> = {
  ohlc: ['product', 'interval', 'from', 'to'],
  latest: ['product', 'from', 'to', 'now'],
  gaps: ['product', 'from', 'to'],
  completeness: ['product', 'from', 'to'],
  freshness: ['product', 'from', 'to', 'now'],
  summary: ['product', 'from', 'to'],
};
const COMMON = ['engine', 'format', 'out', 'late-slack', 'layer', 'help'];

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value))
    throw new QueryInputError(flag, value, `expected one of ${allowed.join(', ')}`);
  return value as T;
}

function zodToInput(error: z.ZodError): QueryInputError {
  const issue = error.issues[0];
  const field = issue?.path[0];
  return new QueryInputError(
    field === undefined ? '(arguments)' : `--${String(field)}`,
    undefined,
    issue?.message ?? 'invalid',
  );
}

/**
 * Parse and validate the command line. `nowMs` is injected so defaults (`--to` = now) are testable.
 * @throws QueryInputError for anything the user should fix (the CLI exits 2)
 */
export function parseCli(argv: readonly string[], nowMs: number = Date.now()): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new QueryInputError('(arguments)', undefined, (error as Error).message, { cause: error });
  }
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  if (values.help || command === undefined || command === 'help') return { kind: 'help' };
  if (extra.length > 0) throw new QueryInputError('(arguments)', extra.join(' '), 'unexpected extra arguments');
  if (command === 'serve') return { kind: 'serve' };
  if (command === 'named-queries') return { kind: 'named-queries', ...(values.out ? { out: values.out } : {}) };
  if (!isQueryName(command)) {
    throw new QueryInputError(
      'command',
      command,
      `expected one of ${[...QUERY_NAMES, 'serve', 'named-queries'].join(', ')}`,
    );
  }
  const allowed = new Set([...QUERY_FLAGS[command], ...COMMON]);
  for (const [flag, value] of Object.entries(values)) {
    if (value !== undefined && !allowed.has(flag))
      throw new QueryInputError(`--${flag}`, value, `not a flag of ${command}`);
  }
  const nowSec = Math.floor(nowMs / 1000);
  const to = values.to ?? new Date(nowSec * 1000).toISOString();
  let from = values.from;
  if (from === undefined) {
    const toMs = Date.parse(to);
    if (Number.isNaN(toMs))
      throw new QueryInputError('--to', to, 'expected an ISO-8601 UTC time such as 2026-11-27T00:00:00Z');
    from = new Date(toMs - DEFAULT_SPAN_S[command] * 1000).toISOString();
  }
  const raw: Record<string, unknown> = { from, to };
  if (values.product !== undefined) raw.product = values.product;
  if (values.interval !== undefined) raw.interval = values.interval;
  if (command === 'latest' || command === 'freshness') raw.now = values.now ?? new Date(nowSec * 1000).toISOString();
  const result = QUERIES[command].params.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    // a missing required flag reads better as "required" than as zod's type message
    if (issue && issue.code === 'invalid_type' && raw[String(issue.path[0])] === undefined) {
      throw new QueryInputError(`--${String(issue.path[0])}`, undefined, 'is required');
    }
    throw zodToInput(result.error);
  }
  let lateSlackS: number | undefined;
  if (values['late-slack'] !== undefined) {
    lateSlackS = Number(values['late-slack']);
    if (!Number.isInteger(lateSlackS) || lateSlackS < 0 || lateSlackS > 7 * 86_400) {
      throw new QueryInputError('--late-slack', values['late-slack'], 'expected whole seconds between 0 and 604800');
    }
  }
  return {
    kind: 'query',
    query: command,
    params: result.data,
    engine: oneOf('--engine', values.engine, ENGINES, 'local'),
    format: oneOf('--format', values.format, FORMATS, 'table'),
    ...(values.out ? { out: values.out } : {}),
    ...(lateSlackS !== undefined ? { lateSlackS } : {}),
    ...(values.layer !== undefined ? { layer: oneOf('--layer', values.layer, LAYERS, 'auto') } : {}),
  };
}
