import { afterEach, describe, expect, it } from 'vitest';
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
    heartbeatTimeoutMs: 400,
    backoffBaseMs: 50,
    backoffCapMs: 400,
    ...options,
  });
  const done = feed.run((e) => events.push(e), controller.signal);
  const of = <T extends WsFeedEvent['type']>(type: T) =>
    events.filter((e): e is Extract<WsFeedEvent, { type: T }> => e.type === type);
  async function waitFor(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > until)
        throw new Error(`timed out waiting for ${what}; events: ${events.map((e) => e.type).join(',')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const stop = async () => {
    controller.abort();
    await done;
  };
  return { events, of, waitFor, stop, done, feed };
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

describe('CoinbaseWsFeed against the fake Exchange feed', () => {
  it('subscribes to ticker and heartbeat for every product and records each ticker', async () => {
    const { server, of, waitFor } = await setup();
    expect(server.received).toEqual([
      { type: 'subscribe', product_ids: ['BTC-USD', 'ETH-USD'], channels: ['ticker', 'heartbeat'] },
    ]);
    server.trades('BTC-USD', 3);
    server.trades('ETH-USD', 2);
    await waitFor('5 ticks', () => of('tick').length === 5);
    const ticks = of('tick').map((e) => e.tick);
    for (const t of ticks) expect(PriceTickSchema.parse(t)).toEqual(t);
    const btc = ticks.filter((t) => t.product_id === 'BTC-USD');
    expect(btc.map((t) => t.sequence)).toEqual([1_000_001, 1_000_002, 1_000_003]);
    expect(btc.map((t) => t.trade_id)).toEqual([100_001, 100_002, 100_003]);
    await waitFor('heartbeats of both products', () => new Set(of('heartbeat').map((e) => e.productId)).size === 2);
    expect(of('gap')).toEqual([]);
    // every event names its connection
    expect(new Set(of('tick').map((e) => e.connectionId)).size).toBe(1);
  });

  it('records dropped sequence numbers as one sequence_gap record with the missing range', async () => {
    const { server, of, waitFor } = await setup();
    server.trades('BTC-USD', 2);
    server.dropNext('BTC-USD', 3);
    server.trades('BTC-USD', 4);
    await waitFor('ticks', () => of('tick').length === 3);
    expect(of('gap').map((e) => e.tick)).toEqual([
      expect.objectContaining({
        status: 'missed',
        reason: 'sequence_gap',
        gap_from_sequence: 1_000_003,
        gap_to_sequence: 1_000_005,
        gap_from_trade_id: 100_003,
        gap_to_trade_id: 100_005,
      }),
    ]);
    expect(PriceTickSchema.parse(of('gap')[0]?.tick)).toBeTruthy();
  });

  it('finds messages lost in a quiet market from the heartbeat', async () => {
    const { server, of, waitFor } = await setup();
    server.trades('ETH-USD', 1);
    server.dropNext('ETH-USD', 2);
    server.trades('ETH-USD', 2);
    await waitFor('gap from heartbeat', () => of('gap').length === 1);
    expect(of('gap')[0]?.tick).toMatchObject({
      product_id: 'ETH-USD',
      gap_from_sequence: 2_000_002,
      gap_to_sequence: 2_000_003,
    });
  });

  it('records out-of-order tickers as late data without inventing a gap', async () => {
    const { server, of, waitFor } = await setup();
    server.trades('BTC-USD', 1);
    server.swapNext('BTC-USD');
    server.trades('BTC-USD', 3);
    await waitFor('4 ticks', () => of('tick').length === 4);
    expect(of('tick').map((e) => e.tick.sequence)).toEqual([1_000_001, 1_000_003, 1_000_002, 1_000_004]);
    expect(of('late')).toHaveLength(1);
    // the jump to ...003 was a gap of one when seen; the late ...002 then fills it: both are data
    expect(of('gap').map((e) => [e.gap.fromSequence, e.gap.toSequence])).toEqual([[1_000_002, 1_000_002]]);
  });

  it('tells a quiet market from a dead connection: no trades is fine, no heartbeat reconnects', async () => {
    const { server, of, waitFor } = await setup();
    server.trades('BTC-USD', 1);
    await new Promise((r) => setTimeout(r, 900)); // > 2x the heartbeat timeout with no trade at all
    expect(of('disconnected')).toEqual([]);
    server.stallAll();
    await waitFor('reconnect', () => of('subscribed').length === 2);
    // the heartbeat timeout (400 ms), not a close, ended the stalled connection
    const cause = of('disconnected')[0]?.error;
    expect(cause).toBeInstanceOf(WsStaleConnectionError);
    expect((cause as WsStaleConnectionError).timeoutMs).toBe(400);
    expect((cause as WsStaleConnectionError).silentMs).toBeGreaterThan(400);
    expect(server.openConnections).toBe(1);
    // the outage is data: one disconnected record per product once the feed speaks again
    await waitFor('disconnect records', () => of('gap').length === 2);
    const spans = of('gap').map((e) => e.tick);
    expect(spans.map((t) => t.reason)).toEqual(['disconnected', 'disconnected']);
    for (const t of spans) {
      expect(PriceTickSchema.parse(t)).toEqual(t);
      expect(Date.parse(t.gap_end as string)).toBeGreaterThanOrEqual(Date.parse(t.gap_start as string));
    }
  });

  it('reconnects after an abrupt close, recording the outage with the sequence range it covered', async () => {
    const { server, of, waitFor } = await setup();
    server.trades('BTC-USD', 2);
    await waitFor('2 ticks', () => of('tick').length === 2);
    server.closeAll({ abrupt: true });
    server.trades('BTC-USD', 3); // traded while nobody listened
    await waitFor('reconnect', () => of('subscribed').length === 2);
    await waitFor('disconnect records', () => of('gap').length === 2);
    expect(of('disconnected')[0]?.error).toMatchObject({ name: 'WsClosedError', code: 1006 });
    const btc = of('gap').find((e) => e.gap.productId === 'BTC-USD');
    expect(btc?.tick).toMatchObject({
      reason: 'disconnected',
      gap_from_sequence: 1_000_003,
      gap_to_sequence: 1_000_004,
    });
    // the snapshot ticker after re-subscribing brings the last trade (...005); nothing else is missing
    await waitFor('snapshot', () => of('tick').some((e) => e.tick.sequence === 1_000_005));
    expect(of('gap').filter((e) => e.gap.reason === 'sequence_gap')).toEqual([]);
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

  it('loses nothing in a burst of 10,000 messages a second', async () => {
    const { server, of, waitFor } = await setup({}, { heartbeatTimeoutMs: 3_000 });
    await server.burst('BTC-USD', 10_000, 10_000);
    await waitFor('10,000 ticks', () => of('tick').length === 10_000, 10_000);
    const seqs = of('tick').map((e) => e.tick.sequence as number);
    expect(new Set(seqs).size).toBe(10_000);
    expect(seqs.every((s, i) => i === 0 || s === (seqs[i - 1] as number) + 1)).toBe(true);
    expect(of('gap')).toEqual([]);
    expect(server.state('BTC-USD').tickersSent).toBe(10_000);
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
    expect(feed.of('gap').every((e) => e.tick.gap_from_sequence === null)).toBe(true);
  });

  it('a consumer that throws stops the run with that error, never silently', async () => {
    server = await startFakeCoinbaseWs({ heartbeatIntervalMs: 100 });
    const feed = new CoinbaseWsFeed({ url: server.url, productIds: ['BTC-USD'] });
    const boom = new Error('spool full');
    const run = feed.run((e) => {
      if (e.type === 'tick') throw boom;
    }, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 100));
    server.trades('BTC-USD', 1);
    await expect(run).rejects.toBe(boom);
  });
});
