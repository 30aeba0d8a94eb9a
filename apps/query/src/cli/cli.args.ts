import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { LOCAL_BUCKET_DEFAULTS } from '../config/query.config';
import { LAYERS, type LayerName } from '../engines/layer';
import { QueryInputError } from '../query.errors';
import { QUERIES, QUERY_NAMES, isQueryName, type QueryName } from '../queries/query.registry';
import type { QueryDefinition, QueryFlag, ResultRow } from '../queries/query.types';
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

const COMMANDS_WIDTH = 14;
const flagUsage = (f: QueryFlag) => (f.required ? `--${f.name} ${f.value}` : `[--${f.name} ${f.value}]`);
const exampleArgs = (example: Readonly<Record<string, string>>) =>
  Object.entries(example).map(([flag, value]) => `--${flag} ${value}`);
const definitions = () => QUERY_NAMES.map((name) => QUERIES[name] as QueryDefinition<unknown, ResultRow>);

/** `--help`: the query commands, their flags and examples come from the registry. */
export const USAGE = `usage: node dist/apps/query/main.js <command> [flags]
  (or: npx nx run query:cli -- <command> [flags])

commands:
${definitions()
  .map(
    (d) =>
      `  ${d.name.padEnd(COMMANDS_WIDTH)}${d.usage}\n  ${''.padEnd(COMMANDS_WIDTH)}${d.flags.map(flagUsage).join(' ')}`,
  )
  .join('\n')}
  ${'serve'.padEnd(COMMANDS_WIDTH)}the dashboard (HOST, PORT)
  ${'named-queries'.padEnd(COMMANDS_WIDTH)}the Athena named queries as JSON [--out file]

flags of every query:
  --engine local|athena   (default local: reads DATA_DIR/<bucket>/ or S3 with OBJECT_STORE=s3)
  --format table|csv|json (default table)    --out FILE (default stdout)
  --late-slack SECONDS    how late records may arrive and still count (default QUERY_LATE_SLACK_S, 600)
  --layer auto|raw|silver (default QUERY_LAYER, auto: silver for compacted hours, raw for the rest)
  times are ISO-8601 UTC on whole seconds; ranges are [from, to); --to and --now default to now, --from to a span
  before --to (${definitions()
    .map((d) => `${d.name} ${formatSpan(d.defaultSpanS)}`)
    .join(', ')})

examples:
${definitions()
  .map((d) => `  ${[d.name, ...exampleArgs(d.example)].join(' ')}`)
  .join('\n')}

environment:
  OBJECT_STORE (local|s3, default local)  DATA_DIR (./data, the local store's root)
  RAW_BUCKET BACKUP_BUCKET SILVER_BUCKET  required with OBJECT_STORE=s3 (no bucket name is guessed against S3);
    the local store defaults to ${Object.values(LOCAL_BUCKET_DEFAULTS).join(', ')}
  EXPECTED_BUCKET_OWNER (12-digit account id: every S3 request names it)  S3_FORCE_PATH_STYLE (false)
  ATHENA_WORKGROUP ATHENA_DATABASE ATHENA_OUTPUT_LOCATION ATHENA_RAW_TABLE ATHENA_BACKUP_TABLE ATHENA_SILVER_TABLE
  QUERY_LAYER QUERY_LATE_SLACK_S QUERY_BUFFER_S QUERY_CLOCK_SKEW_S RAW_PREFIX HOST PORT DASHBOARD_REFRESH_S LOG_LEVEL
`;

