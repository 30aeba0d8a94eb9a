import { afterEach, describe, expect, it, vi } from 'vitest';
import { DataError } from '@btc-etl/errors';
import { PriceTickSchema } from '@btc-etl/price-schema';
import { startFakeCoinbaseWs, type FakeCoinbaseWs } from '@btc-etl/testing';
import { CoinbaseWsFeed, type CoinbaseWsFeedOptions, type WsFeedEvent } from './ws-feed.client';
import { WsStaleConnectionError } from './ws-feed.errors';

/** A feed client run against the fake server, collecting its events. */
function runFeed(server: FakeCoinbaseWs, options: Partial<CoinbaseWsFeedOptions> = {}) {
  const events: WsFeedEvent[] = [];
  const controller = new AbortController();
  const feed = new CoinbaseWsFeed({
    url: server.url,
    productIds: ['BTC-USD', 'ETH-USD'],
    heartbeatTimeoutMs: 1_000,
    gapGraceMs: 300,
    backoffBaseMs: 50,
    backoffCapMs: 400,
    ...options,
  });
  const done = feed.run((e) => events.push(e), controller.signal);
  const of = <T extends WsFeedEvent['type']>(type: T) =>
    events.filter((e): e is Extract<WsFeedEvent, { type: T }> => e.type === type);
  // polls the events the feed emitted; the timeout only catches a hang (generous for 2 shared, busy cores)
  async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > until)
        throw new Error(
          `timed out waiting for ${what}; last events: ${events
            .slice(-30)
            .map((e) => e.type)
            .join(',')}`,
        );
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const stop = async () => {
    controller.abort();
    await done;
  };
  const gaps = (reason: 'sequence_gap' | 'disconnected') => of('gap').filter((e) => e.gap.reason === reason);
  return { events, of, gaps, waitFor, stop, done, feed };
}

let server: FakeCoinbaseWs | undefined;
let stopFeed: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopFeed?.();
  await server?.close();
  stopFeed = undefined;
  server = undefined;
});

async function setup(
  serverOptions: Parameters<typeof startFakeCoinbaseWs>[0] = {},
  feedOptions: Partial<CoinbaseWsFeedOptions> = {},
) {
  server = await startFakeCoinbaseWs({ heartbeatIntervalMs: 100, ...serverOptions });
  const feed = runFeed(server, feedOptions);
  stopFeed = feed.stop;
  await feed.waitFor('subscription', () => feed.of('subscribed').length === 1);
  return { server, ...feed };
}

