import { abortReason, sleep } from './abort';
import type { Clock } from './clock';

export interface RetryOptions {
  /**
   * How long to wait before trying again after `error` on attempt `attempt` (1 for the first try), or null to give up
   * and throw `error`. This is where a policy lives: which errors are transient, backoff, a server's Retry-After.
   */
  delayMs(attempt: number, error: unknown): number | null;
  /** Aborting stops the loop: a pending wait ends and the signal's reason is thrown. */
  signal?: AbortSignal | undefined;
  clock?: Clock | undefined;
  /** Told before each wait, for logs and metrics. */
  onRetry?: ((info: { attempt: number; error: unknown; delayMs: number }) => void) | undefined;
}

/**
 * The one retry loop: run `task` until it succeeds, `delayMs` gives up, or the signal aborts. Nothing is swallowed:
 * the last error is thrown as it was.
 *
 * @example
 * const body = await retry((attempt) => fetchPage(url, attempt), {
 *   delayMs: (attempt, error) =>
 *     attempt < 5 && isTransient(error) ? backoffMs(attempt, { baseMs: 200, capMs: 5_000 }) : null,
 *   signal,
 * });
 */
export async function retry<T>(task: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal, clock } = options;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortReason(signal);
    try {
      return await task(attempt);
    } catch (error) {
      if (signal?.aborted) throw error;
      const delayMs = options.delayMs(attempt, error);
      if (delayMs === null) throw error;
      options.onRetry?.({ attempt, error, delayMs });
      await sleep(delayMs, { signal, clock, onAbort: 'reject' });
    }
  }
}
