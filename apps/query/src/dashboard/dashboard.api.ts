import { ProductId } from '@btc-etl/price-schema';
import { z } from 'zod';
import { QueryInputError } from '../query.errors';
import { INTERVALS, IntervalSchema } from '../queries/query.params';
import type { Candle } from '../queries/ohlc.query';
import type { CompletenessRow, GapRow } from '../queries/gaps.query';
import type { LatestRow } from '../queries/latest.query';
import type { FreshnessRow } from '../queries/freshness.query';
import { QUERIES, type QueryName } from '../queries/query.registry';
import type { ResultRow } from '../queries/query.types';

/** How much history each interval shows (about 150-200 candles). */
export const WINDOW_S: Record<keyof typeof INTERVALS, number> = {
  '1m': 3 * 3600,
  '5m': 12 * 3600,
  '15m': 2 * 86_400,
  '1h': 7 * 86_400,
  '1d': 120 * 86_400,
};
/** The completeness strip and gaps cover at most the last day (one byte per second is kept). */
const GAPS_WINDOW_S = 86_400;

export const DashboardRequest = z.object({
  product: ProductId.default('BTC-USD'),
  interval: IntervalSchema.default('1m'),
});

export interface DashboardData {
  product: string;
  interval: string;
  from: string;
  to: string;
  now: string;
  candles: Candle[];
  latest: LatestRow | null;
  completeness: CompletenessRow[];
  /** The newest 50 gaps of the completeness window. */
  gaps: GapRow[];
  /** All gaps and their seconds in that window. */
  gapCount: number;
  gapSeconds: number;
  freshness: FreshnessRow[];
  /** Records skipped as bad in this refresh (all queries). */
  badRecords: number;
  elapsedMs: number;
}

export type RunNamed = (name: QueryName, params: unknown) => Promise<{ rows: ResultRow[]; badRecords: number }>;

/** Parse the dashboard's query string; bad values become a QueryInputError naming the parameter. */
export function parseDashboardRequest(search: URLSearchParams): z.infer<typeof DashboardRequest> {
  const raw = Object.fromEntries([...search.entries()].filter(([k]) => k === 'product' || k === 'interval'));
  const result = DashboardRequest.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = String(issue?.path[0] ?? 'query');
    throw new QueryInputError(field, raw[field], issue?.message ?? 'invalid');
  }
  return result.data;
}

/**
 * Everything the page shows in one response, from the same query definitions the CLI runs. The range ends at the
 * current minute's end so the forming candle is included.
 */
export async function dashboardData(
  request: z.infer<typeof DashboardRequest>,
  nowMs: number,
  run: RunNamed,
): Promise<DashboardData> {
  const started = performance.now();
  const nowSec = Math.floor(nowMs / 1000);
  const width = INTERVALS[request.interval];
  const to = nowSec - (nowSec % 60) + 60;
  const from = to - WINDOW_S[request.interval];
  const alignedFrom = from - (((from % width) + width) % width);
  const iso = (s: number) => new Date(s * 1000).toISOString();
  const gapsFrom = Math.max(alignedFrom, to - GAPS_WINDOW_S);
  const product = request.product;
  const [candles, latest, completeness, gaps, freshness] = await Promise.all([
    run(
      'ohlc',
      QUERIES.ohlc.params.parse({ product, interval: request.interval, from: iso(alignedFrom), to: iso(to) }),
    ),
    run('latest', QUERIES.latest.params.parse({ product, from: iso(to - 86_400), to: iso(to), now: iso(nowSec) })),
    run(
      'completeness',
      QUERIES.completeness.params.parse({ product, from: iso(gapsFrom - (gapsFrom % 3600)), to: iso(to) }),
    ),
    run('gaps', QUERIES.gaps.params.parse({ product, from: iso(gapsFrom - (gapsFrom % 3600)), to: iso(to) })),
    run(
      'freshness',
      QUERIES.freshness.params.parse({ product, from: iso(to - 86_400), to: iso(to), now: iso(nowSec) }),
    ),
  ]);
  const settled = (gaps.rows as GapRow[]).filter((g) => Date.parse(g.start) < nowMs - 5_000);
  return {
    product,
    interval: request.interval,
    from: iso(alignedFrom),
    to: iso(to),
    now: iso(nowSec),
    candles: candles.rows as Candle[],
    latest: (latest.rows[0] as LatestRow | undefined) ?? null,
    completeness: completeness.rows as CompletenessRow[],
    // the newest gaps first; the last few seconds may still be on their way, so they are not gaps yet
    gaps: settled.slice().reverse().slice(0, 50),
    gapCount: settled.length,
    gapSeconds: settled.reduce((n, g) => n + g.seconds, 0),
    freshness: freshness.rows as FreshnessRow[],
    badRecords:
      candles.badRecords + latest.badRecords + completeness.badRecords + gaps.badRecords + freshness.badRecords,
    elapsedMs: Math.round(performance.now() - started),
  };
}
