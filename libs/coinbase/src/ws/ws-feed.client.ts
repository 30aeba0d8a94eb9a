import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { PriceTick } from '@btc-etl/price-schema';
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
import { SequenceGapDetector, type GapVerdict } from './ws-gap.detector';

/** Coinbase Exchange's public feed. */
export const DEFAULT_COINBASE_WS_URL = 'wss://ws-feed.exchange.coinbase.com';

export interface CoinbaseWsFeedOptions {
  /** Default {@link DEFAULT_COINBASE_WS_URL}. */
  url?: string;
  productIds: readonly string[];
  /** A product without a heartbeat for this long means a dead connection. Default 3000 ms (heartbeats come every 1 s). */
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
  /** See {@link SequenceGapDetector}: false when the subscription's sequence numbers are not contiguous. Default true. */
  trustSequences?: boolean;
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
  | (Base & { type: 'subscribed'; productIds: string[] })
  | (Base & { type: 'tick'; tick: PriceTick; receivedAtMs: number })
  | (Base & { type: 'gap'; tick: PriceTick; gap: FeedGap; receivedAtMs: number })
  | (Base & { type: 'heartbeat'; productId: string; sequence: number; lastTradeId: number; receivedAtMs: number })
  | (Base & { type: 'late'; productId: string; sequence: number; lastSequence: number | null })
  | (Base & { type: 'feed_error'; message: string; reason: string | undefined })
  | (Base & { type: 'parse_error'; error: WsFeedParseError })
  | (Base & { type: 'disconnected'; error: CoinbaseWsError; subscribedForMs: number })
  | (Base & { type: 'reconnecting'; attempt: number; delayMs: number });

interface Pending {
  /** The last good moment before the outage (ISO). */
  start: string;
}

/**
 * Client of Coinbase Exchange's WebSocket feed: subscribes to `ticker` and `heartbeat` for every product the moment
 * the socket opens (well inside the feed's 5 s window), maps tickers to records, and tells a quiet market from a dead
 * connection by heartbeats, not trades. A dead, closed or failed connection is replaced after a capped exponential
 * backoff with full jitter, forever, until the signal aborts. Every gap is reported as data: a `sequence_gap`
 * record for skipped sequence numbers/trade ids, a `disconnected` record for each outage with its span and, once
 * the feed is back, the sequence range it covered.
 */
export class CoinbaseWsFeed {
  private readonly o: Required<Omit<CoinbaseWsFeedOptions, 'productIds'>>;
  private readonly productIds: readonly string[];
  private readonly detector: SequenceGapDetector;
  private readonly pending = new Map<string, Pending>();
  private readonly runId = randomBytes(3).toString('hex');
  private connections = 0;

  constructor(options: CoinbaseWsFeedOptions) {
    if (options.productIds.length === 0) throw new RangeError('CoinbaseWsFeed needs at least one product id');
    this.productIds = [...options.productIds];
    this.o = {
      url: options.url ?? DEFAULT_COINBASE_WS_URL,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 3_000,
      subscribeTimeoutMs: options.subscribeTimeoutMs ?? 5_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffCapMs: options.backoffCapMs ?? 30_000,
      stableAfterMs: options.stableAfterMs ?? 30_000,
      trustSequences: options.trustSequences ?? true,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
    };
    this.detector = new SequenceGapDetector(this.o.trustSequences);
  }

  /** Reconnect delay of attempt `attempt` (0-based): uniform in [0, min(cap, base * 2^attempt)]. */
  backoffMs(attempt: number): number {
    return Math.floor(
      this.o.random() * Math.min(this.o.backoffCapMs, this.o.backoffBaseMs * 2 ** Math.min(attempt, 30)),
    );
  }

  /**
   * Stream until `signal` aborts; resolves then (after recording any outage still open as a `disconnected` gap).
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
      // a shutdown is not an outage (one already open is still recorded below)
      if (signal.aborted) break;
      this.openOutage(runStart);
      onEvent({ type: 'disconnected', connectionId, error: outcome.error, subscribedForMs: outcome.subscribedForMs });
      if (outcome.subscribedForMs >= this.o.stableAfterMs) attempt = 0;
      const delayMs = this.backoffMs(attempt);
      attempt += 1;
      onEvent({ type: 'reconnecting', connectionId, attempt, delayMs });
      await abortableSleep(delayMs, signal);
    }
    this.closeOutages(onEvent);
  }

  /** Mark every product without an open outage as out since its last message (or since the run began). */
  private openOutage(runStart: string): void {
    for (const productId of this.productIds) {
      if (!this.pending.has(productId))
        this.pending.set(productId, { start: this.detector.last(productId).time ?? runStart });
    }
  }

  /** At shutdown, an outage still open ends now: its span is recorded, its sequence range is unknown. */
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

