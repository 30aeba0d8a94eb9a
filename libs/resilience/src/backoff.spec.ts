import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, backoffMs, spreadMs } from './backoff';

describe('backoffCeilingMs', () => {
  it('doubles from the base by default and stops at the cap', () => {
    const ceilings = [0, 1, 2, 3, 4].map((attempt) => backoffCeilingMs(attempt, { baseMs: 100, capMs: 1_000 }));
    expect(ceilings).toEqual([100, 200, 400, 800, 1_000]);
  });

  it('grows by the given factor', () => {
    const ceilings = [0, 1, 2, 3].map((attempt) =>
      backoffCeilingMs(attempt, { baseMs: 250, capMs: 1_000, factor: 1.6 }),
    );
    expect(ceilings.map((c) => Math.round(c))).toEqual([250, 400, 640, 1_000]);
  });
});

describe('backoffMs', () => {
  it('draws under the ceiling (full jitter)', () => {
    expect(backoffMs(3, { baseMs: 100, capMs: 5_000, random: () => 0 })).toBe(0);
    expect(backoffMs(3, { baseMs: 100, capMs: 5_000, random: () => 0.999_999 })).toBe(799);
  });
});

describe('spreadMs', () => {
  it('stays within ±spread of the wait and never reaches 0', () => {
    expect(spreadMs(400, 0.2, () => 0)).toBe(320);
    expect(spreadMs(400, 0.2, () => 0.5)).toBe(400);
    expect(spreadMs(400, 0.2, () => 0.999_999)).toBe(480);
    expect(spreadMs(250.4, 0, () => 0.7)).toBe(250);
  });
});
