import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCoinbase, type FakeCoinbase } from './fake-coinbase.server';
import { createPriceWalk } from './price-walk';

const NOW = Date.parse('2026-11-27T19:53:15.250Z');
let fake: FakeCoinbase;

const getJson = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, text: await res.text() };
};

beforeAll(async () => {
  fake = await startFakeCoinbase({ seed: 42, clock: () => NOW });
});
afterEach(() => {
  fake.clearFaults();
  fake.clearRequests();
});
afterAll(async () => {
  await fake.stop();
});

describe('price walk', () => {
  it('is deterministic per seed and differs across seeds and products', () => {
    const a = createPriceWalk({ seed: 1 });
    const b = createPriceWalk({ seed: 1 });
    const c = createPriceWalk({ seed: 2 });
    const times = [NOW, NOW + 1_000, NOW - 86_400_000 * 400, NOW + 86_400_000 * 400];
    expect(times.map((t) => a.priceTextAt('BTC-USD', t))).toEqual(times.map((t) => b.priceTextAt('BTC-USD', t)));
    expect(a.priceTextAt('BTC-USD', NOW)).not.toBe(c.priceTextAt('BTC-USD', NOW));
    expect(a.priceAt('ETH-USD', NOW)).toBeLessThan(20_000);
  });

  it('moves like a walk: small steps second to second, holds within a second', () => {
    const walk = createPriceWalk({ seed: 3 });
    let changed = 0;
    for (let s = 0; s < 600; s++) {
      const p0 = walk.priceAt('BTC-USD', NOW + s * 1000);
      const p1 = walk.priceAt('BTC-USD', NOW + (s + 1) * 1000);
      expect(Math.abs(p1 / p0 - 1)).toBeLessThan(0.002);
      if (p0 !== p1) changed++;
    }
    expect(changed).toBeGreaterThan(500);
    expect(walk.priceAt('BTC-USD', NOW)).toBe(walk.priceAt('BTC-USD', NOW - 250 + 999));
  });

  it('builds candles from the same walk: open at the start, close at the last second, bounded by low/high', () => {
    const walk = createPriceWalk({ seed: 3 });
    const start = Math.floor(NOW / 60_000) * 60;
    const [time, low, high, open, close] = walk.candleAt('BTC-USD', 60, start) ?? [];
    expect(time).toBe(start);
    expect(open).toBe(walk.priceAt('BTC-USD', start * 1000));
    expect(close).toBe(walk.priceAt('BTC-USD', (start + 59) * 1000));
    for (let s = 0; s < 60; s++) {
      const p = walk.priceAt('BTC-USD', (start + s) * 1000);
      expect(p).toBeGreaterThanOrEqual(low ?? Infinity);
      expect(p).toBeLessThanOrEqual(high ?? -Infinity);
    }
  });

  it('drops a seeded share of candles as minutes without trades', () => {
    const walk = createPriceWalk({ seed: 3, candleGapRate: 0.3 });
    const start = Math.floor(NOW / 60_000) * 60;
    const present = Array.from({ length: 200 }, (_, i) => walk.candleAt('BTC-USD', 60, start - i * 60)).filter(Boolean);
    expect(present.length).toBeGreaterThan(100);
    expect(present.length).toBeLessThan(180);
  });
});

