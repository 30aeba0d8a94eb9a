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

  it.each([
    ['HTTP 429', http(429), true],
    ['HTTP 503', http(503), true],
    ['a timeout', new CoinbaseTimeoutError({ url: 'u', timeoutMs: 1 }), true],
    ['a reset', new CoinbaseNetworkError({ url: 'u', code: 'ECONNRESET' }), true],
    ['a body cut short', new CoinbaseParseError({ url: 'u', body: '{', issues: [] }), true],
    ['HTTP 400', http(400), false],
    ['a bad argument', new CoinbaseArgumentError('granularity', 'bad'), false],
    ['a foreign error', new Error('bug'), false],
  ])('retries %s: %s', (_what, error, retryable) => {
    expect(isRetryable(error)).toBe(retryable);
  });

  it('full jitter under a doubling, capped ceiling', () => {
    const top = { ...policy, random: () => 0.999999 };
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, http(503), top))).toEqual([99, 199, 399, 799, 999]);
    expect(retryDelayMs(3, http(503), { ...policy, random: () => 0 })).toBe(0);
  });

  it.each([
    ['a Retry-After above the jitter is the wait', 1, http(429, 2_000), 0.5, 2_000],
    ['a Retry-After below the jitter never undercuts it', 5, http(429, 10), 0.5, 500],
    ['a Retry-After over maxRetryAfterMs gives up', 1, http(429, 600_000), 0.5, null],
    ['the last attempt gives up', 6, http(503), 0.5, null],
    ['a final error (404) gives up', 1, http(404), 0.5, null],
  ])('%s', (_what, attempt, error, random, expected) => {
    expect(retryDelayMs(attempt, error, { ...policy, random: () => random })).toBe(expected);
  });
});
