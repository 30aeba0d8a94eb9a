import { DashboardBusyError } from './dashboard.errors';

export interface WorkLimits {
  /** Pieces of work running at once. */
  maxRunning: number;
  /** Pieces waiting for a slot; one more is refused with {@link DashboardBusyError}. */
  maxQueued: number;
  /** What a refused caller is told to wait (the 503's Retry-After), in seconds. */
  retryAfterS: number;
}

/**
 * Bounds the work a server does however many clients ask: at most `maxRunning` at once, `maxQueued` waiting in
 * arrival order, and anything beyond refused at once (so a crowd on 0.0.0.0 gets 503s, not an ever-growing queue).
 */
export class WorkLimiter {
  #running = 0;
  readonly #queue: (() => void)[] = [];

  constructor(private readonly limits: WorkLimits) {}

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Run `work` when a slot is free.
   * @throws DashboardBusyError at once when every slot runs and the queue is full
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limits.maxRunning) {
      if (this.#queue.length >= this.limits.maxQueued) {
        throw new DashboardBusyError('the dashboard is busy: try again shortly', {
          running: this.#running,
          queued: this.#queue.length,
          retryAfterS: this.limits.retryAfterS,
        });
      }
      // the slot is handed over by the finishing work (running stays counted), so no newcomer can take it first
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else this.#running++;
    try {
      return await work();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
