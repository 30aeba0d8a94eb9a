import { systemClock, type Clock } from '@btc-etl/resilience';

/** One due tick of one product: tick `index` is due at `t0 + index * intervalMs` on the wall clock. */
export interface DueTick {
  productId: string;
  index: number;
  /** Epoch milliseconds this tick was due. */
  dueMs: number;
  /** Aborted when the scheduler stops with an abort deadline. */
  signal: AbortSignal;
}

export type OverrunCause = 'in_flight' | 'late';

export interface SchedulerOptions {
  products: readonly string[];
  intervalMs: number;
  /** Requests of one product allowed to overlap; a due tick finding them all busy is an overrun. */
  maxInFlightPerProduct: number;
  /** Start a due tick's work. The promise settles when the work is over (it should not reject). */
  run(tick: DueTick): Promise<void>;
  /**
   * A due tick that could not start: every slot of its product was busy (`in_flight`), or the timer fired a whole
   * interval or more after it was due (`late`, e.g. the event loop was blocked), so polling now would not be that
   * second's price. Either way the tick still becomes a record (missed, reason `overrun`).
   */
  overrun(tick: Omit<DueTick, 'signal'>, cause: OverrunCause): void;
  clock?: Clock;
  /** First due time; default the next multiple of `intervalMs` since the epoch, so due times are whole seconds. */
  t0?: number;
}

/**
 * Fires every product's ticks at `t0 + k * interval`, computed from the clock each time, never by sleeping after
 * the work (which drifts by the work's latency). A slow response never delays the next tick: work runs
 * concurrently, bounded per product.
 */
export class CadenceScheduler {
  private readonly clock: Clock;
  private readonly inFlight = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private timer: unknown;
  private nextIndex = 0;
  private t0 = 0;
  private started = false;
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${options.intervalMs}`);
    if (!(options.maxInFlightPerProduct >= 1)) throw new RangeError('maxInFlightPerProduct must be >= 1');
    this.clock = options.clock ?? systemClock;
    for (const p of options.products) this.inFlight.set(p, 0);
  }

  /** Due time of tick `index`. */
  dueMs(index: number): number {
    return this.t0 + index * this.options.intervalMs;
  }

  /** Requests of a product in flight now. */
  inFlightOf(productId: string): number {
    return this.inFlight.get(productId) ?? 0;
  }

  get firstDueMs(): number {
    return this.t0;
  }

  start(): void {
    if (this.started) throw new Error('scheduler already started');
    this.started = true;
    const interval = this.options.intervalMs;
    this.t0 = this.options.t0 ?? Math.ceil(this.clock.now() / interval) * interval;
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    const wait = Math.max(0, this.dueMs(this.nextIndex) - this.clock.now());
    this.timer = this.clock.setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    // Timers can fire a hair early against the wall clock: wait out the rest instead of starting early.
    if (now < this.dueMs(this.nextIndex)) return this.arm();
    while (this.dueMs(this.nextIndex) <= now) {
      const index = this.nextIndex++;
      const dueMs = this.dueMs(index);
      const late = now - dueMs >= this.options.intervalMs;
      for (const productId of this.options.products) {
        if (late) this.options.overrun({ productId, index, dueMs }, 'late');
        else this.startTick(productId, index, dueMs);
      }
    }
    this.arm();
  }

  private startTick(productId: string, index: number, dueMs: number): void {
    const busy = this.inFlightOf(productId);
    if (busy >= this.options.maxInFlightPerProduct) {
      this.options.overrun({ productId, index, dueMs }, 'in_flight');
      return;
    }
    this.inFlight.set(productId, busy + 1);
    let work: Promise<void>;
    try {
      work = this.options.run({ productId, index, dueMs, signal: this.abort.signal });
    } catch (error) {
      work = Promise.reject(error);
    }
    const tracked = work
      .catch(() => undefined) // run() owns its errors; a rejection must not kill the cadence
      .finally(() => {
        this.inFlight.set(productId, this.inFlightOf(productId) - 1);
        this.running.delete(tracked);
      });
    this.running.add(tracked);
  }

  /**
   * Stop scheduling; wait for work in flight. After `abortAfterMs` the work's signal is aborted (the work then
   * records its tick as it sees fit) and stop resolves once it has settled.
   */
  async stop(abortAfterMs = Number.POSITIVE_INFINITY): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (this.running.size === 0) return;
    const all = Promise.all([...this.running]).then(() => undefined);
    if (Number.isFinite(abortAfterMs)) {
      const handle = this.clock.setTimeout(() => this.abort.abort(new Error('scheduler stopping')), abortAfterMs);
      await all;
      this.clock.clearTimeout(handle);
    } else {
      await all;
    }
  }
}