describe('documented shapes', () => {
  it('serves the Exchange ticker with the walk price, microsecond time and 24 h volume', async () => {
    const { status, text } = await getJson(`${fake.exchangeUrl}/products/BTC-USD/ticker`);
    expect(status).toBe(200);
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['ask', 'bid', 'price', 'size', 'time', 'trade_id', 'volume']);
    expect(body.price).toBe(fake.priceAt('BTC-USD'));
    expect(body.time).toBe('2026-11-27T19:53:15.250000Z');
    expect(typeof body.trade_id).toBe('number');
    expect(Number(body.bid)).toBeLessThan(Number(body.ask));
  });

  it('serves the v2 spot price, also for a historic date', async () => {
    const now = JSON.parse((await getJson(`${fake.apiUrl}/v2/prices/BTC-USD/spot`)).text) as unknown;
    expect(now).toEqual({ data: { amount: fake.priceAt('BTC-USD'), base: 'BTC', currency: 'USD' } });
    const old = JSON.parse((await getJson(`${fake.apiUrl}/v2/prices/ETH-USD/spot?date=2026-01-02`)).text) as {
      data: { amount: string };
    };
    expect(old.data.amount).toBe(fake.priceAt('ETH-USD', Date.parse('2026-01-02T00:00:00Z')));
  });

  it('serves candles newest first, ending at the current bucket', async () => {
    const start = new Date(NOW - 10 * 60_000).toISOString();
    const end = new Date(NOW + 10 * 60_000).toISOString();
    const { status, text } = await getJson(
      `${fake.exchangeUrl}/products/BTC-USD/candles?granularity=60&start=${start}&end=${end}`,
    );
    expect(status).toBe(200);
    const rows = JSON.parse(text) as number[][];
    const times = rows.map((r) => r[0]);
    const current = Math.floor(NOW / 60_000) * 60;
    expect(times[0]).toBe(current);
    expect(times).toEqual([...times].sort((a, b) => (b ?? 0) - (a ?? 0)));
    expect(rows).toHaveLength(11);
    expect(rows[1]).toEqual(fake.candleAt('BTC-USD', 60, current - 60));
  });

  it.each([
    ['granularity=120', 'Unsupported granularity'],
    ['granularity=abc', 'Unsupported granularity'],
    ['granularity=60&start=2026-11-27T00:00:00Z&end=2026-11-27T05:00:00Z', 'exceeds 300'],
    ['granularity=60&start=2026-11-27T00:00:00Z', 'both'],
    ['granularity=60&start=nope&end=2026-11-27T05:00:00Z', 'Invalid start'],
  ])('rejects candles?%s like Exchange', async (query, message) => {
    const { status, text } = await getJson(`${fake.exchangeUrl}/products/BTC-USD/candles?${query}`);
    expect(status).toBe(400);
    expect((JSON.parse(text) as { message: string }).message).toContain(message);
  });

  it('accepts exactly 300 candles', async () => {
    const q = 'granularity=60&start=2026-11-27T00:00:00Z&end=2026-11-27T04:59:00Z';
    const rows = JSON.parse((await getJson(`${fake.exchangeUrl}/products/BTC-USD/candles?${q}`)).text) as unknown[];
    expect(rows).toHaveLength(300);
  });

  it('answers unknown products and paths with each API error shape', async () => {
    expect(await getJson(`${fake.exchangeUrl}/products/DOGE-XYZ/ticker`)).toMatchObject({
      status: 404,
      text: '{"message":"NotFound"}',
    });
    const v2 = await getJson(`${fake.apiUrl}/v2/prices/DOGE-XYZ/spot`);
    expect(v2.status).toBe(404);
    expect(JSON.parse(v2.text)).toMatchObject({ errors: [{ id: 'not_found' }] });
    expect((await getJson(`${fake.apiUrl}/products/BTC-USD/ticker`)).status).toBe(404);
  });
});

describe('request log', () => {
  it('records every request with endpoint, product, query and arrival times', async () => {
    await getJson(`${fake.exchangeUrl}/products/BTC-USD/ticker`);
    await getJson(`${fake.apiUrl}/v2/prices/ETH-USD/spot`);
    await getJson(`${fake.exchangeUrl}/products/BTC-USD/candles?granularity=300`);
    expect(fake.requests.map((r) => [r.api, r.endpoint, r.productId, r.status])).toEqual([
      ['exchange', 'ticker', 'BTC-USD', 200],
      ['api', 'spot', 'ETH-USD', 200],
      ['exchange', 'candles', 'BTC-USD', 200],
    ]);
    expect(fake.requests[2]?.query).toEqual({ granularity: '300' });
    expect(fake.requests[0]?.clockAt).toBe(NOW);
    expect(Math.abs((fake.requests[0]?.receivedAt ?? 0) - Date.now())).toBeLessThan(5_000);
    expect(fake.requestsTo({ endpoint: 'spot' })).toHaveLength(1);
  });

  it('waitForRequests resolves when enough have arrived and rejects on timeout', async () => {
    const waiting = fake.waitForRequests(2, { endpoint: 'ticker' });
    await getJson(`${fake.exchangeUrl}/products/BTC-USD/ticker`);
    await getJson(`${fake.exchangeUrl}/products/ETH-USD/ticker`);
    expect((await waiting).map((r) => r.productId)).toEqual(['BTC-USD', 'ETH-USD']);
    await expect(fake.waitForRequests(1, { endpoint: 'spot' }, 50)).rejects.toThrow(/did not arrive within 50 ms/);
  });
});

