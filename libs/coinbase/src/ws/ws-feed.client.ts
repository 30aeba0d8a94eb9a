import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { PriceTick } from '@btc-etl/price-schema';
import { backoffMs, sleep } from '@btc-etl/resilience';
import {
  CoinbaseWsError,
  WsClosedError,
  WsFeedParseError,
  WsStaleConnectionError,
  WsSubscribeError,
} from './ws-feed.errors';
import {
  feedGapToPriceTick,
  parseFeedMessage,
  wsTickerToPriceTick,
  type FeedGap,
  type FeedMessage,
} from './ws-feed.mapper';
import { TradeGapDetector } from './ws-gap.detector';

/** Coinbase Exchange's public feed. */
export const DEFAULT_COINBASE_WS_URL = 'wss://ws-feed.exchange.coinbase.com';

/**
 * How the client finds lost messages, both right on the live feed: `matches` subscribes to the `matches` channel
 * beside `ticker` and `heartbeat` and reports holes in its contiguous trade ids; `none` subscribes to `ticker` and
 * `heartbeat` only and records outages (`disconnected`) but no `sequence_gap` (nothing on those channels shows one).
 */
export const WS_GAP_DETECTION_MODES = ['matches', 'none'] as const;
export type WsGapDetection = (typeof WS_GAP_DETECTION_MODES)[number];

export interface CoinbaseWsFeedOptions {
  /** Default {@link DEFAULT_COINBASE_WS_URL}. */
  url?: string;
  productIds: readonly string[];
  /** Default `matches`: see {@link WsGapDetection}. */
  gapDetection?: WsGapDetection;
  /**
   * A hole in the trade ids waits this long for in-flight or out-of-order matches before it is recorded. Default
   * 1500 ms (heartbeats come every second; the feed's channels do not arrive in lock step).
   */
  gapGraceMs?: number;
  /**
   * A product without any message (heartbeats come every 1 s, trades or not) for this long means a dead connection.
   * Default 3000 ms.
   */
  heartbeatTimeoutMs?: number;
  /** Time for the `subscriptions` reply after the subscribe is sent. Default 5000 ms. */
  subscribeTimeoutMs?: number;
  /** TCP + TLS + HTTP upgrade. Default 10000 ms. */
  connectTimeoutMs?: number;
  /** Reconnect backoff: full jitter over min(cap, base * 2^attempt). Defaults 500 ms and 30 s. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** A connection that stayed subscribed this long resets the backoff; shorter ones keep escalating. Default 30 s. */
  stableAfterMs?: number;
  random?: () => number;
  now?: () => number;
}

interface Base {
  /** `<run id>-<n>`: the run (one `run()` call) and the n-th connection of it. */
  connectionId: string;
}

/** Everything the feed client reports. Records are `tick` (ok) and `gap` (missed); the rest is for logs and metrics. */
export type WsFeedEvent =
  | (Base & { type: 'connecting'; attempt: number; url: string })
  | (Base & { type: 'subscribed'; productIds: string[]; channels: string[] })
  | (Base & { type: 'tick'; tick: PriceTick; receivedAtMs: number })
  | (Base & { type: 'gap'; tick: PriceTick; gap: FeedGap; receivedAtMs: number })
  | (Base & { type: 'heartbeat'; productId: string; sequence: number; lastTradeId: number; receivedAtMs: number })
  | (Base & { type: 'late'; productId: string; tradeId: number; lastTradeId: number | null })
  | (Base & { type: 'feed_error'; message: string; reason: string | undefined })
  | (Base & { type: 'parse_error'; error: WsFeedParseError })
  | (Base & { type: 'disconnected'; error: CoinbaseWsError; subscribedForMs: number })
  | (Base & { type: 'reconnecting'; attempt: number; delayMs: number });

interface Pending {
  /** The last good moment before the outage (ISO). */
  start: string;
}

