import { afterEach, describe, expect, it } from 'vitest';
import { CoinbaseWsFeed, TokenBucket, createCoinbaseClient } from '@btc-etl/coinbase';
import { PriceTickSchema, type PriceTick } from '@btc-etl/price-schema';
import { startFakeCoinbase, startFakeCoinbaseWs, type FakeCoinbase, type FakeCoinbaseWs } from '@btc-etl/testing';
import { silentLogger } from '../ops/logger';
import { WsTickerSource } from './ws-ticker.source';

let ws: FakeCoinbaseWs | undefined;
let rest: FakeCoinbase | undefined;
afterEach(async () => {
  await ws?.close();
  await rest?.stop();
});

async function until(what: string, check: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('WsTickerSource (SOURCE=ws-ticker) against the fake feed and the fake REST server', () => {
  it('records trades, the outage of an abrupt close, a complete 1 Hz sample, and backfills the outage from candles', async () => {
    ws = await startFakeCoinbaseWs({ products: ['BTC-USD'], heartbeatIntervalMs: 100 });
    rest = await startFakeCoinbase();
    const out: PriceTick[] = [];
    const source = new WsTickerSource({
      feed: new CoinbaseWsFeed({
        url: ws.url,
        productIds: ['BTC-USD'],
        heartbeatTimeoutMs: 500,
        backoffBaseMs: 50,
        backoffCapMs: 200,
      }),
      productIds: ['BTC-USD'],
      logger: silentLogger,
      sampleEveryMs: 1_000,
      // fetch at once instead of waiting for the outage's last minute to close (that is up to a minute)
      backfill: {
        client: createCoinbaseClient({ exchangeUrl: rest.exchangeUrl, rateLimiter: new TokenBucket() }),
        settleMs: -60_000,
      },
    });
    const stop = new AbortController();
    const running = source.run((t) => out.push(t), stop.signal);
    await until('subscribed', () => ws?.received.length === 1);
    ws.trades('BTC-USD', 3);
    await until(
      '3 trades',
      () => out.filter((t) => t.sequence !== undefined && t.scheduled_time === null).length === 3,
    );
    ws.closeAll({ abrupt: true });
    ws.trades('BTC-USD', 2);
    await until('outage record', () => out.some((t) => t.reason === 'disconnected' && t.scheduled_time === null));
    await until('backfilled candles', () => out.some((t) => t.source === 'coinbase-candles'));
    await until('two 1 Hz samples', () => out.filter((t) => t.scheduled_time !== null).length >= 2);
    stop.abort();
    await running;

    for (const t of out) expect(PriceTickSchema.parse(t)).toEqual(t);
    const outage = out.find((t) => t.reason === 'disconnected' && t.scheduled_time === null);
    expect(outage).toMatchObject({
      source: 'coinbase-ws-ticker',
      gap_from_sequence: 1_000_004,
      gap_to_sequence: 1_000_004,
    });
    const candles = out.filter((t) => t.source === 'coinbase-candles');
    expect(candles.every((c) => c.backfilled === true && c.granularity_s === 60)).toBe(true);
    // the candles cover the outage: the minute holding its start is among them
    const startMinute = Math.floor(Date.parse(outage?.gap_start as string) / 60_000) * 60_000;
    expect(candles.map((c) => Date.parse(c.exchange_time as string))).toContain(startMinute);
    expect(rest.requestsTo({ endpoint: 'candles' }).length).toBeGreaterThanOrEqual(1);
    // the sample: one record per second, consecutive, keyed by the second
    const samples = out.filter((t) => t.scheduled_time !== null).map((t) => Date.parse(t.scheduled_time as string));
    expect(samples.every((s, i) => i === 0 || s - (samples[i - 1] as number) === 1_000)).toBe(true);
  });
});
