import { GLUE_COLUMNS } from '@btc-etl/price-schema';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { InfraNamedQueriesError } from './infra.errors';

/** One saved Athena query, as the query app exports them (apps/query/src/queries/athena-named-queries.ts). */
export interface NamedQuery {
  name: string;
  description: string;
  sql: string;
}

// Athena's own limits on CreateNamedQuery, checked at synth time so a bad file fails before deploy.
const NamedQuerySchema = z.strictObject({
  name: z.string().min(1).max(128),
  description: z.string().min(1).max(1024),
  sql: z.string().min(1).max(262_144),
  /** The query app's layer (`auto` | `raw` | `silver`); `silver` ones are deployed by the CompactorStack, beside their table. */
  layer: z.string().optional(),
});
const NamedQueriesSchema = z
  .array(NamedQuerySchema)
  .min(1, 'expected at least one query')
  .refine((qs) => new Set(qs.map((q) => q.name)).size === qs.length, 'query names must be unique');

/** Where the named queries came from, so synth output and tests can say which set was deployed. */
export interface NamedQuerySet {
  source: 'query-app' | 'infra-default';
  path?: string;
  queries: NamedQuery[];
}

/**
 * The query app's named queries when its build wrote them to `path`, else infra's own defaults over `table`.
 * @throws InfraNamedQueriesError when the file exists but is not valid JSON of `{ name, description, sql }[]`
 */
export function loadNamedQueries(path: string, table: string): NamedQuerySet {
  if (!existsSync(path)) return { source: 'infra-default', queries: defaultNamedQueries(table) };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InfraNamedQueriesError(path, 'not JSON', { cause: error });
  }
  const parsed = NamedQueriesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InfraNamedQueriesError(path, `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const queries = parsed.data.filter((q) => q.layer !== 'silver').map(({ layer: _layer, ...q }) => q);
  return { source: 'query-app', path, queries };
}

/**
 * Queries over the raw table written from the schema's columns, used until the query app ships its own. Each one
 * bounds `datehour` so partition projection prunes to the hours it needs.
 */
export function defaultNamedQueries(table: string): NamedQuery[] {
  const columns = GLUE_COLUMNS.map((c) => `"${c.name}"`).join(', ');
  const t = `"${table}"`;
  const lastDay = `datehour >= date_format(current_timestamp - interval '1' day, '%Y/%m/%d/%H')`;
  return [
    {
      name: 'latest-ticks',
      description: 'The 100 newest price records of the last hour, deduplicated by record_id',
      sql: [
        `SELECT ${columns}`,
        `FROM (`,
        `  SELECT *, row_number() OVER (PARTITION BY record_id ORDER BY ingest_time) AS copy_no`,
        `  FROM ${t}`,
        `  WHERE datehour >= date_format(current_timestamp - interval '1' hour, '%Y/%m/%d/%H')`,
        `)`,
        `WHERE copy_no = 1`,
        `ORDER BY coalesce(exchange_time, scheduled_time) DESC`,
        `LIMIT 100`,
      ].join('\n'),
    },
    {
      name: 'missed-ticks-by-reason-24h',
      description: 'Missed ticks of the last 24 hours per product, hour and reason (gaps are data)',
      sql: [
        `SELECT product_id, datehour, reason, count(DISTINCT record_id) AS missed`,
        `FROM ${t}`,
        `WHERE ${lastDay} AND status = 'missed'`,
        `GROUP BY product_id, datehour, reason`,
        `ORDER BY datehour DESC, missed DESC`,
      ].join('\n'),
    },
    {
      name: 'hourly-ohlc-24h',
      description: 'Open, high, low and close per product and arrival hour over the last 24 hours (ok ticks only)',
      sql: [
        `SELECT product_id, datehour,`,
        `  min_by(price, coalesce(exchange_time, scheduled_time)) AS open,`,
        `  max(CAST(price AS decimal(38, 10))) AS high,`,
        `  min(CAST(price AS decimal(38, 10))) AS low,`,
        `  max_by(price, coalesce(exchange_time, scheduled_time)) AS close,`,
        `  count(DISTINCT record_id) AS ticks`,
        `FROM ${t}`,
        `WHERE ${lastDay} AND status = 'ok'`,
        `GROUP BY product_id, datehour`,
        `ORDER BY datehour DESC, product_id`,
      ].join('\n'),
    },
  ];
}
