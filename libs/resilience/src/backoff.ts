export interface BackoffOptions {
  /** Ceiling of the first wait (attempt 0), in ms; it grows by `factor` with each attempt. */
  baseMs: number;
  /** No wait is ever longer than this, in ms. */
  capMs: number;
  /** Growth per attempt (default 2: the ceiling doubles). */
  factor?: number;
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

/** The upper bound {@link backoffMs} draws under for `attempt`: min(cap, base * factor^attempt). */
export function backoffCeilingMs(
  attempt: number,
  options: Pick<BackoffOptions, 'baseMs' | 'capMs' | 'factor'>,
): number {
  return Math.min(options.capMs, options.baseMs * (options.factor ?? 2) ** Math.min(Math.max(attempt, 0), 30));
}

/**
 * `ms` spread uniformly over ±`spread` of itself, rounded to whole ms: for polls, which should neither run in step
 * across clients nor come at once (full jitter can draw 0).
 *
 * @example
 * // poll Athena: ~250, ~400, ~640 ... ms, each ±20 %
 * await sleep(spreadMs(backoffCeilingMs(polls, { baseMs: 250, capMs: 5_000, factor: 1.6 }), 0.2));
 */
export function spreadMs(ms: number, spread: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 - spread + random() * 2 * spread));
}
