import type { PriceTick } from '@btc-etl/price-schema';
import { retry } from '@btc-etl/resilience';
import { CoinbaseError, CoinbaseParseError } from './coinbase.errors';
import { abortError, type CoinbaseGet } from './coinbase.http';
import { candleToPriceTick, type CandleGranularity } from './coinbase.mapper';
import { mapBody, parseBody } from './coinbase-response.parser';
import { retryDelayMs, type RetryPolicy } from './retry.policy';
import type { TokenBucket } from './token-bucket.limiter';

/** One page of candles to fetch: `[firstSec, lastSec]` on bucket starts, at most 300 buckets. */
export interface CandlePageRequest {
  exchange: URL;
  productId: string;
  granularity: CandleGranularity;
  firstSec: number;
  lastSec: number;
  /** Time budget of each attempt. */
  budgetMs: number;
  /** Tokens to leave in the bucket for the polls. */
  headroom: number;
  backfilled?: boolean;
  signal?: AbortSignal;
}

/** What fetching a page needs from its client. */
export interface CandlePageDeps {
  get: CoinbaseGet;
  limiterOf(url: URL): TokenBucket;
  retry: RetryPolicy;
}

/**
 * Fetch one page of candles as price records. Each attempt waits for a rate-limiter token (leaving `headroom`), and a
 * transient failure is retried with the client's policy (jittered backoff, Retry-After honoured). An abort ends it
 * with the client's abort error (a timeout when the signal's reason says so).
 */
export async function fetchCandlePage(deps: CandlePageDeps, page: CandlePageRequest): Promise<PriceTick[]> {
  const url = new URL(`/products/${page.productId}/candles`, page.exchange);
  url.searchParams.set('granularity', String(page.granularity));
  url.searchParams.set('start', new Date(page.firstSec * 1000).toISOString());
  url.searchParams.set('end', new Date(page.lastSec * 1000).toISOString());
  const href = url.toString();
  const limiter = deps.limiterOf(url);
  const { signal, budgetMs } = page;
  const attempt = async (): Promise<PriceTick[]> => {
    try {
      await limiter.take({ signal, headroom: Math.min(page.headroom, limiter.burst - 1) });
    } catch (error) {
      throw abortError(signal, href, budgetMs, error);
    }
    const { body, receivedAt } = await deps.get(url, budgetMs, signal);
    return mapCandlePage(href, body, receivedAt, page);
  };
  try {
    return await retry(attempt, { delayMs: (n, error) => retryDelayMs(n, error, deps.retry), signal });
  } catch (error) {
    // the loop's own abort (before an attempt or during a wait) carries only the signal's reason
    if (signal?.aborted && !(error instanceof CoinbaseError)) throw abortError(signal, href, budgetMs, error);
    throw error;
  }
}

/** A page body as records; a bad candle is named by its row index, so one bad row in 300 can be found. */
function mapCandlePage(href: string, body: string, receivedAt: Date, page: CandlePageRequest): PriceTick[] {
  const raw = parseBody(body, href, true);
  if (!Array.isArray(raw)) {
    throw new CoinbaseParseError({ url: href, body, issues: [{ path: '', message: 'expected an array of candles' }] });
  }
  return mapBody(href, body, () =>
    raw.map((row, i) => {
      try {
        return candleToPriceTick(row, {
          productId: page.productId,
          granularity: page.granularity,
          receivedAt,
          backfilled: page.backfilled,
        });
      } catch (error) {
        if (!(error instanceof CoinbaseParseError)) throw error;
        throw new CoinbaseParseError({
          url: href,
          body,
          issues: error.issues.map((x) => ({ ...x, path: `${i}${x.path ? `.${x.path}` : ''}` })),
        });
      }
    }),
  );
}
