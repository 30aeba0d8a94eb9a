import { afterEach, describe, expect, it, vi } from 'vitest';
import { raceAbort, sleep, waitForAbort } from './abort';

/** How many 'abort' listeners a signal holds, read through Node's EventTarget internals (public API in Node 20+). */
import { getEventListeners } from 'node:events';
const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

describe('sleep', () => {
  afterEach(() => vi.useRealTimers());

  it('resolves after the time and leaves no listener behind', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const waits = Array.from({ length: 50 }, () => sleep(100, { signal: controller.signal }));
    expect(listeners(controller.signal)).toBe(50);
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all(waits);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('ends early on abort: resolves by default, rejects with the reason when asked', async () => {
    const controller = new AbortController();
    const resolving = sleep(60_000, { signal: controller.signal });
    const rejecting = sleep(60_000, { signal: controller.signal, onAbort: 'reject' });
    controller.abort(new Error('shutting down'));
    await expect(resolving).resolves.toBeUndefined();
    await expect(rejecting).rejects.toThrow('shutting down');
  });

  it('keeps the process alive while it waits, unless an unref-ing clock is passed', async () => {
    const { spawnSync } = await import('node:child_process');
    const { pathToFileURL } = await import('node:url');
    const { resolve } = await import('node:path');
    const clockUrl = pathToFileURL(resolve(import.meta.dirname, 'clock.ts')).href;
    const abortUrl = pathToFileURL(resolve(import.meta.dirname, 'abort.ts')).href;
    const run = (clock: string) =>
      spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `const { sleep } = await import(${JSON.stringify(abortUrl)});
           const { systemClock } = await import(${JSON.stringify(clockUrl)});
           await sleep(50, { clock: ${clock} }); console.log('woke');`,
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
    expect(run('undefined').stdout).toContain('woke');
    expect(run('systemClock').stdout).not.toContain('woke');
  });

  it('does not wait at all on a signal that already aborted', async () => {
    const signal = AbortSignal.abort();
    await expect(sleep(60_000, { signal })).resolves.toBeUndefined();
    await expect(sleep(60_000, { signal, onAbort: 'reject' })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('waitForAbort', () => {
  it('resolves on abort', async () => {
    const controller = new AbortController();
    const wait = waitForAbort(controller.signal);
    controller.abort();
    await expect(wait.promise).resolves.toBeUndefined();
  });

  it('dispose removes its listener: a loop of waits on one signal does not leak', () => {
    const controller = new AbortController();
    for (let turn = 0; turn < 1_000; turn++) {
      using _wait = waitForAbort(controller.signal);
    }
    expect(listeners(controller.signal)).toBe(0);
  });
});

describe('raceAbort', () => {
  it('returns the value when the work wins and removes its listener', async () => {
    const controller = new AbortController();
    for (let turn = 0; turn < 100; turn++) {
      await expect(raceAbort(Promise.resolve(turn), controller.signal)).resolves.toEqual({
        aborted: false,
        value: turn,
      });
    }
    expect(listeners(controller.signal)).toBe(0);
  });

  it('reports an abort that comes first', async () => {
    const controller = new AbortController();
    const never = new Promise<number>(() => undefined);
    const raced = raceAbort(never, controller.signal);
    controller.abort();
    await expect(raced).resolves.toEqual({ aborted: true });
    expect(listeners(controller.signal)).toBe(0);
  });

  it('passes the work through when there is no signal, errors included', async () => {
    await expect(raceAbort(Promise.reject(new Error('boom')), undefined)).rejects.toThrow('boom');
  });
});
