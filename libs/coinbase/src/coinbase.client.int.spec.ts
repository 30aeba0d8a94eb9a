import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PriceTickSchema } from '@btc-etl/price-schema';
import { catchError, startFakeCoinbase, type Fault, type FakeCoinbase } from '@btc-etl/testing';
import { createCoinbaseClient, type CoinbaseClientOptions } from './coinbase.client';
import {
  CoinbaseAbortedError,
  CoinbaseArgumentError,
  CoinbaseError,
  CoinbaseHttpError,
  CoinbaseNetworkError,
  CoinbaseParseError,
  CoinbaseRateLimitedError,
  CoinbaseTimeoutError,
  missReasonOf,
} from './coinbase.errors';
import { HostRateLimiters, TokenBucket } from './token-bucket.limiter';

let fake: FakeCoinbase;

const clientFor = (options: CoinbaseClientOptions = {}) =>
  createCoinbaseClient({
    exchangeUrl: fake.exchangeUrl,
    apiUrl: fake.apiUrl,
    timeoutMs: 2_000,
    userAgent: 'btc-etl-test/1.0',
    rateLimiter: new HostRateLimiters(),
    retry: { baseDelayMs: 5, maxDelayMs: 20, random: () => 0.5 },
    ...options,
  });

beforeAll(async () => {
  fake = await startFakeCoinbase({ seed: 11 });
});
afterEach(() => {
  fake.clearFaults();
  fake.clearRequests();
});
afterAll(async () => {
  await fake.stop();
});

describe('polls that succeed', () => {
  it('maps the Exchange ticker to a valid ok record with the price the fake served', async () => {
    const due = new Date(Math.floor(Date.now() / 1000) * 1000);
    const tick = await clientFor().getExchangeTicker('BTC-USD', {
      scheduledTime: due,
      deadline: due.getTime() + 5_000,
    });
    expect(PriceTickSchema.safeParse(tick).success).toBe(true);
    expect(tick).toMatchObject({ source: 'coinbase-exchange-ticker', status: 'ok', scheduled_time: due.toISOString() });
    expect(tick.price).toBe(fake.walk.priceTextAt('BTC-USD', Date.parse(tick.exchange_time ?? '')));
    const [request] = fake.requests;
    expect(request?.headers['user-agent']).toBe('btc-etl-test/1.0');
    expect(request?.path).toBe('/products/BTC-USD/ticker');
  });

  it('maps the v2 spot price, defaulting the scheduled time to the second the call started', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const tick = await clientFor().getSpotPrice('ETH-USD');
    expect(tick).toMatchObject({ source: 'coinbase-spot', product_id: 'ETH-USD', exchange_time: null });
    expect(Date.parse(tick.scheduled_time ?? '')).toBeGreaterThanOrEqual(before);
    expect(fake.requests[0]?.api).toBe('api');
  });

  it('waits out latency that fits in the timeout', async () => {
    fake.setFaults([{ endpoint: 'ticker', delayMs: { min: 50, max: 100 } }]);
    await expect(clientFor().getExchangeTicker('BTC-USD')).resolves.toMatchObject({ status: 'ok' });
  });
});

