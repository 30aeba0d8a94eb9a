import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { fakeTradePrice, startFakeCoinbaseWs, type FakeCoinbaseWs } from './fake-coinbase-ws.server';

let server: FakeCoinbaseWs | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type Message = Record<string, unknown>;

async function client(url: string, channels: string[] = ['ticker', 'heartbeat', 'matches']) {
  const socket = new WebSocket(url);
  const messages: Message[] = [];
  socket.on('message', (d) => messages.push(JSON.parse(d.toString()) as Message));
  await once(socket, 'open');
  socket.send(JSON.stringify({ type: 'subscribe', product_ids: ['BTC-USD'], channels }));
  await vi.waitFor(() => expect(messages.some((m) => m.type === 'subscriptions')).toBe(true));
  const of = (type: string) => messages.filter((m) => m.type === type);
  return { socket, messages, of };
}

describe('fake Coinbase Exchange feed', () => {
  it('closes a connection that does not subscribe in time', async () => {
    server = await startFakeCoinbaseWs({ subscribeTimeoutMs: 100 });
    const socket = new WebSocket(server.url);
    const [code] = (await once(socket, 'close')) as [number];
    expect(code).toBe(1008);
  });

  it(
    'opens matches with last_match and ticker with the last ticker; ' + 'heartbeats repeat the latest numbers',
    async () => {
      server = await startFakeCoinbaseWs({ heartbeatIntervalMs: 50 });
      server.trades('BTC-USD', 2);
      const state = server.state('BTC-USD');
      const { socket, messages, of } = await client(server.url);
      await vi.waitFor(() => expect(of('heartbeat').length).toBeGreaterThan(0));
      expect(messages[0]).toEqual({
        type: 'subscriptions',
        channels: ['ticker', 'heartbeat', 'matches'].map((name) => ({ name, product_ids: ['BTC-USD'] })),
      });
      expect(messages[1]).toMatchObject({ type: 'last_match', trade_id: 100_002, sequence: state.sequence });
      expect(messages[2]).toMatchObject({
        type: 'ticker',
        sequence: state.sequence,
        trade_id: 100_002,
        price: fakeTradePrice('BTC-USD', 100_002),
      });
      expect(of('heartbeat')[0]).toMatchObject({
        sequence: state.sequence,
        last_trade_id: 100_002,
        product_id: 'BTC-USD',
      });
      socket.close();
    },
  );

  it(
    'numbers like the live feed: sequences jump over book traffic, ' +
      'cascades batch into one ticker, matches are contiguous',
    async () => {
      server = await startFakeCoinbaseWs({ heartbeatIntervalMs: 50 });
      const { socket, of } = await client(server.url);
      server.trades('BTC-USD', 5);
      server.cascade('BTC-USD', 4);
      server.trades('BTC-USD', 3);
      await vi.waitFor(() => expect(of('ticker')).toHaveLength(9));
      await vi.waitFor(() => expect(of('match')).toHaveLength(12));
      const tickers = of('ticker');
      const matches = of('match');
      const seq = tickers.map((t) => t.sequence as number);
      // order-book messages between tickers take sequence numbers: a ticker-only subscriber sees jumps, nothing lost
      expect(seq.some((s, i) => i > 0 && s > (seq[i - 1] as number) + 1)).toBe(true);
      expect(seq.every((s, i) => i === 0 || s > (seq[i - 1] as number))).toBe(true);
      // the cascade of 4 is one ticker whose trade id jumps by 4
      const tradeIds = tickers.map((t) => t.trade_id as number);
      expect(tradeIds.slice(4, 7)).toEqual([100_005, 100_009, 100_010]);
      // every trade is a match, trade ids contiguous; a ticker carries its last match's sequence
      expect(matches.map((m) => m.trade_id)).toEqual(Array.from({ length: 12 }, (_, i) => 100_001 + i));
      for (const t of tickers) {
        expect(matches.find((m) => m.trade_id === t.trade_id)).toMatchObject({ sequence: t.sequence, price: t.price });
      }
      // heartbeats take no number: they repeat the latest
      const last = server.state('BTC-USD');
      await vi.waitFor(() => expect(of('heartbeat').at(-1)).toMatchObject({ last_trade_id: last.tradeId }));
      expect(of('heartbeat').at(-1)).toMatchObject({ sequence: last.sequence });
      expect(last).toMatchObject({ tickersSent: 9, matchesSent: 12 });
      socket.close();
    },
  );

  it('serves matches only to connections that subscribed to them', async () => {
    server = await startFakeCoinbaseWs({ heartbeatIntervalMs: 50 });
    const plain = await client(server.url, ['ticker', 'heartbeat']);
    const full = await client(server.url);
    server.trades('BTC-USD', 3);
    await vi.waitFor(() => expect(full.of('match')).toHaveLength(3));
    await vi.waitFor(() => expect(plain.of('ticker')).toHaveLength(3));
    await vi.waitFor(() => expect(plain.of('heartbeat').length).toBeGreaterThan(0));
    expect(plain.of('match')).toEqual([]);
    plain.socket.close();
    full.socket.close();
  });

  it(
    'injects a real loss: ' + 'the dropped trades are sent on no channel and listed with their exact trade ids',
    async () => {
      server = await startFakeCoinbaseWs({ heartbeatIntervalMs: 50 });
      const { socket, of } = await client(server.url);
      server.trades('BTC-USD', 2);
      server.dropNext('BTC-USD', 3);
      server.cascade('BTC-USD', 3); // the whole cascade is lost, its ticker with it
      server.trades('BTC-USD', 2);
      await vi.waitFor(() => expect(of('match')).toHaveLength(4));
      expect(of('match').map((m) => m.trade_id)).toEqual([100_001, 100_002, 100_006, 100_007]);
      await vi.waitFor(() => expect(of('ticker')).toHaveLength(4));
      expect(of('ticker').map((m) => m.trade_id)).toEqual([100_001, 100_002, 100_006, 100_007]);
      expect(server.injectedLosses).toEqual([{ productId: 'BTC-USD', fromTradeId: 100_003, toTradeId: 100_005 }]);
      socket.close();
    },
  );

  it('a loss of the first matches of a cascade keeps its ticker', async () => {
    server = await startFakeCoinbaseWs({ heartbeatIntervalMs: 50 });
    const { socket, of } = await client(server.url);
    server.dropNext('BTC-USD', 2);
    server.cascade('BTC-USD', 3);
    await vi.waitFor(() => expect(of('ticker')).toHaveLength(1));
    expect(of('match').map((m) => m.trade_id)).toEqual([100_003]);
    expect(server.injectedLosses).toEqual([{ productId: 'BTC-USD', fromTradeId: 100_001, toTradeId: 100_002 }]);
    socket.close();
  });

  it('refuses an unknown product and an unknown channel with an error message', async () => {
    server = await startFakeCoinbaseWs();
    const socket = new WebSocket(server.url);
    const messages: Message[] = [];
    socket.on('message', (d) => messages.push(JSON.parse(d.toString()) as Message));
    await once(socket, 'open');
    socket.send(JSON.stringify({ type: 'subscribe', product_ids: ['DOGE-XYZ'], channels: ['ticker'] }));
    socket.send(JSON.stringify({ type: 'subscribe', product_ids: ['BTC-USD'], channels: ['level9'] }));
    await vi.waitFor(() => expect(messages).toHaveLength(2));
    expect(messages).toEqual([
      { type: 'error', message: 'Failed to subscribe', reason: 'DOGE-XYZ is not a valid product' },
      { type: 'error', message: 'Failed to subscribe', reason: 'level9 is not a valid channel' },
    ]);
    socket.close();
  });

  it('gives trade k the same price every time', () => {
    expect(fakeTradePrice('BTC-USD', 42)).toBe(fakeTradePrice('BTC-USD', 42));
    expect(fakeTradePrice('BTC-USD', 42)).toMatch(/^\d+\.\d{2}$/);
    expect(fakeTradePrice('BTC-USD', 42)).not.toBe(fakeTradePrice('BTC-USD', 43));
  });
});
