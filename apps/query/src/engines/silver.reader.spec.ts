import { SILVER_DECIMAL_SCALE } from '@btc-etl/price-schema';
import { describe, expect, it } from 'vitest';
import { decimalBytesOf } from '../../test/silver.fixture';
import { decimalWithDigits, fullDecimal, isoWithDigits } from './silver.reader';

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
