import type { Clock } from './clock';

/**
 * The default for waits someone awaits: plain global timers, which keep the process alive until they fire (a CLI
 * polling Athena must not exit mid-wait). `systemClock` unrefs its timers, for long-running services whose shutdown
 * is explicit: pass it where that is wanted.
 */
const awaitedClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The error a rejected abortable wait throws: the signal's own reason, or a standard `AbortError`. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

export interface SleepOptions {
  signal?: AbortSignal | undefined;
  /** Default: global timers that keep the process alive while waiting (not `systemClock`, which unrefs). */
  clock?: Clock | undefined;
  /**
   * What an abort does: `'resolve'` (default) ends the wait early and lets the caller look at `signal.aborted`;
   * `'reject'` rejects with the signal's reason, for callers that unwind with an exception.
   */
  onAbort?: 'resolve' | 'reject';
}

/**
 * Wait `ms`, or less when the signal aborts. The abort listener is removed when the timer fires, so a loop that
 * sleeps many times on one long-lived signal adds no listeners.
 *
 * @example
 * while (!signal.aborted) { await poll(); await sleep(1000, { signal }); }
 */
export function sleep(ms: number, options: SleepOptions = {}): Promise<void> {
  const { signal, clock = awaitedClock, onAbort = 'resolve' } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return onAbort === 'reject' ? reject(abortReason(signal)) : resolve();
    const abort = () => {
      clock.clearTimeout(handle);
      if (onAbort === 'reject') reject(abortReason(signal as AbortSignal));
      else resolve();
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/** A wait for a signal's abort that can be given up: `dispose()` removes the listener (and settles nothing). */
export interface AbortWait extends Disposable {
  /** Resolves when the signal aborts (at once when it already has); never rejects. */
  readonly promise: Promise<void>;
  dispose(): void;
}

/**
 * Wait until `signal` aborts, with a handle that removes the listener. Use it (or {@link raceAbort}) instead of
 * `new Promise(r => signal.addEventListener('abort', r))` inside a loop, which leaks one listener per turn.
 */
export function waitForAbort(signal: AbortSignal): AbortWait {
  let dispose: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    dispose = () => signal.removeEventListener('abort', onAbort);
  });
  return { promise, dispose: () => dispose(), [Symbol.dispose]: () => dispose() };
}

/** How {@link raceAbort} ended. */
export type RaceResult<T> = { aborted: false; value: T } | { aborted: true };

/**
 * Race `work` against `signal`: the first to finish wins, and the abort listener is removed either way. `work` keeps
 * running after an abort (a promise cannot be cancelled): pass the signal into it too where it can stop.
 */
export async function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<RaceResult<T>> {
  if (!signal) return { aborted: false, value: await work };
  const wait = waitForAbort(signal);
  try {
    return await Promise.race([
      work.then((value): RaceResult<T> => ({ aborted: false, value })),
      wait.promise.then((): RaceResult<T> => ({ aborted: true })),
    ]);
  } finally {
    wait.dispose();
  }
}
