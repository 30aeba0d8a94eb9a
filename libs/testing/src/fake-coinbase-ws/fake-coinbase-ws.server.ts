import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket, type RawData } from 'ws';

/**
 * A local stand-in for Coinbase Exchange's WebSocket feed (`wss://ws-feed.exchange.coinbase.com`, shared/REFERENCE.md):
 * the subscribe handshake with its 5 s window, `ticker` messages with per-product sequence numbers and trade ids,
 * a `heartbeat` per product every second, and faults a test can switch on (dropped sequence numbers, silent stalls,
 * abrupt closes, bursts, out-of-order delivery). Prices are deterministic: trade k of a product always has the same price.
 *
 * The market is global, like the real feed: every subscribed connection sees the same sequence numbers, so a client
 * that reconnects sees the jump over what it missed.
 */
export interface FakeCoinbaseWsOptions {
  /** Products the feed knows; subscribing to another one gets an `error` message. Default BTC-USD, ETH-USD. */
  products?: readonly string[];
  /** Heartbeat period per product and connection. Default 1000 ms (the real feed's). */
  heartbeatIntervalMs?: number;
  /** A connection that has not subscribed after this long is closed. Default 5000 ms (the real feed's). */
  subscribeTimeoutMs?: number;
  /** Generate one trade per product this often; null (default) means trades come only from the test's calls. */
  tradeIntervalMs?: number | null;
  /** Send the product's last ticker right after a subscription, as the real ticker channel does. Default true. */
  snapshotOnSubscribe?: boolean;
  /** Listen port on 127.0.0.1; 0 (default) lets the kernel choose. */
  port?: number;
}

/** The server's view of one product: the last sequence and trade id it has handed out. */
export interface FakeProductState {
  productId: string;
  sequence: number;
  tradeId: number;
  /** Tickers actually written to at least one socket (dropped ones excluded). */
  tickersSent: number;
}

interface Client {
  id: number;
  socket: WebSocket;
  subscribed: Set<string>;
  heartbeat: boolean;
  ticker: boolean;
  stalled: boolean;
  timers: NodeJS.Timeout[];
}

interface Product {
  productId: string;
  sequence: number;
  tradeId: number;
  tickersSent: number;
  lastTicker: Record<string, unknown> | null;
  dropNext: number;
  /** A held-back ticker: sent after the next one, so the two arrive out of order. */
  swapNext: boolean;
  held: Record<string, unknown> | null;
}

const BASE_PRICES: Record<string, number> = { 'BTC-USD': 97_000, 'ETH-USD': 3_500 };

/** The deterministic price of trade `tradeId`: a bounded zig-zag around a per-product base, in cents. */
export function fakeTradePrice(productId: string, tradeId: number): string {
  const base = BASE_PRICES[productId] ?? 100;
  const cents = Math.round(base * 100) + (((tradeId * 7_919) % 20_001) - 10_000);
  return (cents / 100).toFixed(2);
}

/** A running fake feed; `close()` it in `afterEach`/`afterAll`. */
export class FakeCoinbaseWs {
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly products = new Map<string, Product>();
  private readonly options: Required<Omit<FakeCoinbaseWsOptions, 'port' | 'products'>>;
  private tradeTimer: NodeJS.Timeout | undefined;
  private nextClientId = 1;
  private refuse = 0;
  /** Connections accepted so far (including refused ones), with their accept times: tests read backoff from them. */
  readonly connectionTimes: number[] = [];
  /** Every client message received, parsed (or the raw text when it was not JSON). */
  readonly received: unknown[] = [];

  private constructor(wss: WebSocketServer, options: FakeCoinbaseWsOptions) {
    this.wss = wss;
    this.options = {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1_000,
      subscribeTimeoutMs: options.subscribeTimeoutMs ?? 5_000,
      tradeIntervalMs: options.tradeIntervalMs ?? null,
      snapshotOnSubscribe: options.snapshotOnSubscribe ?? true,
    };
    for (const productId of options.products ?? ['BTC-USD', 'ETH-USD']) {
      // sequences start high and differ per product, as on the real feed, so a client cannot assume they start at 1
      const start = productId === 'BTC-USD' ? 1_000_000 : 2_000_000;
      this.products.set(productId, {
        productId,
        sequence: start,
        tradeId: start / 10,
        tickersSent: 0,
        lastTicker: null,
        dropNext: 0,
        swapNext: false,
        held: null,
      });
    }
    wss.on('connection', (socket) => this.accept(socket));
    if (this.options.tradeIntervalMs !== null) {
      this.tradeTimer = setInterval(() => {
        for (const productId of this.products.keys()) this.trade(productId);
      }, this.options.tradeIntervalMs);
    }
  }

