import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket, type RawData } from 'ws';

/**
 * A local stand-in for Coinbase Exchange's WebSocket feed (`wss://ws-feed.exchange.coinbase.com`, shared/REFERENCE.md),
 * numbered as the live feed is:
 * - each product has one sequence counter over every order-book message; the order-book traffic between trades
 *   (opens, changes, dones nobody here subscribes to) advances it, so consecutive tickers jump in sequence;
 * - `matches` carries every trade with contiguous trade ids (`last_match` first after subscribing);
 * - `ticker` reports the last match of a trade event: a cascade of several matches is one ticker, whose `trade_id`
 *   jumps by the cascade's size;
 * - `heartbeat` (per product, every second) repeats the latest sequence and `last_trade_id`, taking no number itself.
 *
 * Real losses can be injected (`dropNext`: the messages of the next trades are never sent, `injectedLosses` lists
 * the trade ids), as can stalls, abrupt closes, refusals, bursts and out-of-order delivery. Prices are
 * deterministic: trade k of a product always has the same price. The market is global, like the real feed: every
 * subscribed connection sees the same numbers, so a client that reconnects sees the jump over what it missed.
 */
export interface FakeCoinbaseWsOptions {
  /** Products the feed knows; subscribing to another one gets an `error` message. Default BTC-USD, ETH-USD. */
  products?: readonly string[];
  /** Heartbeat period per product and connection. Default 1000 ms (the real feed's). */
  heartbeatIntervalMs?: number;
  /** A connection that has not subscribed after this long is closed. Default 5000 ms (the real feed's). */
  subscribeTimeoutMs?: number;
  /** Generate one trade event per product this often; null (default) means trades come only from the test's calls. */
  tradeIntervalMs?: number | null;
  /**
   * Generated events (the timer's and `burst`'s): every `cascadeEvery`-th one is a cascade of `cascadeSize` matches
   * batched into one ticker, as the live ticker channel does. Default 4 and 3; null: single trades only.
   */
  cascadeEvery?: number | null;
  cascadeSize?: number;
  /**
   * Order-book messages before each trade event advance the sequence by 0..`bookTraffic` (a fixed cycle), so
   * ticker sequences jump as on the live feed. Default 7; 0 numbers trades contiguously.
   */
  bookTraffic?: number;
  /**
   * Match messages leave this much later than the ticker and heartbeats of the same moment (the live feed's
   * channels do not arrive in lock step), so a heartbeat can announce a trade whose match is still in flight.
   * Default 0.
   */
  matchDelayMs?: number;
  /** Send the product's last ticker right after a subscription, as the real ticker channel does. Default true. */
  snapshotOnSubscribe?: boolean;
  /** Listen port on 127.0.0.1; 0 (default) lets the kernel choose. */
  port?: number;
}

/** The server's view of one product: the last sequence and trade id it has handed out, and what it sent. */
export interface FakeProductState {
  productId: string;
  sequence: number;
  tradeId: number;
  /** Tickers actually written to the subscribers (dropped ones excluded). */
  tickersSent: number;
  /** Match messages actually written to the subscribers (dropped ones excluded). */
  matchesSent: number;
}

/** One injected loss: the trade ids (inclusive) whose messages were never sent, on every channel. */
export interface FakeLoss {
  productId: string;
  fromTradeId: number;
  toTradeId: number;
}

type Channel = 'ticker' | 'heartbeat' | 'matches';
const CHANNELS: readonly Channel[] = ['ticker', 'heartbeat', 'matches'];

interface Client {
  id: number;
  socket: WebSocket;
  subscribed: Set<string>;
  channels: Set<Channel>;
  stalled: boolean;
  timers: NodeJS.Timeout[];
}

interface Outgoing {
  channel: 'ticker' | 'matches';
  message: Record<string, unknown>;
}

interface Product {
  productId: string;
  sequence: number;
  tradeId: number;
  events: number;
  tickersSent: number;
  matchesSent: number;
  lastTicker: Record<string, unknown> | null;
  lastMatch: Record<string, unknown> | null;
  /** Trades whose messages are still to be lost, and the loss they belong to. */
  dropLeft: number;
  loss: FakeLoss | null;
  /** The next event's messages are held back and sent after the following event's. */
  swapNext: boolean;
  held: Outgoing[] | null;
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
  private readonly delayed = new Set<NodeJS.Timeout>();
  private nextClientId = 1;
  private refuse = 0;
  /** Connections accepted so far (including refused ones), with their accept times: tests read backoff from them. */
  readonly connectionTimes: number[] = [];
  /** Every client message received, parsed (or the raw text when it was not JSON). */
  readonly received: unknown[] = [];
  /** Every loss injected with {@link dropNext} so far, with the exact trade ids lost. */
  readonly injectedLosses: FakeLoss[] = [];