/**
 * Client of Coinbase Exchange's WebSocket feed: subscribes to `ticker`, `heartbeat` and (by default) `matches` for
 * every product the moment the socket opens (well inside the feed's 5 s window), maps tickers to records, and tells
 * a quiet market from a dead connection by heartbeats, not trades (any message of a product counts as alive). A dead,
 * closed or failed connection is replaced after a capped exponential backoff with full jitter, forever, until the
 * signal aborts.
 *
 * Every loss is reported as data, and only real losses: a `sequence_gap` record for trade ids the `matches`
 * channel skipped (or a heartbeat announced and no match brought, after a grace), a `disconnected` record for each
 * outage with its span and, once the feed is back, the trade ids that happened meanwhile. Ticker sequence and trade
 * id jumps are normal on the live feed (order-book traffic, batched cascades) and never a gap.
 */
export class CoinbaseWsFeed {
  private readonly o: Required<Omit<CoinbaseWsFeedOptions, 'productIds'>>;
  private readonly productIds: readonly string[];
  private readonly channels: readonly string[];
  private readonly detector: TradeGapDetector;
  private readonly pending = new Map<string, Pending>();
  private readonly runId = randomBytes(3).toString('hex');
  private connections = 0;

  constructor(options: CoinbaseWsFeedOptions) {
    if (options.productIds.length === 0) throw new RangeError('CoinbaseWsFeed needs at least one product id');
    this.productIds = [...options.productIds];
    this.o = {
      url: options.url ?? DEFAULT_COINBASE_WS_URL,
      gapDetection: options.gapDetection ?? 'matches',
      gapGraceMs: options.gapGraceMs ?? 1_500,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 3_000,
      subscribeTimeoutMs: options.subscribeTimeoutMs ?? 5_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffCapMs: options.backoffCapMs ?? 30_000,
      stableAfterMs: options.stableAfterMs ?? 30_000,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
    };
    this.channels = this.o.gapDetection === 'matches' ? ['ticker', 'heartbeat', 'matches'] : ['ticker', 'heartbeat'];
    this.detector = new TradeGapDetector(this.o.gapGraceMs);
  }

  /** Reconnect delay of attempt `attempt` (0-based): uniform in [0, min(cap, base * 2^attempt)]. */
  backoffMs(attempt: number): number {
    return backoffMs(attempt, { baseMs: this.o.backoffBaseMs, capMs: this.o.backoffCapMs, random: this.o.random });
  }

  /**
   * Stream until `signal` aborts; resolves then (after recording any hole and any outage still open).
   * Rejects only when `onEvent` throws: the consumer's failure is never swallowed.
   */
  async run(onEvent: (event: WsFeedEvent) => void, signal: AbortSignal): Promise<void> {
    const runStart = new Date(this.o.now()).toISOString();
    let attempt = 0;
    while (!signal.aborted) {
      const connectionId = `${this.runId}-${++this.connections}`;
      onEvent({ type: 'connecting', connectionId, attempt, url: this.o.url });
      const outcome = await this.connectOnce(connectionId, onEvent, signal);
      if (outcome.fatal) throw outcome.fatal;
      // holes found before the connection ended: no match can fill them any more
      this.reportGaps(connectionId, this.detector.flush(), onEvent);
      // a shutdown is not an outage (one already open is still recorded below)
      if (signal.aborted) break;
      this.openOutage(runStart);
      onEvent({ type: 'disconnected', connectionId, error: outcome.error, subscribedForMs: outcome.subscribedForMs });
      if (outcome.subscribedForMs >= this.o.stableAfterMs) attempt = 0;
      const delayMs = this.backoffMs(attempt);
      attempt += 1;
      onEvent({ type: 'reconnecting', connectionId, attempt, delayMs });
      await sleep(delayMs, { signal });
    }
    this.closeOutages(onEvent);
  }

  /** Mark every product without an open outage as out since its last trade (or since the run began). */
  private openOutage(runStart: string): void {
    for (const productId of this.productIds) {
      if (!this.pending.has(productId))
        this.pending.set(productId, { start: this.detector.last(productId).time ?? runStart });
    }
  }

