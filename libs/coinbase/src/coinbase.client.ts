import { ProductId, type PriceTick } from '@btc-etl/price-schema';
import { fetchCandlePage } from './candle-page.fetcher';
import { candlePages, mergeCandleTicks } from './candle-pages';
import { CoinbaseArgumentError, CoinbaseRateLimitedError } from './coinbase.errors';
import { createCoinbaseGet } from './coinbase.http';
import {
  CANDLE_GRANULARITIES,
  exchangeTickerToPriceTick,
  spotToPriceTick,
  type CandleGranularity,
} from './coinbase.mapper';
import { mapBody, parseBody } from './coinbase-response.parser';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.policy';
import { HostRateLimiters, TokenBucket, sharedHostRateLimiters } from './token-bucket.limiter';

export const DEFAULT_COINBASE_EXCHANGE_URL = 'https://api.exchange.coinbase.com';
export const DEFAULT_COINBASE_API_URL = 'https://api.coinbase.com';
export const DEFAULT_COINBASE_TIMEOUT_MS = 10_000;
/** Tokens a candle backfill leaves in the bucket for the polls (see `TakeOptions.headroom`). */
export const DEFAULT_CANDLE_HEADROOM = 5;

export interface CoinbaseClientOptions {
  /** Exchange REST base URL (`COINBASE_EXCHANGE_URL`), default https://api.exchange.coinbase.com. */
  exchangeUrl?: string;
  /** Coinbase API base URL for v2 prices (`COINBASE_API_URL`), default https://api.coinbase.com. */
  apiUrl?: string;
  /** Per-request timeout (default 10 s); a call's own `timeoutMs` or `deadline` can only shorten it. */
  timeoutMs?: number;
  /**
   * Rate limiting: one bucket for every host, or per-host buckets (default: the process-wide
   * `sharedHostRateLimiters`, 10 req/s burst 15 per host, shared by every client that is not given its own).
   */
  rateLimiter?: TokenBucket | HostRateLimiters;
  /** Sent as User-Agent. */
  userAgent?: string;
  /** Retry policy of candle requests (merged over DEFAULT_RETRY_POLICY). */
  retry?: Partial<RetryPolicy>;
}

/** Options of one poll (ticker or spot): never retried, never queued behind the rate limiter. */
export interface PollOptions {
  /** Aborts the request; an abort whose reason is a `TimeoutError` (e.g. `AbortSignal.timeout`) counts as a timeout. */
  signal?: AbortSignal;
  /** Shorter timeout for this call. */
  timeoutMs?: number;
  /** The poll's own deadline (epoch ms or Date): the request gets at most the time left until then. */
  deadline?: number | Date;
  /** The second the poll was due (the record's identity); default: the start of the call, floored to the second. */
  scheduledTime?: string | Date;
}

export interface CandleOptions {
  granularity: CandleGranularity;
  /** Range start (inclusive, on bucket starts). */
  start: Date | string | number;
  /** Range end (exclusive, on bucket starts). */
  end: Date | string | number;
  signal?: AbortSignal;
  /** Timeout of each page request. */
  timeoutMs?: number;
  /** Tokens left for polls while waiting for the limiter (default 5, 0 to compete equally). */
  headroom?: number;
  /** Set the records' `backfilled` flag. */
  backfilled?: boolean;
}

/** The Coinbase REST client: each method returns validated price records or throws a typed {@link CoinbaseError}. */
export interface CoinbaseClient {
  readonly exchangeUrl: string;
  readonly apiUrl: string;
  /**
   * Exchange ticker as an `ok` record. One attempt, bounded by the deadline/signal/timeout. Throws
   * CoinbaseRateLimitedError without sending anything when the host's bucket is empty.
   */
  getExchangeTicker(productId: string, options?: PollOptions): Promise<PriceTick>;
  /** v2 spot price as an `ok` record; same rules as the ticker. */
  getSpotPrice(productId: string, options?: PollOptions): Promise<PriceTick>;
  /**
   * Candles of `[start, end)` as records, oldest first, one per bucket (minutes without trades have none). Ranges
   * over 300 buckets are fetched page by page; each page waits for the rate limiter and is retried with capped,
   * jittered backoff honouring Retry-After.
   */
  getCandles(productId: string, options: CandleOptions): Promise<PriceTick[]>;
  /** The bucket used for a host: check at start-up that the planned poll rate fits (`TokenBucket.sustains`). */
  limiterFor(api: 'exchange' | 'api'): TokenBucket;
}

function baseUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CoinbaseArgumentError(name, `not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CoinbaseArgumentError(name, `expected http(s), got ${url.protocol}`);
  return url;
}

const toMs = (value: Date | string | number, name: string): number => {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new CoinbaseArgumentError(name, `not a valid time: ${String(value)}`);
  return ms;
};

/**
 * Create a Coinbase REST client on got, with no retries of its own (got's are off: retries are decided here).
 * @example
 * const client = createCoinbaseClient({ exchangeUrl: env.COINBASE_EXCHANGE_URL, userAgent: 'btc-etl-extractor/1.0' });
 * const tick = await client.getExchangeTicker('BTC-USD', { scheduledTime: due, deadline: due.getTime() + 1000 });
 */
export function createCoinbaseClient(options: CoinbaseClientOptions = {}): CoinbaseClient {
  const exchange = baseUrl('exchangeUrl', options.exchangeUrl ?? DEFAULT_COINBASE_EXCHANGE_URL);
  const api = baseUrl('apiUrl', options.apiUrl ?? DEFAULT_COINBASE_API_URL);
  const timeoutMs = options.timeoutMs ?? DEFAULT_COINBASE_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new CoinbaseArgumentError('timeoutMs', `must be > 0, got ${timeoutMs}`);
  const limiters = options.rateLimiter ?? sharedHostRateLimiters;
  const limiterOf = (url: URL): TokenBucket =>
    limiters instanceof TokenBucket ? limiters : limiters.forHost(url.host);
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };

  const get = createCoinbaseGet(options.userAgent ?? 'bitcoin-stream-etl');

  const checkProduct = (productId: string) => {
    if (!ProductId.safeParse(productId).success) {
      throw new CoinbaseArgumentError(
        'productId',
        `expected a Coinbase product id such as "BTC-USD", got ${JSON.stringify(productId)}`,
      );
    }
  };

  const poll = async (
    base: URL,
    path: string,
    productId: string,
    opts: PollOptions,
    map: (raw: unknown, ctx: { productId: string; scheduledTime: string | Date; receivedAt: Date }) => PriceTick,
  ): Promise<PriceTick> => {
    checkProduct(productId);
    const startedAt = Date.now();
    const scheduledTime = opts.scheduledTime ?? new Date(Math.floor(startedAt / 1000) * 1000);
    const url = new URL(path, base);
    const callTimeout = Math.min(timeoutMs, opts.timeoutMs ?? timeoutMs);
    const deadline = opts.deadline === undefined ? undefined : toMs(opts.deadline, 'deadline');
    const budget = deadline === undefined ? callTimeout : Math.min(callTimeout, deadline - startedAt);
    const limiter = limiterOf(url);
    if (budget > 0 && !opts.signal?.aborted && !limiter.tryTake()) {
      throw new CoinbaseRateLimitedError({
        url: url.toString(),
        host: url.host,
        ratePerSecond: limiter.ratePerSecond,
        burst: limiter.burst,
      });
    }
    const { body, receivedAt } = await get(url, budget, opts.signal);
    const raw = parseBody(body, url.toString());
    return mapBody(url.toString(), body, () => map(raw, { productId, scheduledTime, receivedAt }));
  };

  return {
    exchangeUrl: exchange.toString(),
    apiUrl: api.toString(),
    getExchangeTicker: (productId, opts = {}) =>
      poll(exchange, `/products/${productId}/ticker`, productId, opts, exchangeTickerToPriceTick),
    getSpotPrice: (productId, opts = {}) => poll(api, `/v2/prices/${productId}/spot`, productId, opts, spotToPriceTick),
    async getCandles(productId, opts) {
      checkProduct(productId);
      if (!(CANDLE_GRANULARITIES as readonly number[]).includes(opts.granularity)) {
        throw new CoinbaseArgumentError(
          'granularity',
          `must be one of ${CANDLE_GRANULARITIES.join(', ')}, got ${String(opts.granularity)}`,
        );
      }
      const startMs = toMs(opts.start, 'start');
      const endMs = toMs(opts.end, 'end');
      if (endMs < startMs)
        throw new CoinbaseArgumentError(
          'end',
          `${new Date(endMs).toISOString()} is before start ${new Date(startMs).toISOString()}`,
        );
      const pages: PriceTick[][] = [];
      // sequential on purpose: pages share the host's bucket with the polls
      for (const page of candlePages(startMs, endMs, opts.granularity)) {
        pages.push(
          await fetchCandlePage(
            { get, limiterOf, retry },
            {
              exchange,
              productId,
              granularity: opts.granularity,
              firstSec: page.firstSec,
              lastSec: page.lastSec,
              budgetMs: Math.min(timeoutMs, opts.timeoutMs ?? timeoutMs),
              headroom: opts.headroom ?? DEFAULT_CANDLE_HEADROOM,
              backfilled: opts.backfilled,
              signal: opts.signal,
            },
          ),
        );
      }
      return mergeCandleTicks(pages, startMs, endMs);
    },
    limiterFor: (which) => limiterOf(which === 'exchange' ? exchange : api),
  };
}
