export interface BackoffOptions {
  /** Ceiling of the first wait (attempt 0), in ms; it doubles with each attempt. */
  baseMs: number;
  /** No wait is ever longer than this, in ms. */
  capMs: number;
  /** Randomness in [0, 1) (default `Math.random`); injectable for tests. */
  random?: () => number;
}

/**
 * Capped exponential backoff with full jitter: uniform in [0, min(cap, base * 2^attempt)), so many clients retrying
 * after one outage spread out instead of hammering together. `attempt` counts from 0.
 *
 * @example
 * backoffMs(3, { baseMs: 100, capMs: 5_000 }) // somewhere in [0, 800)
 */
export function backoffMs(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  return Math.floor(random() * backoffCeilingMs(attempt, options));
}

/** The upper bound {@link backoffMs} draws under for `attempt`: min(cap, base * 2^attempt). */
export function backoffCeilingMs(attempt: number, options: Pick<BackoffOptions, 'baseMs' | 'capMs'>): number {
  return Math.min(options.capMs, options.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
}