  /** At shutdown, an outage still open ends now: its span is recorded, what it missed is unknown. */
  private closeOutages(onEvent: (event: WsFeedEvent) => void): void {
    const nowMs = this.o.now();
    const end = new Date(nowMs).toISOString();
    for (const [productId, p] of this.pending) {
      const gap: FeedGap = {
        productId,
        reason: 'disconnected',
        fromSequence: null,
        toSequence: null,
        fromTradeId: null,
        toTradeId: null,
        start: p.start,
        end,
        tradesLost: null,
      };
      onEvent({
        type: 'gap',
        connectionId: `${this.runId}-${this.connections}`,
        tick: feedGapToPriceTick(gap, new Date(nowMs)),
        gap,
        receivedAtMs: nowMs,
      });
    }
    this.pending.clear();
  }

  private reportGaps(connectionId: string, gaps: readonly FeedGap[], emit: (event: WsFeedEvent) => void): void {
    if (gaps.length === 0) return;
    const nowMs = this.o.now();
    for (const gap of gaps)
      emit({ type: 'gap', connectionId, tick: feedGapToPriceTick(gap, new Date(nowMs)), gap, receivedAtMs: nowMs });
  }

  /**
   * The first word of a product after an outage (a match, `last_match` or heartbeat carrying trade id `upTo`)
   * closes it: one `disconnected` record with the outage's span and the trade ids that happened meanwhile.
   */
  private closeOutage(
    connectionId: string,
    productId: string,
    upTo: number,
    time: string,
    receivedAtMs: number,
    emit: (event: WsFeedEvent) => void,
  ): void {
    const outage = this.pending.get(productId);
    if (!outage) return;
    this.pending.delete(productId);
    const { lost, known } = this.detector.resume(productId, upTo, time);
    const gap: FeedGap = {
      productId,
      reason: 'disconnected',
      fromSequence: null,
      toSequence: null,
      fromTradeId: lost?.fromTradeId ?? null,
      toTradeId: lost?.toTradeId ?? null,
      start: outage.start,
      // the outage lasted until this message arrived; its exchange time can be older (last_match repeats the last
      // trade, however long ago), and exchange clocks are not monotonic: a span never runs backwards
      end: receivedAtMs < Date.parse(outage.start) ? outage.start : new Date(receivedAtMs).toISOString(),
      tradesLost: lost ? true : known ? false : null,
    };
    emit({ type: 'gap', connectionId, tick: feedGapToPriceTick(gap, new Date(receivedAtMs)), gap, receivedAtMs });
  }

