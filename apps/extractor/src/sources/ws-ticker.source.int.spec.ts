import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { candlePages, CoinbaseWsFeed, TokenBucket, createCoinbaseClient } from '@btc-etl/coinbase';
import { PriceTickSchema, type PriceTick } from '@btc-etl/price-schema';
import { startFakeCoinbase, startFakeCoinbaseWs, type FakeCoinbase, type FakeCoinbaseWs } from '@btc-etl/testing';
import { outageJob } from '../backfill/candle.backfill';
import { WsTickerSource } from './ws-ticker.source';

let ws: FakeCoinbaseWs | undefined;
let rest: FakeCoinbase | undefined;
let stop: AbortController | undefined;
let running: Promise<void> | undefined;
afterEach(async () => {
  stop?.abort();
  await running;
  await ws?.close();
  await rest?.stop();
  stop = running = ws = rest = undefined;
});

const WAIT = { timeout: 15_000, interval: 10 };
const streamed = (out: PriceTick[]) =>
  out.filter((t) => t.source === 'coinbase-ws-ticker' && t.scheduled_time === null);

/** A source on the fake feed and the fake REST server, backfilling at once (no wait for the minute to close). */
async function start(sampleEveryMs: number | null = null) {
  // the backfiller logs each job it schedules, synchronously with the record that asked for it
  const logs: Array<{ msg: string }> = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string }) },
  );
  const scheduled = () => logs.filter((l) => l.msg === 'outage backfill scheduled').length;
  ws = await startFakeCoinbaseWs({ products: ['BTC-USD'], heartbeatIntervalMs: 100 });
  rest = await startFakeCoinbase();
  const out: PriceTick[] = [];
  const source = new WsTickerSource({
    feed: new CoinbaseWsFeed({
      url: ws.url,
      productIds: ['BTC-USD'],
      heartbeatTimeoutMs: 1_000,
      gapGraceMs: 200,
      backoffBaseMs: 50,
      backoffCapMs: 200,
    }),
    productIds: ['BTC-USD'],
    logger,
    sampleEveryMs,
    backfill: {
      client: createCoinbaseClient({ exchangeUrl: rest.exchangeUrl, rateLimiter: new TokenBucket() }),
      settleMs: -60_000,
    },
  });
  stop = new AbortController();
  running = source.run((t) => out.push(t), stop.signal);
  await vi.waitFor(() => expect(ws?.received).toHaveLength(1), WAIT);
  return { ws, rest, out, scheduled };
}

/** The buckets the 60 s candle requests asked for, `[from, to)`: on the wire, `end` names the last bucket's start. */
function candleRange(fake: FakeCoinbase): { fromMs: number; toMs: number } {
  const requests = fake.requestsTo({ endpoint: 'candles' });
  return {
    fromMs: Math.min(...requests.map((r) => Date.parse(r.query.start as string))),
    toMs: Math.max(...requests.map((r) => Date.parse(r.query.end as string))) + 60_000,
  };
}

