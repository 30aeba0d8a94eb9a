import { DataError } from '@btc-etl/errors';
import { describe, expect, it } from 'vitest';
// Through the door: these are the errors callers catch.
import * as door from './index';

const url = 'http://127.0.0.1:1/products/BTC-USD/ticker';

describe('Coinbase errors', () => {
  it.each([
    [
      'CoinbaseHttpError',
      new door.CoinbaseHttpError({ status: 429, url, retryAfterMs: 2_000, body: '{"message":"slow down"}' }),
      { missReason: 'http_429', url, status: 429, retryAfterMs: 2_000, bodySnippet: '{"message":"slow down"}' },
    ],
    [
      'CoinbaseTimeoutError',
      new door.CoinbaseTimeoutError({ url, timeoutMs: 900 }),
      { missReason: 'timeout', url, timeoutMs: 900 },
    ],
    [
      'CoinbaseNetworkError',
      new door.CoinbaseNetworkError({ url, code: 'ECONNRESET' }),
      { missReason: 'network', url, code: 'ECONNRESET' },
    ],
    [
      'CoinbaseParseError',
      new door.CoinbaseParseError({ url, body: '<html>', issues: [{ path: '', message: 'HTML' }] }),
      { missReason: 'parse_error', url, bodySnippet: '<html>', issues: [{ path: '', message: 'HTML' }] },
    ],
    [
      'CoinbaseRateLimitedError',
      new door.CoinbaseRateLimitedError({ url, host: '127.0.0.1:1', ratePerSecond: 10, burst: 15 }),
      { missReason: 'rate_limited', url, host: '127.0.0.1:1', ratePerSecond: 10, burst: 15 },
    ],
    ['CoinbaseAbortedError', new door.CoinbaseAbortedError(url), { missReason: null, url }],
    [
      'CoinbaseArgumentError',
      new door.CoinbaseArgumentError('granularity', 'must be one of 60, 300'),
      { missReason: null, url: null, argument: 'granularity' },
    ],
  ])('%s is a DataError named after its class, its facts in data', (name, error, data) => {
    expect(error).toBeInstanceOf(door.CoinbaseError);
    expect(error).toBeInstanceOf(DataError);
    expect(error.name).toBe(name);
    expect(error.data).toEqual(data);
    expect(door.missReasonOf(error)).toBe(data.missReason);
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name, data });
  });

  it('keeps the typed fields a retry policy reads, and the cause', () => {
    const cause = new Error('socket hang up');
    const error = new door.CoinbaseHttpError({ status: 503, url, retryAfterMs: null, body: '' }, { cause });
    expect([error.status, error.retryAfterMs, error.missReason, error.cause]).toEqual([503, null, 'http_5xx', cause]);
  });
});
