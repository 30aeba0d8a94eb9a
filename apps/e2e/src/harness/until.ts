import { sleep } from '@btc-etl/resilience';

/**
 * Polls `done()` every 250 ms until it holds. It has no deadline of its own: the test's timeout catches a hang, so
 * how busy the machine is never decides a verdict (a 30 s deadline on a queue draining failed under load).
 */
export async function until(done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) await sleep(250);
}