  /** Start listening on 127.0.0.1. */
  static async start(options: FakeCoinbaseWsOptions = {}): Promise<FakeCoinbaseWs> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0, perMessageDeflate: false });
    await once(wss, 'listening');
    return new FakeCoinbaseWs(wss, options);
  }

  /** `ws://127.0.0.1:<port>`: pass as `COINBASE_WS_URL`. */
  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  /** Sockets open now. */
  get openConnections(): number {
    return [...this.clients].filter((c) => c.socket.readyState === WebSocket.OPEN).length;
  }

  /** Sequence, trade id and tickers sent so far for a product. */
  state(productId: string): FakeProductState {
    const p = this.product(productId);
    return { productId, sequence: p.sequence, tradeId: p.tradeId, tickersSent: p.tickersSent };
  }

  /** One trade: the next sequence number and trade id, broadcast as a ticker to every subscribed connection. */
  trade(productId: string): void {
    const p = this.product(productId);
    p.sequence += 1;
    p.tradeId += 1;
    const price = fakeTradePrice(productId, p.tradeId);
    const message = {
      type: 'ticker',
      sequence: p.sequence,
      product_id: productId,
      price,
      open_24h: fakeTradePrice(productId, 1),
      volume_24h: '12345.67890000',
      low_24h: fakeTradePrice(productId, 3),
      high_24h: fakeTradePrice(productId, 2),
      volume_30d: '345678.12345678',
      best_bid: (Number(price) - 0.01).toFixed(2),
      best_bid_size: '0.50000000',
      best_ask: price,
      best_ask_size: '0.25000000',
      // the side of the maker order, as on the real feed
      side: p.tradeId % 2 === 0 ? 'buy' : 'sell',
      time: new Date().toISOString().replace('Z', '123Z'),
      trade_id: p.tradeId,
      last_size: '0.00100000',
    };
    p.lastTicker = message;
    if (p.dropNext > 0) {
      p.dropNext -= 1;
      return;
    }
    if (p.swapNext) {
      p.swapNext = false;
      p.held = message;
      return;
    }
    this.broadcastTicker(productId, message);
    p.tickersSent += 1;
    if (p.held) {
      const held = p.held;
      p.held = null;
      this.broadcastTicker(productId, held);
      p.tickersSent += 1;
    }
  }

  /** `n` trades at once. */
  trades(productId: string, n: number): void {
    for (let i = 0; i < n; i += 1) this.trade(productId);
  }

  /**
   * `count` trades at `perSecond`, in slices every `sliceMs` (default 10 ms: a burst of 10,000/s is 100 messages per
   * slice; 1 ms is closer to an evenly spread stream). Resolves when the last one has been written to the sockets.
   */
  async burst(productId: string, count: number, perSecond: number, sliceMs = 10): Promise<void> {
    const perSlice = Math.max(1, Math.round((perSecond * sliceMs) / 1_000));
    const started = Date.now();
    let sent = 0;
    while (sent < count) {
      const n = Math.min(perSlice, count - sent);
      this.trades(productId, n);
      sent += n;
      const due = started + (sent / perSecond) * 1_000;
      const wait = due - Date.now();
      await new Promise((r) => (wait > 0 ? setTimeout(r, wait) : setImmediate(r)));
    }
  }

  /** The next `n` tickers of the product take their sequence numbers and trade ids but are never sent. */
  dropNext(productId: string, n: number): void {
    this.product(productId).dropNext += n;
  }

  /** The next two tickers of the product are sent in swapped order (the later sequence first). */
  swapNext(productId: string): void {
    this.product(productId).swapNext = true;
  }

  /** Every connection open now goes silent: the socket stays open, nothing more is sent on it. New ones are healthy. */
  stallAll(): void {
    for (const c of this.clients) c.stalled = true;
  }

  /**
   * Close every open connection. `abrupt` destroys the TCP socket with no close frame (the client sees code 1006);
   * otherwise a close frame with `code` is sent.
   */
  closeAll(options: { abrupt?: boolean; code?: number } = {}): void {
    for (const c of this.clients) {
      if (options.abrupt) c.socket.terminate();
      else c.socket.close(options.code ?? 1011, 'fake server closing');
    }
  }

  /** The next `n` connections are accepted and destroyed at once (a flapping endpoint). */
  refuseNext(n: number): void {
    this.refuse += n;
  }

  /** Stop the trade generator, close every socket and the server. */
  async close(): Promise<void> {
    if (this.tradeTimer) clearInterval(this.tradeTimer);
    for (const c of this.clients) this.drop(c);
    for (const socket of this.wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private product(productId: string): Product {
    const p = this.products.get(productId);
    if (!p) throw new Error(`fake feed: unknown product ${productId}; known: ${[...this.products.keys()].join(', ')}`);
    return p;
  }

  private accept(socket: WebSocket): void {
    this.connectionTimes.push(Date.now());
    if (this.refuse > 0) {
      this.refuse -= 1;
      socket.terminate();
      return;
    }
    const client: Client = {
      id: this.nextClientId++,
      socket,
      subscribed: new Set(),
      heartbeat: false,
      ticker: false,
      stalled: false,
      timers: [],
    };
    this.clients.add(client);
    const subscribeDeadline = setTimeout(() => {
      if (client.subscribed.size === 0) socket.close(1008, 'subscribe within 5 seconds');
    }, this.options.subscribeTimeoutMs);
    client.timers.push(subscribeDeadline);
    socket.on('message', (data) => this.onMessage(client, data));
    socket.on('close', () => this.drop(client));
    socket.on('error', () => this.drop(client));
  }

  private drop(client: Client): void {
    for (const t of client.timers) clearTimeout(t);
    client.timers = [];
    this.clients.delete(client);
  }

  private send(client: Client, message: unknown): void {
    if (client.stalled || client.socket.readyState !== WebSocket.OPEN) return;
    client.socket.send(JSON.stringify(message));
  }

  private broadcastTicker(productId: string, message: Record<string, unknown>): void {
    for (const c of this.clients) if (c.ticker && c.subscribed.has(productId)) this.send(c, message);
  }

  private onMessage(client: Client, data: RawData): void {
    const text = data.toString();
    let message: { type?: unknown; product_ids?: unknown; channels?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
      this.received.push(message);
    } catch {
      this.received.push(text);
      this.send(client, { type: 'error', message: 'Failed to parse message', reason: 'malformed JSON' });
      return;
    }
    if (message.type !== 'subscribe') {
      this.send(client, {
        type: 'error',
        message: 'Failed to subscribe',
        reason: `unsupported type ${String(message.type)}`,
      });
      return;
    }
    // channels are names, or objects { name, product_ids } as the real feed also accepts
    const top = Array.isArray(message.product_ids) ? (message.product_ids as string[]) : [];
    const channels = Array.isArray(message.channels) ? (message.channels as unknown[]) : [];
    const wanted: Array<{ name: string; productIds: string[] }> = channels.map((ch) =>
      typeof ch === 'string'
        ? { name: ch, productIds: top }
        : {
            name: String((ch as { name?: unknown }).name),
            productIds: (ch as { product_ids?: string[] }).product_ids ?? top,
          },
    );
    for (const { name, productIds } of wanted) {
      if (name !== 'ticker' && name !== 'heartbeat') {
        this.send(client, { type: 'error', message: 'Failed to subscribe', reason: `${name} is not a valid channel` });
        return;
      }
      for (const id of productIds) {
        if (!this.products.has(id)) {
          this.send(client, { type: 'error', message: 'Failed to subscribe', reason: `${id} is not a valid product` });
          return;
        }
      }
    }
    if (wanted.length === 0 || wanted.every((w) => w.productIds.length === 0)) {
      this.send(client, { type: 'error', message: 'Failed to subscribe', reason: 'no product ids or channels' });
      return;
    }
    const fresh = new Set<string>();
    for (const { name, productIds } of wanted) {
      if (name === 'ticker') client.ticker = true;
      if (name === 'heartbeat') client.heartbeat = true;
      for (const id of productIds) {
        if (!client.subscribed.has(id)) fresh.add(id);
        client.subscribed.add(id);
      }
    }
    const ids = [...client.subscribed];
    this.send(client, {
      type: 'subscriptions',
      channels: [
        ...(client.ticker ? [{ name: 'ticker', product_ids: ids }] : []),
        ...(client.heartbeat ? [{ name: 'heartbeat', product_ids: ids }] : []),
      ],
    });
    for (const id of fresh) {
      const p = this.product(id);
      if (client.ticker && this.options.snapshotOnSubscribe && p.lastTicker) this.send(client, p.lastTicker);
      if (client.heartbeat) this.startHeartbeat(client, p);
    }
  }

  private startHeartbeat(client: Client, p: Product): void {
    const timer = setInterval(() => {
      // a heartbeat reports the product's latest sequence and trade id without taking a sequence number itself
      this.send(client, {
        type: 'heartbeat',
        sequence: p.sequence,
        last_trade_id: p.tradeId,
        product_id: p.productId,
        time: new Date().toISOString(),
      });
    }, this.options.heartbeatIntervalMs);
    client.timers.push(timer as unknown as NodeJS.Timeout);
  }
}

/** Start a fake Coinbase Exchange WebSocket feed on 127.0.0.1. */
export function startFakeCoinbaseWs(options: FakeCoinbaseWsOptions = {}): Promise<FakeCoinbaseWs> {
  return FakeCoinbaseWs.start(options);
}