describe('CoinbaseWsFeed against the live-like fake Exchange feed', () => {
  it(
    'subscribes to ticker, heartbeat and matches, ' + 'records each ticker, and sees no gap in jumping numbers',
    async () => {
      const { server, of, waitFor } = await setup();
      expect(server.received).toEqual([
        { type: 'subscribe', product_ids: ['BTC-USD', 'ETH-USD'], channels: ['ticker', 'heartbeat', 'matches'] },
      ]);
      server.trades('BTC-USD', 3);
      server.cascade('BTC-USD', 5);
      server.trades('ETH-USD', 2);
      await waitFor('6 ticks', () => of('tick').length === 6);
      const ticks = of('tick').map((e) => e.tick);
      for (const t of ticks) expect(PriceTickSchema.parse(t)).toEqual(t);
      const btc = ticks.filter((t) => t.product_id === 'BTC-USD');
      // ticker trade ids jump over the cascade and sequences over book traffic: the live feed's normal numbering
      expect(btc.map((t) => t.trade_id)).toEqual([100_001, 100_002, 100_003, 100_008]);
      expect(btc.some((t, i) => i > 0 && (t.sequence as number) > (btc[i - 1]?.sequence as number) + 1)).toBe(true);
      const seen = of('heartbeat').length;
      await waitFor('heartbeats after the trades', () => of('heartbeat').length >= seen + 6);
      expect(of('gap')).toEqual([]);
      // every event names its connection
      expect(new Set(of('tick').map((e) => e.connectionId)).size).toBe(1);
    },
  );

  it('a long nominal run (cascades, book traffic, heartbeats) records zero sequence_gap', async () => {
    const { server, of, gaps, waitFor, stop } = await setup({ heartbeatIntervalMs: 20, cascadeEvery: 3 });
    stopFeed = undefined;
    await Promise.all([server.burst('BTC-USD', 3_000, 3_000), server.burst('ETH-USD', 3_000, 3_000)]);
    await waitFor('6,000 ticks', () => of('tick').length === 6_000, 30_000);
    const heartbeats = of('heartbeat').length;
    await waitFor('heartbeats after the run', () => of('heartbeat').length >= heartbeats + 20);
    await stop();
    expect(server.state('BTC-USD').matchesSent).toBe(5_000); // 2,000 single trades and 1,000 cascades of 3
    expect(gaps('sequence_gap')).toEqual([]);
    expect(of('late')).toEqual([]);
  });

  it('records every injected loss exactly once, covering exactly the lost trade ids', async () => {
    const { server, of, gaps, waitFor } = await setup({ heartbeatIntervalMs: 50 });
    server.trades('BTC-USD', 5);
    server.dropNext('BTC-USD', 2); // two single trades, found by the next match
    server.trades('BTC-USD', 4);
    server.dropNext('BTC-USD', 3); // a whole cascade, its ticker with it
    server.cascade('BTC-USD', 3);
    server.trades('BTC-USD', 2);
    server.trades('ETH-USD', 3);
    server.dropNext('ETH-USD', 2); // the last trades of a quiet market: only the heartbeat tells
    server.trades('ETH-USD', 2);
    await waitFor('3 gaps', () => gaps('sequence_gap').length === 3);
    const found = gaps('sequence_gap').map((e) => ({
      productId: e.gap.productId,
      fromTradeId: e.gap.fromTradeId,
      toTradeId: e.gap.toTradeId,
    }));
    expect(server.injectedLosses).toHaveLength(3);
    expect(found).toEqual(expect.arrayContaining(server.injectedLosses));
    const heartbeats = of('heartbeat').length;
    await waitFor('heartbeats after the gaps', () => of('heartbeat').length >= heartbeats + 6);
    expect(gaps('sequence_gap')).toHaveLength(3);
    for (const e of gaps('sequence_gap')) {
      expect(PriceTickSchema.parse(e.tick)).toEqual(e.tick);
      expect(e.tick).toMatchObject({ status: 'missed', reason: 'sequence_gap', gap_from_sequence: null });
      expect(Date.parse(e.tick.gap_end as string)).toBeGreaterThanOrEqual(Date.parse(e.tick.gap_start as string));
    }
    expect(gaps('disconnected')).toEqual([]);
  });

  it('gives matches still in flight a grace when a heartbeat announces their trades first', async () => {
    // matches leave 150 ms after the heartbeats of the same moment; heartbeats every 20 ms run ahead of them
    const { server, of, gaps, waitFor } = await setup(
      { heartbeatIntervalMs: 20, matchDelayMs: 150 },
      { gapGraceMs: 1_000 },
    );
    const btcHeartbeats = () => of('heartbeat').filter((e) => e.productId === 'BTC-USD');
    // no trade yet, so no last_match: the first heartbeat sets where trade ids stand
    await waitFor('a first heartbeat', () => btcHeartbeats().length > 0);
    for (let i = 0; i < 5; i += 1) {
      server.trades('BTC-USD', 3);
      const seen = btcHeartbeats().length;
      // a heartbeat announcing trades whose matches are not here yet
      await waitFor('a heartbeat ahead of the matches', () => btcHeartbeats().length > seen);
    }
    expect(btcHeartbeats().some((e) => e.lastTradeId > 100_000)).toBe(true);
    server.dropNext('BTC-USD', 2);
    server.trades('BTC-USD', 2); // a real loss: the heartbeat announces it, no match ever brings it
    await waitFor('the real loss', () => gaps('sequence_gap').length === 1);
    expect(gaps('sequence_gap')[0]?.gap).toMatchObject({ fromTradeId: 100_016, toTradeId: 100_017 });
    const heartbeats = of('heartbeat').length;
    await waitFor('heartbeats past the grace', () => of('heartbeat').length >= heartbeats + 100);
    expect(gaps('sequence_gap')).toHaveLength(1);
    expect(of('late')).toEqual([]);
  });

  it('waits for out-of-order matches instead of inventing a gap', async () => {
    const { server, of, gaps, waitFor } = await setup();
    server.trades('BTC-USD', 1);
    server.swapNext('BTC-USD');
    server.trades('BTC-USD', 3);
    await waitFor('4 ticks', () => of('tick').length === 4);
    expect(of('tick').map((e) => e.tick.trade_id)).toEqual([100_001, 100_003, 100_002, 100_004]);
    const heartbeats = of('heartbeat').length;
    await waitFor('heartbeats past the grace', () => of('heartbeat').length >= heartbeats + 8);
    expect(gaps('sequence_gap')).toEqual([]);
    expect(of('late')).toEqual([]);
  });

  it('tells a quiet market from a dead connection: no trades is fine, no heartbeat reconnects', async () => {
    const { server, of, gaps, waitFor } = await setup({}, { heartbeatTimeoutMs: 400 });
    server.trades('BTC-USD', 1);
    // 20 heartbeat periods with no trade at all
    await waitFor('20 heartbeats', () => of('heartbeat').length >= 20);
    expect(of('disconnected')).toEqual([]);
    server.stallAll();
    await waitFor('reconnect', () => of('subscribed').length === 2);
    // the heartbeat timeout (400 ms), not a close, ended the stalled connection
    const cause = of('disconnected')[0]?.error;
    expect(cause).toBeInstanceOf(WsStaleConnectionError);
    expect(cause).toBeInstanceOf(DataError);
    expect((cause as WsStaleConnectionError).timeoutMs).toBe(400);
    expect((cause as WsStaleConnectionError).silentMs).toBeGreaterThan(400);
    expect(cause?.data).toMatchObject({ productId: expect.any(String), timeoutMs: 400, missReason: 'disconnected' });
    expect(server.openConnections).toBe(1);
    // the outage is data: one disconnected record per product once the feed speaks again
    await waitFor('disconnect records', () => gaps('disconnected').length === 2);
    for (const t of gaps('disconnected').map((e) => e.tick)) {
      expect(PriceTickSchema.parse(t)).toEqual(t);
      expect(Date.parse(t.gap_end as string)).toBeGreaterThanOrEqual(Date.parse(t.gap_start as string));
    }
    // nothing traded while away: the outage lost no trade, so nothing asks for a backfill
    expect(gaps('disconnected').map((e) => e.gap.tradesLost)).toEqual([false, false]);
    expect(gaps('sequence_gap')).toEqual([]);
  });

  it('does not take a busy connection whose heartbeats come late for a dead one', async () => {
    // heartbeats far apart, trades every 20 ms: the trades themselves show the connection is alive
    const { server, of, waitFor } = await setup(
      { heartbeatIntervalMs: 60_000, tradeIntervalMs: 20 },
      { heartbeatTimeoutMs: 2_000 },
    );
    await waitFor('300 ticks', () => of('tick').length >= 300, 30_000);
    expect(of('disconnected')).toEqual([]);
    expect(server.openConnections).toBe(1);
  });

  it('reconnects after an abrupt close, recording the outage with the trade ids it covered', async () => {
    const { server, of, gaps, waitFor } = await setup();
    server.trades('BTC-USD', 2);
    await waitFor('2 ticks', () => of('tick').length === 2);
    server.closeAll({ abrupt: true });
    server.trades('BTC-USD', 3); // traded while nobody listened
    await waitFor('reconnect', () => of('subscribed').length === 2);
    await waitFor('disconnect records', () => gaps('disconnected').length === 2);
    expect(of('disconnected')[0]?.error).toMatchObject({ name: 'WsClosedError', code: 1006 });
    const btc = gaps('disconnected').find((e) => e.gap.productId === 'BTC-USD');
    // last_match after re-subscribing is trade ...005: ...003 and ...004 were missed while away
    expect(btc?.tick).toMatchObject({ reason: 'disconnected', gap_from_trade_id: 100_003, gap_to_trade_id: 100_004 });
    expect(btc?.gap.tradesLost).toBe(true);
    // the ticker snapshot brings the last trade (...005) as a record; nothing else is missing
    await waitFor('snapshot', () => of('tick').some((e) => e.tick.trade_id === 100_005));
    server.trades('BTC-USD', 1);
    await waitFor('the next trade', () => of('tick').some((e) => e.tick.trade_id === 100_006));
    const heartbeats = of('heartbeat').length;
    await waitFor('heartbeats past the grace', () => of('heartbeat').length >= heartbeats + 8);
    expect(gaps('sequence_gap')).toEqual([]);
    expect(of('connecting').map((e) => e.connectionId)).toEqual([
      ...new Set(of('connecting').map((e) => e.connectionId)),
    ]);
  });

  it('backs off exponentially while the endpoint keeps failing, and never gives up', async () => {
    const { server, of, waitFor } = await setup({}, { random: () => 1, backoffBaseMs: 40, backoffCapMs: 160 });
    server.refuseNext(4);
    server.closeAll({ abrupt: true });
    await waitFor('reconnect after 4 refusals', () => of('subscribed').length === 2, 10_000);
    expect(of('reconnecting').map((e) => e.delayMs)).toEqual([40, 80, 160, 160, 160]);
    const times = server.connectionTimes.slice(1);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    // each wait at least the chosen delay (timers never fire early)
    expect(gaps.every((g, i) => g >= ([80, 160, 160, 160][i] ?? 0) - 5)).toBe(true);
  });

  it('loses nothing in a burst of 10,000 tickers a second, matches alongside', async () => {
    const { server, of, gaps, waitFor } = await setup({ cascadeEvery: null }, { heartbeatTimeoutMs: 3_000 });
    await server.burst('BTC-USD', 10_000, 10_000);
    await waitFor('10,000 ticks', () => of('tick').length === 10_000, 20_000);
    const ids = of('tick').map((e) => e.tick.trade_id as number);
    expect(ids.every((s, i) => i === 0 || s === (ids[i - 1] as number) + 1)).toBe(true);
    expect(server.state('BTC-USD')).toMatchObject({ tickersSent: 10_000, matchesSent: 10_000 });
    expect(gaps('sequence_gap')).toEqual([]);
  });

  it('with WS_GAP_DETECTION=none, subscribes without matches, records no sequence_gap but still outages', async () => {
    const { server, of, gaps, waitFor } = await setup({}, { gapDetection: 'none' });
    expect(server.received).toEqual([
      { type: 'subscribe', product_ids: ['BTC-USD', 'ETH-USD'], channels: ['ticker', 'heartbeat'] },
    ]);
    server.trades('BTC-USD', 2);
    server.dropNext('BTC-USD', 2);
    server.trades('BTC-USD', 3);
    await waitFor('3 ticks', () => of('tick').length === 3);
    server.closeAll({ abrupt: true });
    server.trades('BTC-USD', 2);
    await waitFor('disconnect records', () => gaps('disconnected').length === 2);
    expect(gaps('disconnected').find((e) => e.gap.productId === 'BTC-USD')?.tick).toMatchObject({
      gap_from_trade_id: 100_006,
      gap_to_trade_id: 100_007,
    });
    expect(gaps('sequence_gap')).toEqual([]);
  });

  it('resolves on abort and records an outage still open at shutdown', async () => {
    server = await startFakeCoinbaseWs({ heartbeatIntervalMs: 100 });
    const feed = runFeed(server);
    await feed.waitFor('subscribed', () => feed.of('subscribed').length === 1);
    await server.close();
    server = undefined;
    await feed.waitFor('disconnected', () => feed.of('disconnected').length >= 1);
    await feed.stop();
    expect(feed.of('gap').map((e) => e.tick.reason)).toEqual(['disconnected', 'disconnected']);
    expect(feed.of('gap').every((e) => e.tick.gap_from_trade_id === null && e.gap.tradesLost === null)).toBe(true);
  });

  it('a consumer that throws stops the run with that error, never silently', async () => {
    server = await startFakeCoinbaseWs({ heartbeatIntervalMs: 100 });
    const feed = new CoinbaseWsFeed({ url: server.url, productIds: ['BTC-USD'] });
    const boom = new Error('spool full');
    const run = feed.run((e) => {
      if (e.type === 'tick') throw boom;
    }, new AbortController().signal);
    await vi.waitFor(() => expect(server?.openConnections).toBe(1));
    await vi.waitFor(() => expect(server?.received).toHaveLength(1));
    server.trades('BTC-USD', 1);
    await expect(run).rejects.toBe(boom);
  });
});