function formatSpan(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${seconds} s`;
}

const COMMON_FLAGS = {
  engine: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  'late-slack': { type: 'string' },
  layer: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Every flag any query takes, for parseArgs (strict): an unknown flag fails before the command is looked at. */
const QUERY_FLAG_OPTIONS: Record<string, { type: 'string' }> = Object.fromEntries(
  definitions().flatMap((d) => d.flags.map((f) => [f.name, { type: 'string' as const }])),
);
const OPTIONS = { ...QUERY_FLAG_OPTIONS, ...COMMON_FLAGS };

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
 * The parameter values of one query from its flags: given ones as they are, left-out ones by their flag's default
 * (`now`: the current whole second; `span`: `to` minus the query's default span), else left out for the schema.
 */
function queryFlagValues(
  definition: QueryDefinition<unknown, ResultRow>,
  flag: (name: string) => string | undefined,
  nowMs: number,
): Record<string, string> {
  const nowIso = new Date(Math.floor(nowMs / 1000) * 1000).toISOString();
  const raw: Record<string, string> = {};
  for (const spec of definition.flags) {
    const given = flag(spec.name);
    if (given !== undefined) raw[spec.name] = given;
    else if (spec.default === 'now') raw[spec.name] = nowIso;
  }
  for (const spec of definition.flags) {
    if (flag(spec.name) !== undefined || spec.default !== 'span') continue;
    const to = raw.to ?? nowIso;
    const toMs = Date.parse(to);
    if (Number.isNaN(toMs))
      throw new QueryInputError('--to', to, 'expected an ISO-8601 UTC time such as 2026-11-27T00:00:00Z');
    raw[spec.name] = new Date(toMs - definition.defaultSpanS * 1000).toISOString();
  }
  return raw;
}

/**
 * Parse and validate the command line. `nowMs` is injected so defaults (`--to` = now) are testable.
 * @throws QueryInputError for anything the user should fix (the CLI exits 2)
 */
export function parseCli(argv: readonly string[], nowMs: number = Date.now()): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new QueryInputError('(arguments)', undefined, (error as Error).message, { cause: error });
  }
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const flag = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const [command, ...extra] = positionals;
  const out = flag('out');
  if (values.help === true || command === undefined || command === 'help') return { kind: 'help' };
  if (extra.length > 0) throw new QueryInputError('(arguments)', extra.join(' '), 'unexpected extra arguments');
  if (command === 'serve') return { kind: 'serve' };
  if (command === 'named-queries') return { kind: 'named-queries', ...(out ? { out } : {}) };
  if (!isQueryName(command)) {
    throw new QueryInputError(
      'command',
      command,
      `expected one of ${[...QUERY_NAMES, 'serve', 'named-queries'].join(', ')}`,
    );
  }
  const definition = QUERIES[command] as QueryDefinition<unknown, ResultRow>;
  const allowed = new Set([...definition.flags.map((f) => f.name), ...Object.keys(COMMON_FLAGS)]);
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && !allowed.has(name))
      throw new QueryInputError(`--${name}`, value, `not a flag of ${command}`);
  }
  const raw = queryFlagValues(definition, flag, nowMs);
  const result = definition.params.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    // a missing required flag reads better as "required" than as zod's type message
    if (issue && issue.code === 'invalid_type' && raw[String(issue.path[0])] === undefined) {
      throw new QueryInputError(`--${String(issue.path[0])}`, undefined, 'is required');
    }
    throw zodToInput(result.error);
  }
  let lateSlackS: number | undefined;
  const lateSlack = flag('late-slack');
  if (lateSlack !== undefined) {
    lateSlackS = Number(lateSlack);
    if (!Number.isInteger(lateSlackS) || lateSlackS < 0 || lateSlackS > 7 * 86_400) {
      throw new QueryInputError('--late-slack', lateSlack, 'expected whole seconds between 0 and 604800');
    }
  }
  const layer = flag('layer');
  return {
    kind: 'query',
    query: command,
    params: result.data,
    engine: oneOf('--engine', flag('engine'), ENGINES, 'local'),
    format: oneOf('--format', flag('format'), FORMATS, 'table'),
    ...(out ? { out } : {}),
    ...(lateSlackS !== undefined ? { lateSlackS } : {}),
    ...(layer !== undefined ? { layer: oneOf('--layer', layer, LAYERS, 'auto') } : {}),
  };
}