describe('polls that fail: typed error and miss reason', () => {
  const cases: [string, 'ticker' | 'spot', Fault, new (...args: never[]) => CoinbaseError, string][] = [
    ['429 without Retry-After', 'ticker', { kind: 'rate-limit' }, CoinbaseHttpError, 'http_429'],
    ['v2 429', 'spot', { kind: 'rate-limit' }, CoinbaseHttpError, 'http_429'],
    ['503', 'ticker', { kind: 'server-error' }, CoinbaseHttpError, 'http_5xx'],
    ['500 on spot', 'spot', { kind: 'server-error', status: 500 }, CoinbaseHttpError, 'http_5xx'],
    ['404', 'ticker', { kind: 'status', status: 404, message: 'NotFound' }, CoinbaseHttpError, 'http_4xx'],
    ['HTML 502 page', 'ticker', { kind: 'html' }, CoinbaseHttpError, 'http_5xx'],
    ['HTML page with 200', 'spot', { kind: 'html', status: 200 }, CoinbaseParseError, 'parse_error'],
    ['truncated JSON', 'ticker', { kind: 'truncated-json' }, CoinbaseParseError, 'parse_error'],
    ['missing price', 'ticker', { kind: 'missing-field', field: 'price' }, CoinbaseParseError, 'parse_error'],
    ['missing time', 'ticker', { kind: 'missing-field', field: 'time' }, CoinbaseParseError, 'parse_error'],
    ['missing amount', 'spot', { kind: 'missing-field', field: 'amount' }, CoinbaseParseError, 'parse_error'],
    ['negative price', 'ticker', { kind: 'price', value: '-97000.00' }, CoinbaseParseError, 'parse_error'],
    ['non-numeric price', 'ticker', { kind: 'price', value: 'abc' }, CoinbaseParseError, 'parse_error'],
    ['numeric-typed price', 'ticker', { kind: 'price', value: 97000.5 }, CoinbaseParseError, 'parse_error'],
    ['negative spot amount', 'spot', { kind: 'price', value: '-1.00' }, CoinbaseParseError, 'parse_error'],
    ['reset before headers', 'ticker', { kind: 'reset' }, CoinbaseNetworkError, 'network'],
    ['reset mid-body', 'spot', { kind: 'reset', when: 'mid-body' }, CoinbaseNetworkError, 'network'],
  ];

  it.each(cases)('%s', async (_name, endpoint, fault, type, reason) => {
    fake.setFaults([{ endpoint, fault }]);
    const client = clientFor();
    const error = await catchError(
      () => (endpoint === 'ticker' ? client.getExchangeTicker('BTC-USD') : client.getSpotPrice('BTC-USD')),
      type,
    );
    expect(missReasonOf(error)).toBe(reason);
    expect(error.url).toMatch(endpoint === 'ticker' ? /\/products\/BTC-USD\/ticker$/ : /\/v2\/prices\/BTC-USD\/spot$/);
    // a poll is never retried
    expect(fake.requests).toHaveLength(1);
  });

  it('keeps status, body snippet and Retry-After (seconds or HTTP date) on HTTP errors', async () => {
    fake.setFaults([{ times: 1, fault: { kind: 'rate-limit', retryAfter: 2 } }]);
    const a = await catchError(() => clientFor().getExchangeTicker('BTC-USD'), CoinbaseHttpError);
    expect([a.status, a.retryAfterMs, a.bodySnippet]).toEqual([429, 2000, '{"message":"Public rate limit exceeded"}']);
    const date = new Date(Date.now() + 30_000).toUTCString();
    fake.setFaults([{ times: 1, fault: { kind: 'rate-limit', retryAfter: date } }]);
    const b = await catchError(() => clientFor().getSpotPrice('BTC-USD'), CoinbaseHttpError);
    expect(b.retryAfterMs).toBeGreaterThan(25_000);
    expect(b.retryAfterMs).toBeLessThanOrEqual(30_000);
    expect(b.bodySnippet).toContain('rate_limit_exceeded');
  });

  it('names the bad field and keeps the body of a parse error', async () => {
    fake.setFaults([{ fault: { kind: 'price', value: 'abc' } }]);
    const error = await catchError(() => clientFor().getExchangeTicker('BTC-USD'), CoinbaseParseError);
    expect(error.issues.map((i) => i.path)).toEqual(['price']);
    expect(error.bodySnippet).toContain('"price":"abc"');
    fake.setFaults([{ fault: { kind: 'html', status: 200 } }]);
    const html = await catchError(() => clientFor().getExchangeTicker('BTC-USD'), CoinbaseParseError);
    expect(html.issues[0]?.message).toBe('an HTML page instead of JSON');
    expect(html.bodySnippet.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('times out a slow answer after the timeout', async () => {
    fake.setFaults([{ delayMs: 1_000 }]);
    const error = await catchError(
      () => clientFor().getExchangeTicker('BTC-USD', { timeoutMs: 100 }),
      CoinbaseTimeoutError,
    );
    expect(error.timeoutMs).toBe(100);
    expect(missReasonOf(error)).toBe('timeout');
  });

  it('gives a never-answering server no more than the deadline', async () => {
    fake.setFaults([{ fault: { kind: 'hang' } }]);
    const error = await catchError(
      () => clientFor().getExchangeTicker('BTC-USD', { deadline: Date.now() + 150 }),
      CoinbaseTimeoutError,
    );
    expect(error.timeoutMs).toBeLessThanOrEqual(150);
  });

  it('treats an AbortSignal.timeout as a timeout and a plain abort as no miss', async () => {
    fake.setFaults([{ fault: { kind: 'hang' } }]);
    const timedOut = await catchError(
      () => clientFor().getSpotPrice('BTC-USD', { signal: AbortSignal.timeout(100) }),
      CoinbaseError,
    );
    expect(missReasonOf(timedOut)).toBe('timeout');
    const controller = new AbortController();
    const pending = clientFor().getSpotPrice('BTC-USD', { signal: controller.signal });
    await fake.waitForRequests(2);
    controller.abort();
    const aborted = await catchError(() => pending, CoinbaseAbortedError);
    expect(missReasonOf(aborted)).toBeNull();
  });

  it('sends nothing when the deadline has already passed', async () => {
    await catchError(
      () => clientFor().getExchangeTicker('BTC-USD', { deadline: Date.now() - 1 }),
      CoinbaseTimeoutError,
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('reports a refused connection as a network error', async () => {
    const gone = await startFakeCoinbase();
    await gone.stop();
    const client = createCoinbaseClient({ exchangeUrl: gone.exchangeUrl, rateLimiter: new HostRateLimiters() });
    const error = await catchError(() => client.getExchangeTicker('BTC-USD'), CoinbaseNetworkError);
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('refuses a poll locally when the host bucket is empty, sending nothing', async () => {
    const limiters = new HostRateLimiters({ ratePerSecond: 0.001, burst: 2 });
    const client = clientFor({ rateLimiter: limiters });
    await client.getExchangeTicker('BTC-USD');
    await client.getExchangeTicker('ETH-USD');
    const error = await catchError(() => client.getExchangeTicker('BTC-USD'), CoinbaseRateLimitedError);
    expect(missReasonOf(error)).toBe('rate_limited');
    expect(fake.requestsTo({ endpoint: 'ticker' })).toHaveLength(2);
    // the v2 API is another host with its own bucket
    await expect(client.getSpotPrice('BTC-USD')).resolves.toMatchObject({ status: 'ok' });
    expect(client.limiterFor('exchange')).not.toBe(client.limiterFor('api'));
  });

  it('rejects bad arguments before sending anything', async () => {
    const client = clientFor();
    await expect(client.getExchangeTicker('btc-usd')).rejects.toThrow(CoinbaseArgumentError);
    await expect(client.getCandles('BTC-USD', { granularity: 120 as never, start: 0, end: 1 })).rejects.toThrow(
      /granularity/,
    );
    await expect(client.getCandles('BTC-USD', { granularity: 60, start: 10_000, end: 0 })).rejects.toThrow(
      /before start/,
    );
    expect(() => createCoinbaseClient({ exchangeUrl: 'not a url' })).toThrow(/exchangeUrl/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('candles', () => {
  const end = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
  const start = end - 1_000 * 60_000;

  it('splits 1000 minutes into 300-candle pages and merges them oldest first without duplicates', async () => {
    const ticks = await clientFor().getCandles('BTC-USD', { granularity: 60, start, end, backfilled: true });
    expect(fake.requestsTo({ endpoint: 'candles' })).toHaveLength(4);
    expect(fake.requests.every((r) => r.status === 200)).toBe(true);
    expect(ticks).toHaveLength(1_000);
    const times = ticks.map((t) => Date.parse(t.exchange_time ?? ''));
    expect(times[0]).toBe(start);
    expect(times.at(-1)).toBe(end - 60_000);
    expect(new Set(times).size).toBe(1_000);
    expect(times.every((t, i) => i === 0 || t - (times[i - 1] ?? 0) === 60_000)).toBe(true);
    const [time, low, high, open, close] = fake.candleAt('BTC-USD', 60, start / 1000 + 500 * 60) ?? [];
    expect(ticks[500]).toMatchObject({
      exchange_time: new Date((time ?? 0) * 1000).toISOString(),
      price: String(close),
      open: String(open),
      high: String(high),
      low: String(low),
      granularity_s: 60,
      backfilled: true,
    });
    expect(ticks.every((t) => PriceTickSchema.safeParse(t).success)).toBe(true);
  });

  it('leaves out buckets Exchange has no candle for', async () => {
    const gappy = await startFakeCoinbase({ seed: 5, candleGapRate: 0.2 });
    try {
      const client = createCoinbaseClient({ exchangeUrl: gappy.exchangeUrl, rateLimiter: new HostRateLimiters() });
      const ticks = await client.getCandles('BTC-USD', { granularity: 300, start: end - 400 * 300_000, end });
      const expected = Array.from({ length: 400 }, (_, i) =>
        gappy.candleAt('BTC-USD', 300, (end - 400 * 300_000) / 1000 + i * 300),
      ).filter(Boolean);
      expect(ticks.map((t) => t.price)).toEqual(expected.map((c) => String(c?.[4])));
      expect(ticks.length).toBeLessThan(400);
    } finally {
      await gappy.stop();
    }
  });

  it('retries 5xx, resets and truncated pages, then succeeds', async () => {
    fake.setFaults([
      { endpoint: 'candles', nth: 1, fault: { kind: 'server-error' } },
      { endpoint: 'candles', nth: 2, fault: { kind: 'reset' } },
      { endpoint: 'candles', nth: 3, fault: { kind: 'truncated-json' } },
    ]);
    const ticks = await clientFor().getCandles('BTC-USD', { granularity: 60, start: end - 10 * 60_000, end });
    expect(ticks).toHaveLength(10);
    expect(fake.requestsTo({ endpoint: 'candles' }).map((r) => r.fault)).toEqual([
      'server-error',
      'reset',
      'truncated-json',
      null,
    ]);
  });

  it('honours Retry-After before retrying a 429', async () => {
    fake.setFaults([{ endpoint: 'candles', times: 1, fault: { kind: 'rate-limit', retryAfter: 1 } }]);
    await clientFor().getCandles('BTC-USD', { granularity: 60, start: end - 10 * 60_000, end });
    const [first, second] = fake.requestsTo({ endpoint: 'candles' });
    expect((second?.receivedAtMonotonic ?? 0) - (first?.receivedAtMonotonic ?? 0)).toBeGreaterThanOrEqual(990);
  });

  it('does not retry a 4xx and gives up after maxAttempts on a bad page', async () => {
    fake.setFaults([
      { endpoint: 'candles', times: 1, fault: { kind: 'status', status: 400, message: 'Invalid start' } },
    ]);
    const bad = await catchError(
      () => clientFor().getCandles('BTC-USD', { granularity: 60, start: end - 10 * 60_000, end }),
      CoinbaseError,
    );
    expect([bad instanceof CoinbaseHttpError, missReasonOf(bad)]).toEqual([true, 'http_4xx']);
    expect(fake.requestsTo({ endpoint: 'candles' })).toHaveLength(1);

    fake.clearRequests();
    fake.setFaults([{ endpoint: 'candles', fault: { kind: 'price', value: -1 } }]);
    const client = clientFor({ retry: { maxAttempts: 3, baseDelayMs: 1, random: () => 0 } });
    const parse = await catchError(
      () => client.getCandles('BTC-USD', { granularity: 60, start: end - 10 * 60_000, end }),
      CoinbaseParseError,
    );
    expect(parse).toBeInstanceOf(CoinbaseParseError);
    expect(parse.issues[0]?.path).toBe('0.4');
    expect(fake.requestsTo({ endpoint: 'candles' })).toHaveLength(3);
  });

  it('waits for the shared bucket instead of failing, and stops when aborted', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 20, burst: 1 });
    const client = clientFor({ rateLimiter: bucket });
    const ticks = await client.getCandles('BTC-USD', { granularity: 60, start: end - 900 * 60_000, end, headroom: 0 });
    expect(ticks).toHaveLength(900);
    const [a, , c] = fake.requestsTo({ endpoint: 'candles' });
    // three pages through a 20/s bucket of one token: the third cannot start before ~100 ms
    expect((c?.receivedAtMonotonic ?? 0) - (a?.receivedAtMonotonic ?? 0)).toBeGreaterThanOrEqual(90);

    const controller = new AbortController();
    const slow = clientFor({ rateLimiter: new TokenBucket({ ratePerSecond: 0.01, burst: 1 }) });
    const pending = slow.getCandles('BTC-USD', {
      granularity: 60,
      start: end - 900 * 60_000,
      end,
      signal: controller.signal,
      headroom: 0,
    });
    await fake.waitForRequests(4, { endpoint: 'candles' });
    controller.abort();
    await catchError(() => pending, CoinbaseAbortedError);
  });
});