describe('WsTickerSource (SOURCE=ws-ticker) against the fake feed and the fake REST server', () => {
  it(
    'records trades, the outage of an abrupt close, ' + 'a complete 1 Hz sample, and backfills the outage from candles',
    async () => {
      const { ws, rest, out } = await start(1_000);
      ws.trades('BTC-USD', 3);
      await vi.waitFor(() => expect(streamed(out).filter((t) => t.status === 'ok')).toHaveLength(3), WAIT);
      ws.closeAll({ abrupt: true });
      ws.trades('BTC-USD', 2);
      await vi.waitFor(() => expect(streamed(out).some((t) => t.reason === 'disconnected')).toBe(true), WAIT);
      await vi.waitFor(() => expect(out.some((t) => t.source === 'coinbase-candles')).toBe(true), WAIT);
      await vi.waitFor(
        () => expect(out.filter((t) => t.scheduled_time !== null).length).toBeGreaterThanOrEqual(2),
        WAIT,
      );
      stop?.abort();
      await running;

      for (const t of out) expect(PriceTickSchema.parse(t)).toEqual(t);
      const outage = streamed(out).find((t) => t.reason === 'disconnected');
      // trades ...004 and ...005 happened while away; ...005 came back as last_match and as the ticker snapshot
      expect(outage).toMatchObject({ gap_from_trade_id: 100_004, gap_to_trade_id: 100_004 });
      const candles = out.filter((t) => t.source === 'coinbase-candles');
      expect(candles.every((c) => c.backfilled === true && c.granularity_s === 60)).toBe(true);
      // the candles requested cover exactly the outage's span, in whole minutes
      const job = outageJob('BTC-USD', outage?.gap_start as string, outage?.gap_end as string, 60);
      expect(candleRange(rest)).toEqual({ fromMs: job.fromMs, toMs: job.toMs });
      expect(streamed(out).filter((t) => t.reason === 'sequence_gap')).toEqual([]);
      // the sample: one record per second, consecutive, keyed by the second
      const samples = out.filter((t) => t.scheduled_time !== null).map((t) => Date.parse(t.scheduled_time as string));
      expect(samples.every((s, i) => i === 0 || s - (samples[i - 1] as number) === 1_000)).toBe(true);
    },
  );

  it('backfills a real loss from the candles of exactly its span', async () => {
    const { ws, rest, out } = await start();
    ws.trades('BTC-USD', 2);
    ws.dropNext('BTC-USD', 3);
    ws.cascade('BTC-USD', 3);
    ws.trades('BTC-USD', 1);
    await vi.waitFor(() => expect(streamed(out).some((t) => t.reason === 'sequence_gap')).toBe(true), WAIT);
    await vi.waitFor(() => expect(out.some((t) => t.source === 'coinbase-candles')).toBe(true), WAIT);
    const gap = streamed(out).find((t) => t.reason === 'sequence_gap');
    expect(gap).toMatchObject({ gap_from_trade_id: 100_003, gap_to_trade_id: 100_005 });
    const job = outageJob('BTC-USD', gap?.gap_start as string, gap?.gap_end as string, 60);
    expect(candleRange(rest)).toEqual({ fromMs: job.fromMs, toMs: job.toMs });
  });

  it('does not backfill an outage during which nothing traded', async () => {
    const { ws, rest, out, scheduled } = await start();
    ws.trades('BTC-USD', 2);
    await vi.waitFor(() => expect(streamed(out)).toHaveLength(2), WAIT);
    ws.closeAll({ abrupt: true });
    await vi.waitFor(() => expect(streamed(out).some((t) => t.reason === 'disconnected')).toBe(true), WAIT);
    expect(scheduled()).toBe(0);
    // a real loss afterwards is backfilled: once its candles are in, the quiet outage would have been too
    ws.dropNext('BTC-USD', 1);
    ws.trades('BTC-USD', 2);
    await vi.waitFor(() => expect(streamed(out).some((t) => t.reason === 'sequence_gap')).toBe(true), WAIT);
    await vi.waitFor(
      () => expect(rest.requests.some((r) => r.endpoint === 'candles' && r.status !== null)).toBe(true),
      WAIT,
    );
    stop?.abort();
    await running;
    expect(streamed(out).find((t) => t.reason === 'disconnected')).toMatchObject({
      gap_from_trade_id: null,
      gap_to_trade_id: null,
    });
    const gap = streamed(out).find((t) => t.reason === 'sequence_gap');
    const job = outageJob('BTC-USD', gap?.gap_start as string, gap?.gap_end as string, 60);
    // every candle request belongs to the real loss (jobs run one at a time, the outage's would have come first)
    expect(candleRange(rest)).toEqual({ fromMs: job.fromMs, toMs: job.toMs });
    expect(rest.requestsTo({ endpoint: 'candles' })).toHaveLength(candlePages(job.fromMs, job.toMs, 60).length);
  });
});
