import { DEFAULT_SLACK } from '../engines/arrival-window';
import { athenaStatement } from '../engines/athena.engine';
import { QUERIES, QUERY_NAMES } from './query.registry';
import type { QueryDefinition, ResultRow } from './query.types';

/** One Athena saved query: what infra deploys as an `AWS::Athena::NamedQuery`. */
export interface AthenaNamedQuery {
  name: string;
  description: string;
  /** With `?` placeholders, run with ExecutionParameters in the order the description lists. */
  sql: string;
}

/** Default table names the SQL reads (infra's Glue table over raw/, and the same layout over the backup bucket). */
export const ATHENA_TABLES = { raw: 'raw_ticks', backup: 'backup_ticks' } as const;

// Example parameters: they only show the order and form of ExecutionParameters; the SQL text never depends on them.
const EXAMPLES: Record<(typeof QUERY_NAMES)[number], Record<string, unknown>> = {
  latest: { from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z', now: '2026-11-27T01:00:00Z' },
  ohlc: { product: 'BTC-USD', interval: '1m', from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z' },
  gaps: { product: 'BTC-USD', from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z' },
  completeness: { product: 'BTC-USD', from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z' },
  freshness: { from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z', now: '2026-11-27T01:00:00Z' },
  summary: { product: 'BTC-USD', from: '2026-11-27T00:00:00Z', to: '2026-11-28T00:00:00Z' },
};

/**
 * The query definitions as Athena named queries, over the default tables: plain `{ name, description, sql }`
 * data. The build writes it to dist/apps/query/named-queries.json, which infra's QueryStack deploys.
 */
export const ATHENA_NAMED_QUERIES: readonly AthenaNamedQuery[] = QUERY_NAMES.map((name) => {
  const definition = QUERIES[name] as unknown as QueryDefinition<unknown, ResultRow>;
  const params = definition.params.parse(EXAMPLES[name]);
  const statement = athenaStatement(definition, params, {
    rawTable: ATHENA_TABLES.raw,
    backupTable: ATHENA_TABLES.backup,
    slack: DEFAULT_SLACK,
  });
  return {
    name: `btc-etl-${name}`,
    description: `${definition.description}. ExecutionParameters, e.g.: ${statement.parameters.join(', ')}`.slice(
      0,
      1024,
    ),
    sql: statement.sql,
  };
});