describe('faults', () => {
  it('picks requests by count: nth, a list, a range and times', async () => {
    fake.setFaults([
      { id: 'third', endpoint: 'ticker', nth: 3, fault: { kind: 'status', status: 418 } },
      { id: 'first-two', endpoint: 'ticker', times: 2, fault: { kind: 'server-error' } },
      { id: 'spot-list', endpoint: 'spot', nth: [2, 4], fault: { kind: 'rate-limit' } },
    ]);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await getJson(`${fake.exchangeUrl}/products/BTC-USD/ticker`)).status);
    for (let i = 0; i < 4; i++) statuses.push((await getJson(`${fake.apiUrl}/v2/prices/BTC-USD/spot`)).status);
    expect(statuses).toEqual([503, 503, 418, 200, 200, 429, 200, 429]);
    expect(fake.faults.map((r) => [r.id, r.seen, r.hits])).toEqual([
      ['third', 4, 1],
      ['first-two', 4, 2],
      ['spot-list', 4, 2],
    ]);
  });

  it('filters by product and by a time window on the fake clock', async () => {
    fake.setFaults([
      { productId: 'ETH-USD', fault: { kind: 'server-error', status: 502 } },
      { until: NOW, fault: { kind: 'server-error' } },
      { from: NOW + 1, fault: { kind: 'server-error' } },
    ]);
    expect((await getJson(`${fake.exchangeUrl}/products/ETH-USD/ticker`)).status).toBe(502);
    expect((await getJson(`${fake.exchangeUrl}/products/BTC-USD/ticker`)).status).toBe(200);
  });

  it('sends each API its own 429 body, with Retry-After when asked', async () => {
    fake.setFaults([{ fault: { kind: 'rate-limit', retryAfter: 3 } }]);
    const ex = await getJson(`${fake.exchangeUrl}/products/BTC-USD/ticker`);
    expect(ex.status).toBe(429);
    expect(ex.headers.get('retry-after')).toBe('3');
    expect(JSON.parse(ex.text)).toEqual({ message: 'Public rate limit exceeded' });
    const v2 = await getJson(`${fake.apiUrl}/v2/prices/BTC-USD/spot`);
    expect(JSON.parse(v2.text)).toEqual({ errors: [{ id: 'rate_limit_exceeded', message: 'Too many requests' }] });
  });

  it('serves HTML pages, truncated JSON, missing fields and bad prices', async () => {
    const ticker = `${fake.exchangeUrl}/products/BTC-USD/ticker`;
    fake.setFaults([{ fault: { kind: 'html' } }]);
    const html = await getJson(ticker);
    expect([html.status, html.headers.get('content-type'), html.text.startsWith('<!DOCTYPE html>')]).toEqual([
      502,
      'text/html; charset=UTF-8',
      true,
    ]);
    fake.setFaults([{ fault: { kind: 'truncated-json', bytes: 10 } }]);
    expect(await getJson(ticker)).toMatchObject({ status: 200, text: '{"trade_id' });
    fake.setFaults([{ fault: { kind: 'missing-field', field: 'price' } }]);
    expect(JSON.parse((await getJson(ticker)).text)).not.toHaveProperty('price');
    fake.setFaults([{ fault: { kind: 'missing-field', field: 'amount' } }]);
    expect(JSON.parse((await getJson(`${fake.apiUrl}/v2/prices/BTC-USD/spot`)).text)).toEqual({
      data: { base: 'BTC', currency: 'USD' },
    });
    fake.setFaults([{ fault: { kind: 'price', value: '-5.00' } }]);
    expect(JSON.parse((await getJson(ticker)).text)).toMatchObject({ price: '-5.00' });
    const candles = `${fake.exchangeUrl}/products/BTC-USD/candles?granularity=60`;
    fake.setFaults([{ fault: { kind: 'price', value: 'abc' } }]);
    expect((JSON.parse((await getJson(candles)).text) as unknown[][]).every((row) => row[4] === 'abc')).toBe(true);
    fake.setFaults([{ fault: { kind: 'missing-field', field: 'close' } }]);
    const rows = JSON.parse((await getJson(candles)).text) as unknown[][];
    expect([rows[0]?.length, rows[1]?.length]).toEqual([5, 6]);
  });

  it('delays by a fixed latency or a range', async () => {
    fake.setFaults([{ delayMs: 120 }]);
    let t0 = performance.now();
    expect((await getJson(`${fake.exchangeUrl}/products/BTC-USD/ticker`)).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(115);
    fake.setFaults([{ delayMs: { min: 30, max: 60 } }]);
    t0 = performance.now();
    await getJson(`${fake.exchangeUrl}/products/BTC-USD/ticker`);
    expect(fake.requests.at(-1)?.delayMs).toBeGreaterThanOrEqual(30);
    expect(fake.requests.at(-1)?.delayMs).toBeLessThanOrEqual(60);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('resets connections and hangs until the client gives up', async () => {
    fake.setFaults([{ fault: { kind: 'reset' } }]);
    await expect(fetch(`${fake.exchangeUrl}/products/BTC-USD/ticker`)).rejects.toThrow();
    fake.setFaults([{ fault: { kind: 'hang' } }]);
    await expect(
      fetch(`${fake.exchangeUrl}/products/BTC-USD/ticker`, { signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    expect(fake.requests.map((r) => [r.fault, r.status])).toEqual([
      ['reset', null],
      ['hang', null],
    ]);
  });

  it('validates rules up front', () => {
    expect(() => fake.setFaults([{ endpoint: 'ticker' }])).toThrow(/give a fault, a delayMs, or both/);
    expect(() => fake.setFaults([{ delayMs: { min: 5, max: 1 } }])).toThrow(/delayMs/);
    expect(() => fake.addFault({ times: 0, fault: { kind: 'hang' } })).toThrow(/times/);
  });
});

describe('stop', () => {
  it('closes hanging connections and frees the ports', async () => {
    const own = await startFakeCoinbase({ faults: [{ fault: { kind: 'hang' } }] });
    const hanging = fetch(`${own.exchangeUrl}/products/BTC-USD/ticker`).catch((error: unknown) => error);
    await own.waitForRequests(1);
    await own.stop();
    await own.stop();
    expect(await hanging).toBeInstanceOf(Error);
    const port = Number(new URL(own.exchangeUrl).port);
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('connect', () => resolve('connected'));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
