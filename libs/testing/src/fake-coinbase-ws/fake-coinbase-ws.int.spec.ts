import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fakeTradePrice, startFakeCoinbaseWs, type FakeCoinbaseWs } from './fake-coinbase-ws.server';

let server: FakeCoinbaseWs | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function client(url: string) {
  const socket = new WebSocket(url);
  const messages: Array<Record<string, unknown>> = [];
  socket.on('message', (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>));
  await once(socket, 'open');
  return { socket, messages };
}

const until = async (check: () => boolean) => {
  const deadline = Date.now() + 3_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('fake Coinbase Exchange feed', () => {
  it('closes a connection that does not subscribe in time', async () => {
    server = await startFakeCoinbaseWs({ subscribeTimeoutMs: 100 });
    const { socket } = await client(server.url);
    const [code] = (await once(socket, 'close')) as [number];
    expect(code).toBe(1008);
  });

  it('answers a subscribe with the subscriptions, then heartbeats carrying sequence and last trade id', async () => {
    server = await startFakeCoinbaseWs({ heartbeatIntervalMs: 50 });
    server.trades('BTC-USD', 2);
    const { socket, messages } = await client(server.url);
    socket.send(JSON.stringify({ type: 'subscribe', product_ids: ['BTC-USD'], channels: ['ticker', 'heartbeat'] }));
    await until(() => messages.some((m) => m.type === 'heartbeat'));
    expect(messages[0]).toEqual({
      type: 'subscriptions',
      channels: [
        { name: 'ticker', product_ids: ['BTC-USD'] },
        { name: 'heartbeat', product_ids: ['BTC-USD'] },
      ],
    });
    // the ticker channel opens with the last trade, like the real one
    expect(messages[1]).toMatchObject({
      type: 'ticker',
      sequence: 1_000_002,
      trade_id: 100_002,
      price: fakeTradePrice('BTC-USD', 100_002),
    });
    expect(messages.find((m) => m.type === 'heartbeat')).toMatchObject({
      sequence: 1_000_002,
      last_trade_id: 100_002,
      product_id: 'BTC-USD',
    });
    socket.close();
  });

  it('refuses an unknown product with an error message', async () => {
    server = await startFakeCoinbaseWs();
    const { socket, messages } = await client(server.url);
    socket.send(JSON.stringify({ type: 'subscribe', product_ids: ['DOGE-XYZ'], channels: ['ticker'] }));
    await until(() => messages.length > 0);
    expect(messages[0]).toEqual({
      type: 'error',
      message: 'Failed to subscribe',
      reason: 'DOGE-XYZ is not a valid product',
    });
    socket.close();
  });

  it('gives trade k the same price every time', () => {
    expect(fakeTradePrice('BTC-USD', 42)).toBe(fakeTradePrice('BTC-USD', 42));
    expect(fakeTradePrice('BTC-USD', 42)).toMatch(/^\d+\.\d{2}$/);
    expect(fakeTradePrice('BTC-USD', 42)).not.toBe(fakeTradePrice('BTC-USD', 43));
  });
});
