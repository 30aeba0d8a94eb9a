import { freshnessQuery } from './freshness.query';
import { completenessQuery, gapsQuery } from './gaps.query';
import { latestQuery } from './latest.query';
import { ohlcQuery } from './ohlc.query';
import { summaryQuery } from './summary.query';

/** Every query by name: the CLI's commands, the dashboard's API and the Athena named queries come from here. */
export const QUERIES = {
  latest: latestQuery,
  ohlc: ohlcQuery,
  gaps: gapsQuery,
  completeness: completenessQuery,
  freshness: freshnessQuery,
  summary: summaryQuery,
} as const;

export type QueryName = keyof typeof QUERIES;
export const QUERY_NAMES = Object.keys(QUERIES) as QueryName[];

export function isQueryName(name: string): name is QueryName {
  return Object.hasOwn(QUERIES, name);
}
