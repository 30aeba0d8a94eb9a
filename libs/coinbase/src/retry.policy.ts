import { backoffMs } from '@btc-etl/resilience';
import { CoinbaseHttpError, CoinbaseNetworkError, CoinbaseParseError, CoinbaseTimeoutError } from './coinbase.errors';

/** Capped exponential backoff with full jitter, for requests that may be retried (candles, never the 1 s poll). */
export interface RetryPolicy {
  /** Attempts in all, the first included (default 5). */
  maxAttempts: number;
  /** Backoff ceiling of the first retry (default 500 ms); doubles per attempt. */
  baseDelayMs: number;
  /** Upper bound of any jittered backoff (default 30 s). */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the error is thrown (default 120 s). */
  maxRetryAfterMs: number;
  /** Source of randomness in [0, 1) (default `Math.random`); injectable for tests. */
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
  random: Math.random,
};

/**
 * `Retry-After` in ms: delta-seconds (`"2"`, `"1.5"`) or an HTTP date relative to `nowMs`. Null when absent or
 * unreadable; never negative.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number = Date.now()): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return null;
  return Math.max(0, date - nowMs);
}

/** Transient failures worth another attempt: 429, 5xx, timeouts, network errors and bodies cut short. 4xx are final. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof CoinbaseHttpError) return error.status === 429 || error.status >= 500;
  return (
    error instanceof CoinbaseTimeoutError ||
    error instanceof CoinbaseNetworkError ||
    error instanceof CoinbaseParseError
  );
}

/**
 * How long to wait before attempt `attempt + 1` after `error`, or null to give up. Full jitter:
 * `random() * min(maxDelay, base * 2^(attempt-1))`; a server's Retry-After is a floor (honoured, never undercut).
 */
export function retryDelayMs(
  attempt: number,
  error: unknown,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): number | null {
  if (attempt >= policy.maxAttempts || !isRetryable(error)) return null;
  const jittered = backoffMs(attempt - 1, {
    baseMs: policy.baseDelayMs,
    capMs: policy.maxDelayMs,
    random: policy.random,
  });
  const retryAfter = error instanceof CoinbaseHttpError ? error.retryAfterMs : null;
  if (retryAfter === null) return jittered;
  if (retryAfter > policy.maxRetryAfterMs) return null;
  return Math.max(retryAfter, jittered);
}
