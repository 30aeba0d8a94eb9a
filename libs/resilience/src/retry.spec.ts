import { describe, expect, it, vi } from 'vitest';
import { backoffCeilingMs, backoffMs } from './backoff';
import { retry } from './retry';
import type { Clock } from './clock';

/** A clock whose timers fire at once, recording every wait asked for. */
function instantClock(): Clock & { waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    now: () => 0,
    setTimeout: (fn, ms) => {
      waits.push(ms);
      queueMicrotask(fn);
      return waits.length;
    },
    clearTimeout: () => undefined,
  };
}

describe('backoffMs', () => {
  it.each([
    { attempt: 0, ceiling: 100 },
    { attempt: 1, ceiling: 200 },
    { attempt: 5, ceiling: 3_200 },
    { attempt: 6, ceiling: 5_000 },
    { attempt: 1_000, ceiling: 5_000 },
  ])('attempt $attempt draws under min(cap, base * 2^attempt) = $ceiling', ({ attempt, ceiling }) => {
    const options = { baseMs: 100, capMs: 5_000 };
    expect(backoffCeilingMs(attempt, options)).toBe(ceiling);
    expect(backoffMs(attempt, { ...options, random: () => 0 })).toBe(0);
    expect(backoffMs(attempt, { ...options, random: () => 0.999_999 })).toBe(ceiling - 1);
  });
});

describe('retry', () => {
  it('retries until the task succeeds, waiting what the policy says', async () => {
    const clock = instantClock();
    const task = vi.fn(async (attempt: number) => {
      if (attempt < 3) throw new Error(`try ${attempt}`);
      return 'done';
    });
    const onRetry = vi.fn();
    await expect(retry(task, { delayMs: (attempt) => attempt * 10, clock, onRetry })).resolves.toBe('done');
    expect(task).toHaveBeenCalledTimes(3);
    expect(clock.waits).toEqual([10, 20]);
    expect(onRetry.mock.calls.map(([info]) => info.delayMs)).toEqual([10, 20]);
  });

  it('throws the last error unchanged when the policy gives up', async () => {
    const clock = instantClock();
    const final = new TypeError('final');
    const task = vi.fn(async (attempt: number) => {
      throw attempt === 2 ? final : new Error('transient');
    });
    await expect(retry(task, { delayMs: (_a, error) => (error === final ? null : 1), clock })).rejects.toBe(final);
    expect(task).toHaveBeenCalledTimes(2);
  });

  it('stops waiting when the signal aborts and throws its reason', async () => {
    const controller = new AbortController();
    const task = vi.fn(async () => {
      throw new Error('down');
    });
    const running = retry(task, { delayMs: () => 60_000, signal: controller.signal });
    await vi.waitFor(() => expect(task).toHaveBeenCalledTimes(1));
    controller.abort(new Error('stop'));
    await expect(running).rejects.toThrow('stop');
    expect(task).toHaveBeenCalledTimes(1);
  });
});
