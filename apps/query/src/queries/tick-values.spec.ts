import { describe, expect, it } from 'vitest';
import { compareDecimal, isoNanos, isoSecond, secondToIso } from './tick-values';

describe('tick values', () => {
  it('takes the whole second of an ISO time without rounding the fraction', () => {
    expect(isoSecond('2026-11-27T10:59:59.999999Z')).toBe(Date.parse('2026-11-27T10:59:59Z') / 1000);
    expect(isoSecond('2026-11-27T00:00:00Z')).toBe(Date.parse('2026-11-27T00:00:00Z') / 1000);
    expect(secondToIso(isoSecond('2026-02-28T23:59:59.5Z'))).toBe('2026-02-28T23:59:59.000Z');
  });

  it('reads the fraction to the nanosecond', () => {
    expect(isoNanos('2026-11-27T00:00:00Z')).toBe(0);
    expect(isoNanos('2026-11-27T00:00:00.1Z')).toBe(100_000_000);
    expect(isoNanos('2026-11-27T00:00:00.123456Z')).toBe(123_456_000);
    expect(isoNanos('2026-11-27T00:00:00.123456789Z')).toBe(123_456_789);
  });

  it('compares decimal strings exactly', () => {
    expect(compareDecimal('97123.45', '97123.450')).toBe(0);
    expect(compareDecimal('9.5', '10')).toBeLessThan(0);
    expect(compareDecimal('0097', '97.0')).toBe(0);
    expect(compareDecimal('97123.450000000000001', '97123.45')).toBeGreaterThan(0);
    expect(compareDecimal('1.09', '1.1')).toBeLessThan(0);
  });
});
