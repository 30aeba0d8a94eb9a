import { recordId, type PriceTick } from '@btc-etl/price-schema';
import { systemClock, type Clock } from '@btc-etl/resilience';

export interface SecondSamplerOptions {
  productIds: readonly string[];
  emit: (tick: PriceTick) => void;
  /** Sample period. Default 1000 ms (`--also-sample 1s`). */
  intervalMs?: number;
  /**
   * How long after a second to decide it. The feed sends a heartbeat per product every second, so by 1.5 s after
   * second S a live connection has said something after S. Default 1500 ms.
   */
  graceMs?: number;
  clock?: Clock;
}

interface ProductSample {
  /** The last trade at or before the last decided second: the price a poll would have returned then. */
  carry: PriceTick | null;
  /** Trades received but not yet folded into `carry`, with their exchange time in ms. */
  recent: Array<{ atMs: number; tick: PriceTick }>;
  /** Receipt time of the product's latest message of any kind (ticker or heartbeat). */
  aliveAtMs: number;
}

/**
 * `--also-sample 1s`: turns the trade stream into the 1 Hz series the polling source produces, so the pipeline's
 * per-second completeness checks (query gaps, OHLC) see one record per product per second while the socket is
 * the source.
 *
 * Decisions, and why:
 * - Second S carries the last trade at or before S (by exchange time): exactly what polling the ticker at S would
 *   return, so the two sources are interchangeable downstream. A second without trades repeats the last price,
 *   as a poll would; it is a real observation (the market was quiet), not a gap.
 * - A second is `ok` only if the feed demonstrably lived past it (some message of the product was received at or
 *   after S). Otherwise the price at S is unknown and the record is `missed` with reason `disconnected`: stalls,
 *   outages and the time before the first price are gaps, never a repeated stale price.
 * - Records keep `source` "coinbase-ws-ticker" and set `scheduled_time` to the second, which is also their identity
 *   (`record_id` from the scheduled time), so samples never collide with the per-trade records (identity: sequence,
 *   `scheduled_time` null) and a query can pick the 1 Hz series with `scheduled_time IS NOT NULL`.
 */
export class SecondSampler {
  private readonly products = new Map<string, ProductSample>();
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly graceMs: number;
  private nextMs = 0;
  private timer: unknown;
  private stopped = false;

  constructor(private readonly options: SecondSamplerOptions) {
    this.clock = options.clock ?? systemClock;
    this.intervalMs = options.intervalMs ?? 1_000;
    this.graceMs = options.graceMs ?? 1_500;
    if (!(this.intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${this.intervalMs}`);
    for (const p of options.productIds)
      this.products.set(p, { carry: null, recent: [], aliveAtMs: Number.NEGATIVE_INFINITY });
  }

  /** An `ok` trade record from the stream. */
  trade(tick: PriceTick, receivedAtMs: number): void {
    const p = this.products.get(tick.product_id);
    if (!p || tick.status !== 'ok' || tick.exchange_time === null) return;
    p.recent.push({ atMs: Date.parse(tick.exchange_time), tick });
    p.aliveAtMs = Math.max(p.aliveAtMs, receivedAtMs);
  }

  /** Any sign of life of a product's stream (a heartbeat). */
  alive(productId: string, receivedAtMs: number): void {
    const p = this.products.get(productId);
    if (p) p.aliveAtMs = Math.max(p.aliveAtMs, receivedAtMs);
  }

  /** Begin sampling at the next whole interval. */
  start(): void {
    this.nextMs = Math.ceil(this.clock.now() / this.intervalMs) * this.intervalMs;
    this.arm();
  }

  /** Stop the timer; seconds not yet decidable are left out (the process is going away: they were not observed). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }

  private arm(): void {
    if (this.stopped) return;
    const wait = Math.max(0, this.nextMs + this.graceMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => this.decideDue(), wait);
  }

  /** Decide every second whose grace period is over; computed from the clock, so a blocked loop catches up. */
  decideDue(): void {
    const now = this.clock.now();
    while (this.nextMs + this.graceMs <= now) {
      for (const productId of this.products.keys()) this.options.emit(this.sample(productId, this.nextMs, now));
      this.nextMs += this.intervalMs;
    }
    this.arm();
  }

  /** The record of `productId` for the second starting at `secondMs`. */
  sample(productId: string, secondMs: number, nowMs: number): PriceTick {
    const p = this.products.get(productId);
    if (!p) throw new RangeError(`not a sampled product: ${productId}`);
    // fold in every trade up to S; trades after S wait for their second (arrival order may differ from time order)
    let keep = 0;
    for (const r of p.recent) {
      if (r.atMs <= secondMs) {
        if (p.carry === null || r.atMs >= Date.parse(p.carry.exchange_time as string)) p.carry = r.tick;
      } else {
        p.recent[keep++] = r;
      }
    }
    p.recent.length = keep;
    const scheduled = new Date(secondMs).toISOString();
    const base = {
      record_id: recordId({ productId, source: 'coinbase-ws-ticker', scheduledTime: scheduled }),
      product_id: productId,
      source: 'coinbase-ws-ticker' as const,
      scheduled_time: scheduled,
      ingest_time: new Date(nowMs).toISOString(),
    };
    if (p.aliveAtMs < secondMs || p.carry === null) {
      return { ...base, status: 'missed', price: null, exchange_time: null, reason: 'disconnected' };
    }
    const c = p.carry;
    return {
      ...base,
      status: 'ok',
      price: c.price,
      exchange_time: c.exchange_time,
      reason: null,
      bid: c.bid ?? null,
      ask: c.ask ?? null,
      volume_24h: c.volume_24h ?? null,
      trade_id: c.trade_id ?? null,
      sequence: c.sequence ?? null,
    };
  }
}
