import { SILVER_DECIMAL_SCALE } from '@btc-etl/price-schema';
import { describe, expect, it } from 'vitest';
import { decimalBytesOf } from '../../test/silver.fixture';
import { limbsOfUnscaled } from '../queries/tick-values';
import { decimalTextFromLimbs, decimalWithDigits, fullDecimal, isoWithDigits } from './silver.reader';

/** The reference: the 16 big-endian bytes as one BigInt, printed with the scale's digits. */
function reference(unscaled: bigint): string {
  const s = unscaled.toString().padStart(SILVER_DECIMAL_SCALE + 1, '0');
  return `${s.slice(0, -SILVER_DECIMAL_SCALE)}.${s.slice(-SILVER_DECIMAL_SCALE)}`;
}
const bytesOf = decimalBytesOf;

describe('silver value decoding', () => {
  it.each([
    0n,
    1n,
    10n ** 18n,
    97123450000000000000000n,
    10n ** 38n - 1n, // DECIMAL(38,18) at its largest
    123456789012345678901234567n,
    (1n << 64n) + 12345n,
  ])('DECIMAL(38,18) %s as text, exactly as BigInt would print it', (unscaled) => {
    expect(fullDecimal(bytesOf(unscaled))).toBe(reference(unscaled));
  });

  it('agrees with BigInt on pseudo-random values of every size', () => {
    let x = 0x9e3779b97f4a7c15n;
    for (let i = 0; i < 2000; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) % 10n ** 38n;
      const unscaled = x >> BigInt(i % 120);
      expect(fullDecimal(bytesOf(unscaled))).toBe(reference(unscaled));
    }
  });

  it('writes a price from its limbs as the general path does, or declines (inexact or past 2^53)', () => {
    let x = 0x2545f4914f6cdd1dn;
    let fast = 0;
    for (let i = 0; i < 3000; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
      const digits = i % 20; // 19: more than the 18 silver keeps, declined
      const scale = 10n ** BigInt(Math.max(0, SILVER_DECIMAL_SCALE - digits));
      // a written price (a multiple of the scale) of any size up to DECIMAL(38,18), or now and then a value that is not
      const unscaled = ((x >> BigInt(i % 64)) * scale + (i % 7 === 0 ? x % scale : 0n)) % 10n ** 38n;
      const [hi, mid, lo] = limbsOfUnscaled(unscaled);
      const text = decimalTextFromLimbs(hi, mid, lo, digits);
      const exact = digits <= SILVER_DECIMAL_SCALE && unscaled % scale === 0n && unscaled / scale < 2n ** 53n;
      if (!exact) {
        expect(text).toBeUndefined();
        continue;
      }
      fast++;
      expect(text).toBe(decimalWithDigits(reference(unscaled), digits));
    }
    expect(fast).toBeGreaterThan(1000);
    expect(decimalTextFromLimbs(...limbsOfUnscaled(97123450000000000000000n), 2)).toBe('97123.45');
    expect(decimalTextFromLimbs(...limbsOfUnscaled(10000000000000n), 8)).toBe('0.00001000');
    expect(decimalTextFromLimbs(...limbsOfUnscaled(0n), 0)).toBe('0');
    expect(decimalTextFromLimbs(...limbsOfUnscaled(0n), 3)).toBe('0.000');
  });

  it.each([
    ['97123.450000000000000000', 2, '97123.45'],
    ['97123.450000000000000000', 0, '97123'],
    ['97123.450000000000000000', 4, '97123.4500'],
    ['0.000010000000000000', 8, '0.00001000'],
    ['1.000000000000000000', 20, '1.00000000000000000000'],
  ])('%s with %i digits is %s', (full, digits, text) => {
    expect(decimalWithDigits(full, digits)).toBe(text);
  });

  it.each([
    [Date.parse('2026-11-27T10:00:00Z') * 1000, 0, '2026-11-27T10:00:00Z'],
    [Date.parse('2026-11-27T10:00:00Z') * 1000 + 123456, 6, '2026-11-27T10:00:00.123456Z'],
    [Date.parse('2026-11-27T10:00:00Z') * 1000 + 120000, 3, '2026-11-27T10:00:00.120Z'],
    [Date.parse('2026-11-27T23:59:59Z') * 1000 + 5, 9, '2026-11-27T23:59:59.000005000Z'],
    [Date.parse('1999-12-31T23:59:59Z') * 1000 + 1, 1, '1999-12-31T23:59:59.0Z'],
  ])('%i micros with %i digits is %s', (micros, digits, iso) => {
    expect(isoWithDigits(micros, digits, { day: Number.NaN, prefix: '' })).toBe(iso);
  });
});