  private connectOnce(
    connectionId: string,
    onEvent: (event: WsFeedEvent) => void,
    signal: AbortSignal,
  ): Promise<{ error: CoinbaseWsError; subscribedForMs: number; fatal?: unknown }> {
    const o = this.o;
    return new Promise((resolve) => {
      const socket = new WebSocket(o.url, { handshakeTimeout: o.connectTimeoutMs, perMessageDeflate: false });
      let error: CoinbaseWsError | undefined;
      let fatal: unknown;
      let subscribedAt: number | null = null;
      const lastHeartbeat = new Map<string, number>();
      let subscribeTimer: NodeJS.Timeout | undefined;
      let staleTimer: NodeJS.Timeout | undefined;

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
        socket.send(
          JSON.stringify({ type: 'subscribe', product_ids: this.productIds, channels: ['ticker', 'heartbeat'] }),
        );
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
          emit({ type: 'parse_error', connectionId, error: e as WsFeedParseError });
          return;
        }
        switch (message.type) {
          case 'ticker': {
            const verdict = this.detector.ticker(message.product_id, message.sequence, message.trade_id, message.time);
            this.reportGap(connectionId, message.product_id, verdict, message.time, receivedAtMs, emit);
            if (verdict.late) {
              emit({
                type: 'late',
                connectionId,
                productId: message.product_id,
                sequence: message.sequence,
                lastSequence: this.detector.last(message.product_id).sequence,
              });
            }
            // a late ticker is still a real trade: it is recorded (its record_id dedupes a re-delivery)
            emit({
              type: 'tick',
              connectionId,
              tick: wsTickerToPriceTick(message, new Date(receivedAtMs)),
              receivedAtMs,
            });
            return;
          }
          case 'heartbeat': {
            lastHeartbeat.set(message.product_id, receivedAtMs);
            const verdict = this.detector.heartbeat(
              message.product_id,
              message.sequence,
              message.last_trade_id,
              message.time,
            );
            this.reportGap(connectionId, message.product_id, verdict, message.time, receivedAtMs, emit);
            emit({
              type: 'heartbeat',
              connectionId,
              productId: message.product_id,
              sequence: message.sequence,
              lastTradeId: message.last_trade_id,
              receivedAtMs,
            });
            return;
          }
          case 'subscriptions': {
            if (subscribedAt !== null) return;
            const missing = ['ticker', 'heartbeat'].flatMap((name) => {
              const ch = message.channels.find((c) => c.name === name);
              return this.productIds.filter((p) => !ch?.product_ids?.includes(p)).map((p) => `${name}:${p}`);
            });
            if (missing.length > 0) return fail(new WsSubscribeError(`not subscribed to ${missing.join(', ')}`));
            clearTimeout(subscribeTimer);
            subscribedAt = receivedAtMs;
            const every = Math.max(20, Math.floor(o.heartbeatTimeoutMs / 5));
            staleTimer = setInterval(() => {
              const now = o.now();
              for (const productId of this.productIds) {
                const silentMs = now - (lastHeartbeat.get(productId) ?? (subscribedAt as number));
                if (silentMs > o.heartbeatTimeoutMs)
                  return fail(new WsStaleConnectionError(productId, silentMs, o.heartbeatTimeoutMs));
              }
            }, every);
            emit({ type: 'subscribed', connectionId, productIds: [...this.productIds] });
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
        error ??= new CoinbaseWsError(`feed connection error: ${e.message}`, { cause: e });
      });

      socket.on('close', (code: number, reason: Buffer) => {
        clearTimeout(subscribeTimer);
        clearInterval(staleTimer);
        signal.removeEventListener('abort', onAbort);
        const subscribedForMs = subscribedAt === null ? 0 : o.now() - subscribedAt;
        resolve({ error: error ?? new WsClosedError(code, reason.toString()), subscribedForMs, fatal });
      });
    });
  }

  /**
   * Turn a detector verdict into a record. The first message of a product after an outage closes that outage:
   * one `disconnected` record with the outage's span and the sequence range the jump revealed, instead of a
   * separate `sequence_gap` for the same messages.
   */
  private reportGap(
    connectionId: string,
    productId: string,
    verdict: GapVerdict,
    time: string,
    receivedAtMs: number,
    emit: (event: WsFeedEvent) => void,
  ): void {
    // a late message (e.g. the ticker snapshot repeating the last trade seen) says nothing about the outage's end
    const outage = verdict.late ? undefined : this.pending.get(productId);
    let gap = verdict.gap;
    if (outage) {
      this.pending.delete(productId);
      gap = {
        productId,
        reason: 'disconnected',
        fromSequence: verdict.gap?.fromSequence ?? null,
        toSequence: verdict.gap?.toSequence ?? null,
        fromTradeId: verdict.gap?.fromTradeId ?? null,
        toTradeId: verdict.gap?.toTradeId ?? null,
        start: outage.start,
        // exchange clocks are not monotonic across reconnects; a span never runs backwards
        end: Date.parse(time) < Date.parse(outage.start) ? outage.start : time,
      };
    }
    if (gap)
      emit({ type: 'gap', connectionId, tick: feedGapToPriceTick(gap, new Date(receivedAtMs)), gap, receivedAtMs });
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