  private connectOnce(
    connectionId: string,
    onEvent: (event: WsFeedEvent) => void,
    signal: AbortSignal,
  ): Promise<{ error: CoinbaseWsError; subscribedForMs: number; fatal?: unknown }> {
    const o = this.o;
    const matches = o.gapDetection === 'matches';
    return new Promise((resolve) => {
      const socket = new WebSocket(o.url, { handshakeTimeout: o.connectTimeoutMs, perMessageDeflate: false });
      let error: CoinbaseWsError | undefined;
      let fatal: unknown;
      let subscribedAt: number | null = null;
      // any message of a product proves the connection alive: a client busy with a backlog reads heartbeats late
      const lastSeen = new Map<string, number>();
      let subscribeTimer: NodeJS.Timeout | undefined;
      let checkTimer: NodeJS.Timeout | undefined;

      const fail = (e: CoinbaseWsError) => {
        error ??= e;
        socket.terminate();
      };
      const onAbort = () => socket.close(1000, 'client shutting down');
      signal.addEventListener('abort', onAbort, { once: true });

      const emit = (event: WsFeedEvent) => {
        try {
          onEvent(event);
        } catch (e) {
          fatal ??= e;
          socket.terminate();
        }
      };

      socket.on('open', () => {
        socket.send(JSON.stringify({ type: 'subscribe', product_ids: this.productIds, channels: this.channels }));
        subscribeTimer = setTimeout(
          () => fail(new WsSubscribeError(`no "subscriptions" reply within ${o.subscribeTimeoutMs} ms`)),
          o.subscribeTimeoutMs,
        );
      });

      socket.on('message', (data: WebSocket.RawData) => {
        const receivedAtMs = o.now();
        let message: FeedMessage;
        try {
          message = parseFeedMessage(data.toString());
        } catch (e) {
          // the message is lost; if it was a match, the next one (or a heartbeat) turns it into a sequence_gap
          emit({ type: 'parse_error', connectionId, error: e as WsFeedParseError });
          return;
        }
        if ('product_id' in message) lastSeen.set(message.product_id, receivedAtMs);
        switch (message.type) {
          case 'ticker': {
            // without matches, tickers keep the trade-id mark an outage is measured from (not while one is open:
            // the snapshot after re-subscribing would hide what the outage covered)
            if (!matches && !this.pending.has(message.product_id))
              this.detector.resume(message.product_id, message.trade_id, message.time);
            // its sequence and trade id may jump (order-book traffic, batched cascades): never a gap by itself
            emit({
              type: 'tick',
              connectionId,
              tick: wsTickerToPriceTick(message, new Date(receivedAtMs)),
              receivedAtMs,
            });
            return;
          }
          case 'match':
          case 'last_match': {
            const productId = message.product_id;
            if (this.pending.has(productId))
              this.closeOutage(connectionId, productId, message.trade_id - 1, message.time, receivedAtMs, emit);
            const verdict = this.detector.match(productId, message.trade_id, message.time, receivedAtMs);
            // last_match repeating the last trade seen before a reconnect is expected, not late
            if (verdict.late && message.type === 'match') {
              emit({
                type: 'late',
                connectionId,
                productId,
                tradeId: message.trade_id,
                lastTradeId: this.detector.last(productId).tradeId,
              });
            }
            return;
          }
          case 'heartbeat': {
            const productId = message.product_id;
            if (this.pending.has(productId))
              this.closeOutage(connectionId, productId, message.last_trade_id, message.time, receivedAtMs, emit);
            else if (matches) this.detector.heartbeat(productId, message.last_trade_id, message.time, receivedAtMs);
            else this.detector.resume(productId, message.last_trade_id, message.time);
            emit({
              type: 'heartbeat',
              connectionId,
              productId,
              sequence: message.sequence,
              lastTradeId: message.last_trade_id,
              receivedAtMs,
            });
            return;
          }
          case 'subscriptions': {
            if (subscribedAt !== null) return;
            const missing = this.channels.flatMap((name) => {
              const ch = message.channels.find((c) => c.name === name);
              return this.productIds.filter((p) => !ch?.product_ids?.includes(p)).map((p) => `${name}:${p}`);
            });
            if (missing.length > 0) return fail(new WsSubscribeError(`not subscribed to ${missing.join(', ')}`));
            clearTimeout(subscribeTimer);
            subscribedAt = receivedAtMs;
            const every = Math.max(20, Math.floor(Math.min(o.heartbeatTimeoutMs, o.gapGraceMs) / 5));
            checkTimer = setInterval(() => {
              const now = o.now();
              this.reportGaps(connectionId, this.detector.due(now), emit);
              for (const productId of this.productIds) {
                const silentMs = now - (lastSeen.get(productId) ?? (subscribedAt as number));
                if (silentMs > o.heartbeatTimeoutMs)
                  return fail(new WsStaleConnectionError(productId, silentMs, o.heartbeatTimeoutMs));
              }
            }, every);
            emit({ type: 'subscribed', connectionId, productIds: [...this.productIds], channels: [...this.channels] });
            return;
          }
          case 'error':
            if (subscribedAt === null) return fail(new WsSubscribeError(message.reason ?? message.message));
            emit({ type: 'feed_error', connectionId, message: message.message, reason: message.reason });
            return;
          default:
            return;
        }
      });

      socket.on('error', (e: Error) => {
        error ??= new CoinbaseWsError(`feed connection error: ${e.message}`, {}, { cause: e });
      });

      socket.on('close', (code: number, reason: Buffer) => {
        clearTimeout(subscribeTimer);
        clearInterval(checkTimer);
        signal.removeEventListener('abort', onAbort);
        const subscribedForMs = subscribedAt === null ? 0 : o.now() - subscribedAt;
        resolve({ error: error ?? new WsClosedError(code, reason.toString()), subscribedForMs, fatal });
      });
    });
  }
}