  private constructor(wss: WebSocketServer, options: FakeCoinbaseWsOptions) {
    this.wss = wss;
    this.options = {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1_000,
      subscribeTimeoutMs: options.subscribeTimeoutMs ?? 5_000,
      tradeIntervalMs: options.tradeIntervalMs ?? null,
      cascadeEvery: options.cascadeEvery === undefined ? 4 : options.cascadeEvery,
      cascadeSize: options.cascadeSize ?? 3,
      bookTraffic: options.bookTraffic ?? 7,
      matchDelayMs: options.matchDelayMs ?? 0,
      snapshotOnSubscribe: options.snapshotOnSubscribe ?? true,
    };
    for (const productId of options.products ?? ['BTC-USD', 'ETH-USD']) {
      // sequences start high and differ per product, as on the real feed, so a client cannot assume they start at 1
      const start = productId === 'BTC-USD' ? 1_000_000 : 2_000_000;
      this.products.set(productId, {
        productId,
        sequence: start,
        tradeId: start / 10,
        events: 0,
        tickersSent: 0,
        matchesSent: 0,
        lastTicker: null,
        lastMatch: null,
        dropLeft: 0,
        loss: null,
        swapNext: false,
        held: null,
      });
    }
    wss.on('connection', (socket) => this.accept(socket));
    if (this.options.tradeIntervalMs !== null) {
      this.tradeTimer = setInterval(() => {
        for (const productId of this.products.keys()) this.generated(productId);
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

  /** Sequence, trade id and messages sent so far for a product. */
  state(productId: string): FakeProductState {
    const p = this.product(productId);
    return {
      productId,
      sequence: p.sequence,
      tradeId: p.tradeId,
      tickersSent: p.tickersSent,
      matchesSent: p.matchesSent,
    };
  }

  /** One trade event with a single match: one `match` and one `ticker`. */
  trade(productId: string): void {
    this.cascade(productId, 1);
  }

  /** `n` single trades, one after the other. */
  trades(productId: string, n: number): void {
    for (let i = 0; i < n; i += 1) this.trade(productId);
  }

  /**
   * One taker order sweeping `size` resting orders: `size` matches with consecutive sequences and trade ids, and a
   * single ticker for the last of them (the live ticker channel batches cascades, so its trade id jumps by `size`).
   */
  cascade(productId: string, size: number): void {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`fake feed: cascade size ${size} is not >= 1`);
    const p = this.product(productId);
    p.events += 1;
    // order-book messages between trade events take sequence numbers too
    p.sequence += this.options.bookTraffic === 0 ? 0 : (p.events * 5) % (this.options.bookTraffic + 1);
    const out: Outgoing[] = [];
    let tickerLost = false;
    for (let i = 0; i < size; i += 1) {
      p.sequence += 1;
      p.tradeId += 1;
      const match = this.matchMessage(p);
      p.lastMatch = match;
      if (p.dropLeft > 0) {
        p.dropLeft -= 1;
        (p.loss as FakeLoss).toTradeId = p.tradeId;
        tickerLost = i === size - 1;
        if (p.dropLeft === 0) p.loss = null;
        continue;
      }
      out.push({ channel: 'matches', message: match });
    }
    const ticker = this.tickerMessage(p);
    p.lastTicker = ticker;
    if (!tickerLost) out.push({ channel: 'ticker', message: ticker });
    if (p.swapNext) {
      p.swapNext = false;
      p.held = out;
      return;
    }
    this.deliver(p, out);
    if (p.held) {
      const held = p.held;
      p.held = null;
      this.deliver(p, held);
    }
  }

  /**
   * `count` generated trade events at `perSecond` (cascades as configured), in slices every `sliceMs` (default
   * 10 ms: 10,000/s is 100 events per slice; 1 ms is closer to an evenly spread stream). Resolves when the last one
   * has been written to the sockets.
   */
  async burst(productId: string, count: number, perSecond: number, sliceMs = 10): Promise<void> {
    const perSlice = Math.max(1, Math.round((perSecond * sliceMs) / 1_000));
    const started = Date.now();
    let sent = 0;
    while (sent < count) {
      const n = Math.min(perSlice, count - sent);
      for (let i = 0; i < n; i += 1) this.generated(productId);
      sent += n;
      const due = started + (sent / perSecond) * 1_000;
      const wait = due - Date.now();
      await new Promise((r) => (wait > 0 ? setTimeout(r, wait) : setImmediate(r)));
    }
  }

  /**
   * A real loss: the messages of the product's next `n` trades (their matches, and the ticker of an event whose last
   * match is among them) take their numbers but are never sent, on any connection. Recorded in `injectedLosses`.
   */
  dropNext(productId: string, n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`fake feed: cannot drop ${n} trades`);
    const p = this.product(productId);
    if (!p.loss) {
      p.loss = { productId, fromTradeId: p.tradeId + p.dropLeft + 1, toTradeId: p.tradeId + p.dropLeft };
      this.injectedLosses.push(p.loss);
    }
    p.dropLeft += n;
  }

  /** The messages of the product's next trade event are sent after those of the one following it. */
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
    for (const t of this.delayed) clearTimeout(t);
    for (const c of this.clients) this.drop(c);
    for (const socket of this.wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  /** The next generated event of a product: every `cascadeEvery`-th is a cascade. */
  private generated(productId: string): void {
    const p = this.product(productId);
    const { cascadeEvery, cascadeSize } = this.options;
    if (cascadeEvery !== null && (p.events + 1) % cascadeEvery === 0) this.cascade(productId, cascadeSize);
    else this.trade(productId);
  }

  private matchMessage(p: Product): Record<string, unknown> {
    const hex = p.tradeId.toString(16).padStart(12, '0');
    return {
      type: 'match',
      trade_id: p.tradeId,
      sequence: p.sequence,
      maker_order_id: `00000000-0000-4000-8000-${hex}`,
      taker_order_id: `00000000-0000-4000-9000-${hex}`,
      time: exchangeTime(),
      product_id: p.productId,
      size: '0.00100000',
      price: fakeTradePrice(p.productId, p.tradeId),
      // the side of the maker order, as on the real feed
      side: p.tradeId % 2 === 0 ? 'buy' : 'sell',
    };
  }

  /** The ticker of the product's last match (sequence and trade id of that match). */
  private tickerMessage(p: Product): Record<string, unknown> {
    const price = fakeTradePrice(p.productId, p.tradeId);
    return {
      type: 'ticker',
      sequence: p.sequence,
      product_id: p.productId,
      price,
      open_24h: fakeTradePrice(p.productId, 1),
      volume_24h: '12345.67890000',
      low_24h: fakeTradePrice(p.productId, 3),
      high_24h: fakeTradePrice(p.productId, 2),
      volume_30d: '345678.12345678',
      best_bid: (Number(price) - 0.01).toFixed(2),
      best_bid_size: '0.50000000',
      best_ask: price,
      best_ask_size: '0.25000000',
      side: p.tradeId % 2 === 0 ? 'buy' : 'sell',
      time: exchangeTime(),
      trade_id: p.tradeId,
      last_size: '0.00100000',
    };
  }

  private deliver(p: Product, out: readonly Outgoing[]): void {
    for (const { channel, message } of out) {
      // one serialization for every subscriber
      const text = JSON.stringify(message);
      const send = () => {
        for (const c of this.clients)
          if (c.channels.has(channel) && c.subscribed.has(p.productId)) this.sendText(c, text);
      };
      if (channel === 'matches' && this.options.matchDelayMs > 0) {
        const timer = setTimeout(() => {
          this.delayed.delete(timer);
          send();
        }, this.options.matchDelayMs);
        this.delayed.add(timer);
      } else send();
      if (channel === 'ticker') p.tickersSent += 1;
      else p.matchesSent += 1;
    }
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
      channels: new Set(),
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
    this.sendText(client, JSON.stringify(message));
  }

  private sendText(client: Client, text: string): void {
    if (client.stalled || client.socket.readyState !== WebSocket.OPEN) return;
    client.socket.send(text);
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
      if (!(CHANNELS as readonly string[]).includes(name)) {
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
      client.channels.add(name as Channel);
      for (const id of productIds) {
        if (!client.subscribed.has(id)) fresh.add(id);
        client.subscribed.add(id);
      }
    }
    const ids = [...client.subscribed];
    this.send(client, {
      type: 'subscriptions',
      channels: CHANNELS.filter((c) => client.channels.has(c)).map((name) => ({ name, product_ids: ids })),
    });
    for (const id of fresh) {
      const p = this.product(id);
      // the matches channel opens with the product's last trade, the ticker channel with its last ticker
      if (client.channels.has('matches') && p.lastMatch) this.send(client, { ...p.lastMatch, type: 'last_match' });
      if (client.channels.has('ticker') && this.options.snapshotOnSubscribe && p.lastTicker)
        this.send(client, p.lastTicker);
      if (client.channels.has('heartbeat')) this.startHeartbeat(client, p);
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

/** Now, with microseconds, as the Exchange feed writes times. */
function exchangeTime(): string {
  return new Date().toISOString().replace('Z', '123Z');
}

/** Start a fake Coinbase Exchange WebSocket feed on 127.0.0.1. */
export function startFakeCoinbaseWs(options: FakeCoinbaseWsOptions = {}): Promise<FakeCoinbaseWs> {
  return FakeCoinbaseWs.start(options);
}
