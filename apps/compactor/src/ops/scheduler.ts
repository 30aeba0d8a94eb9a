import { sleep } from '@btc-etl/resilience';

/**
 * Run `task` now and then every `intervalMs` (measured from each start, so a slow run shortens the next wait rather
 * than drifting), until the signal aborts. Runs never overlap: a run longer than the interval is followed at once.
 */
export async function runEvery(intervalMs: number, signal: AbortSignal, task: () => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    const started = Date.now();
    await task();
    await sleep(Math.max(0, started + intervalMs - Date.now()), { signal });
  }
}
