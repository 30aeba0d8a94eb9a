import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HostRateLimiters, TokenBucket } from './token-bucket.limiter';

describe('TokenBucket', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-11-27T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts full: a burst of 15 passes, the 16th poll is refused rather than queued', () => {
    const bucket = new TokenBucket();
    const results = Array.from({ length: 16 }, () => bucket.tryTake());
    expect(results.filter(Boolean)).toHaveLength(15);
    expect(results[15]).toBe(false);
  });

  it('fills lazily at 10 tokens a second, never above the burst', () => {
    const bucket = new TokenBucket();
    for (let i = 0; i < 15; i++) bucket.tryTake();
    vi.advanceTimersByTime(99);
    expect(bucket.tryTake()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(bucket.tryTake()).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(bucket.available()).toBe(15);
  });

  it('lets exactly rate x seconds + burst requests through over a long run', () => {
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 15 });
    let granted = 0;
    for (let ms = 0; ms < 10_000; ms += 10) {
      while (bucket.tryTake()) granted++;
      vi.advanceTimersByTime(10);
    }
    expect(granted).toBe(15 + 10 * 10 - 1);
  });

  it('take waits for the refill instead of failing', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 2, burst: 1 });
    await bucket.take();
    let done = false;
    const second = bucket.take().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await second;
    expect(done).toBe(true);
  });

  it('take with headroom leaves tokens for tryTake callers', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 15 });
    const taken: number[] = [];
    const backfill = (async () => {
      for (let i = 0; i < 12; i++) {
        await bucket.take({ headroom: 5 });
        taken.push(Date.now());
      }
    })();
    await vi.advanceTimersByTimeAsync(0);
    // 10 taken at once (15 - 5 headroom), then the poll still finds its tokens
    expect(taken).toHaveLength(10);
    expect(bucket.tryTake()).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    await backfill;
    expect(taken).toHaveLength(12);
  });

  it('take rejects with the signal reason when aborted while waiting', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1 });
    bucket.tryTake();
    const controller = new AbortController();
    const waiting = bucket.take({ signal: controller.signal });
    controller.abort(new Error('shutdown'));
    await expect(waiting).rejects.toThrow('shutdown');
    // the bare-signal form behaves the same
    await expect(bucket.take(controller.signal)).rejects.toThrow('shutdown');
  });

  it('is not drained by a clock that steps back', () => {
    let now = 1_000_000;
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 2, now: () => now });
    bucket.tryTake();
    now -= 60_000;
    expect(bucket.available()).toBe(1);
    now += 100;
    expect(bucket.available()).toBe(2);
  });

  it.each([
    ['ratePerSecond 0', () => new TokenBucket({ ratePerSecond: 0 }), /ratePerSecond/],
    ['burst 0.5', () => new TokenBucket({ burst: 0.5 }), /burst/],
    ['headroom = burst', () => new TokenBucket({ burst: 3 }).take({ headroom: 3 }), /headroom/],
  ])('rejects %s with the value named', async (_what, make, named) => {
    await expect(async () => make()).rejects.toThrow(named);
  });

  it('says whether a planned poll load fits', () => {
    const bucket = new TokenBucket();
    expect(bucket.sustains(8)).toBe(true);
    expect(bucket.sustains(10)).toBe(true);
    expect(bucket.sustains(11)).toBe(false);
    expect(bucket.sustains(5, 16)).toBe(false);
  });
});

describe('HostRateLimiters', () => {
  it('shares one bucket per host', () => {
    const limiters = new HostRateLimiters({ burst: 1 });
    expect(limiters.forHost('api.exchange.coinbase.com').tryTake()).toBe(true);
    expect(limiters.forHost('api.exchange.coinbase.com').tryTake()).toBe(false);
    expect(limiters.forHost('api.coinbase.com').tryTake()).toBe(true);
  });
});
