import { describe, expect, it } from 'vitest';
import {
  CoinbaseArgumentError,
  CoinbaseHttpError,
  CoinbaseNetworkError,
  CoinbaseParseError,
  CoinbaseTimeoutError,
} from './coinbase.errors';
import { DEFAULT_RETRY_POLICY, isRetryable, parseRetryAfter, retryDelayMs } from './retry.policy';

const http = (status: number, retryAfterMs: number | null = null) =>
  new CoinbaseHttpError({ status, url: 'http://x/products/BTC-USD/candles', retryAfterMs, body: '{}' });

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-27T19:53:15Z');
  it.each([
    ['2', 2000],
    [' 0 ', 0],
    ['1.5', 1500],
    ['Fri, 27 Nov 2026 19:53:20 GMT', 5000],
    ['Fri, 27 Nov 2026 19:53:00 GMT', 0],
    ['soon', null],
    ['-1', null],
    ['', null],
    [undefined, null],
  ])('%j -> %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
  it('uses the first of repeated headers', () => {
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
  });
});

describe('retry policy', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 6 };

  it('retries 429, 5xx, timeouts, network and parse errors; not 4xx or argument errors', () => {
    expect(isRetryable(http(429))).toBe(true);
    expect(isRetryable(http(503))).toBe(true);
    expect(isRetryable(new CoinbaseTimeoutError({ url: 'u', timeoutMs: 1 }))).toBe(true);
    expect(isRetryable(new CoinbaseNetworkError({ url: 'u', code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable(new CoinbaseParseError({ url: 'u', body: '{', issues: [] }))).toBe(true);
    expect(isRetryable(http(400))).toBe(false);
    expect(isRetryable(new CoinbaseArgumentError('granularity', 'bad'))).toBe(false);
    expect(isRetryable(new Error('bug'))).toBe(false);
  });

  it('full jitter under a doubling, capped ceiling', () => {
    const top = { ...policy, random: () => 0.999999 };
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, http(503), top))).toEqual([99, 199, 399, 799, 999]);
    expect(retryDelayMs(3, http(503), { ...policy, random: () => 0 })).toBe(0);
  });

  it('honours Retry-After as a floor and gives up on one too long', () => {
    expect(retryDelayMs(1, http(429, 2_000), { ...policy, random: () => 0.5 })).toBe(2_000);
    expect(retryDelayMs(5, http(429, 10), { ...policy, random: () => 0.5 })).toBe(500);
    expect(retryDelayMs(1, http(429, 600_000), policy)).toBeNull();
  });

  it('stops after maxAttempts and on final errors', () => {
    expect(retryDelayMs(6, http(503), policy)).toBeNull();
    expect(retryDelayMs(1, http(404), policy)).toBeNull();
  });
});
