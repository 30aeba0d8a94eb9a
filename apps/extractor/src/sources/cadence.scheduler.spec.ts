import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CadenceScheduler, type DueTick, type OverrunCause } from './cadence.scheduler';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

function setup(options: { products?: string[]; maxInFlight?: number; latencyMs: (tick: DueTick) => number }) {
  const starts: { productId: string; index: number; dueMs: number; startedAt: number }[] = [];
  const overruns: { productId: string; index: number; cause: OverrunCause }[] = [];
  const scheduler = new CadenceScheduler({
    products: options.products ?? ['BTC-USD'],
    intervalMs: 1000,
    maxInFlightPerProduct: options.maxInFlight ?? 2,
    run: (tick) => {
      starts.push({ productId: tick.productId, index: tick.index, dueMs: tick.dueMs, startedAt: Date.now() });
      return new Promise((resolve) => setTimeout(resolve, options.latencyMs(tick)));
    },
    overrun: (tick, cause) => overruns.push({ productId: tick.productId, index: tick.index, cause }),
  });
  return { scheduler, starts, overruns };
}

/** Stop, letting the fake clock run the work still in flight to its end. */
async function stopAll(scheduler: CadenceScheduler): Promise<void> {
  const stopping = scheduler.stop();
  await vi.runAllTimersAsync();
  await stopping;
}

describe('CadenceScheduler under fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0 + 250); // start mid-second: the first due time is the next whole second
  });
  afterEach(() => vi.useRealTimers());

  it('starts tick k at t0 + k x interval whatever the latency: no drift', async () => {
    // latencies of 50-900 ms: a sleep-after-work loop would drift by them every tick
    const latencies = [50, 900, 400, 850, 120, 700, 60, 899, 300, 500];
    const { scheduler, starts, overruns } = setup({
      latencyMs: (t) => latencies[t.index % latencies.length] as number,
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(600_000);
    await stopAll(scheduler);
    expect(scheduler.firstDueMs).toBe(T0 + 1000);
    expect(starts).toHaveLength(600);
    starts.forEach((s, k) => {
      expect(s.dueMs).toBe(T0 + 1000 + k * 1000);
      expect(s.startedAt).toBe(s.dueMs);
    });
    expect(overruns).toEqual([]);
  });

  it('never delays the next tick for a slow answer, and records an overrun when every slot is busy', async () => {
    const { scheduler, starts, overruns } = setup({
      maxInFlight: 2,
      latencyMs: (t) => (t.index === 0 ? 3500 : t.index === 1 ? 1900 : 100),
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(6_000);
    await stopAll(scheduler);
    // due at +1s..+6s: ticks 0..5. Tick 2 (due +3s) finds ticks 0 and 1 in flight -> overrun; tick 3 (due +4s)
    // finds only tick 0 busy (tick 1 ended at +3.9s) -> starts; the rest start on time.
    expect(overruns).toEqual([{ productId: 'BTC-USD', index: 2, cause: 'in_flight' }]);
    expect(starts.map((s) => s.index)).toEqual([0, 1, 3, 4, 5]);
    for (const s of starts) expect(s.startedAt).toBe(s.dueMs);
  });

  it('runs every product at the same due times, each with its own slots', async () => {
    const { scheduler, starts, overruns } = setup({
      products: ['BTC-USD', 'ETH-USD'],
      maxInFlight: 1,
      latencyMs: (t) => (t.productId === 'ETH-USD' ? 1500 : 10),
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(4_000);
    await stopAll(scheduler);
    expect(starts.filter((s) => s.productId === 'BTC-USD').map((s) => s.index)).toEqual([0, 1, 2, 3]);
    // ETH takes 1.5 s with one slot: every other tick overruns, BTC is untouched
    expect(starts.filter((s) => s.productId === 'ETH-USD').map((s) => s.index)).toEqual([0, 2]);
    expect(overruns.map((o) => `${o.productId}:${o.index}`)).toEqual(['ETH-USD:1', 'ETH-USD:3']);
  });

  it('records ticks it woke up too late for as overruns and resumes on the grid', async () => {
    const { scheduler, starts, overruns } = setup({ latencyMs: () => 10 });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(1_000); // tick 0 at +1s; now +1.25s
    // the event loop is blocked for 3.4 s: the clock jumps without timers firing; tick 1's timer then fires at +5.4s
    vi.setSystemTime(Date.now() + 3_400);
    await vi.advanceTimersByTimeAsync(2_000);
    await stopAll(scheduler);
    // ticks 1-3 are a whole interval or more late: overruns, not polls of a past second
    expect(overruns.map((o) => [o.index, o.cause])).toEqual([
      [1, 'late'],
      [2, 'late'],
      [3, 'late'],
    ]);
    // tick 4 (due +5s) starts at +5.4s, still within its second; then back on the grid
    expect(starts.map((s) => [s.index, s.startedAt - s.dueMs])).toEqual([
      [0, 0],
      [4, 400],
      [5, 0],
    ]);
  });

  it('stop() waits for work in flight and schedules nothing after', async () => {
    const { scheduler, starts } = setup({ latencyMs: () => 800 });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(1_100);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(700);
    await stopping;
    expect(stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(starts).toHaveLength(1);
  });

  it('aborts work still running after the abort deadline', async () => {
    let aborted = false;
    const scheduler = new CadenceScheduler({
      products: ['BTC-USD'],
      intervalMs: 1000,
      maxInFlightPerProduct: 1,
      run: ({ signal }) =>
        new Promise((resolve) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          }),
        ),
      overrun: () => undefined,
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(1_000);
    const stopping = scheduler.stop(500);
    await vi.advanceTimersByTimeAsync(500);
    await stopping;
    expect(aborted).toBe(true);
  });
});
