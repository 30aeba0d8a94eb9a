import { describe, expect, it } from 'vitest';
import { okTick } from '@btc-etl/price-schema/testing';
import { candlePages, mergeCandleTicks } from './candle-pages';

const T0 = Date.parse('2026-11-27T00:00:00Z');

describe('candlePages', () => {
  it('keeps a range of up to 300 buckets in one request', () => {
    expect(candlePages(T0, T0 + 300 * 60_000, 60)).toEqual([{ firstSec: T0 / 1000, lastSec: T0 / 1000 + 299 * 60 }]);
  });

  it('splits 1000 buckets into 300 + 300 + 300 + 100 without gaps or overlaps', () => {
    const pages = candlePages(T0, T0 + 1000 * 60_000, 60);
    expect(pages.map((p) => (p.lastSec - p.firstSec) / 60 + 1)).toEqual([300, 300, 300, 100]);
    for (let i = 1; i < pages.length; i++) expect(pages[i]?.firstSec).toBe((pages[i - 1]?.lastSec ?? 0) + 60);
  });

  it('aligns an unaligned range to the bucket starts inside it', () => {
    expect(candlePages(T0 + 30_000, T0 + 150_000, 60)).toEqual([
      { firstSec: T0 / 1000 + 60, lastSec: T0 / 1000 + 120 },
    ]);
    expect(candlePages(T0 + 1, T0 + 59_000, 60)).toEqual([]);
  });
});

describe('mergeCandleTicks', () => {
  const candle = (minute: number, price = '1.00') =>
    okTick({
      source: 'coinbase-candles',
      scheduled_time: null,
      exchange_time: new Date(T0 + minute * 60_000).toISOString(),
      price,
    });

  it('returns oldest first, one per bucket (first copy wins), inside [start, end)', () => {
    const pages = [[candle(3), candle(2, '2.00'), candle(1)], [candle(2, '9.99'), candle(0), candle(-1)], [candle(4)]];
    const merged = mergeCandleTicks(pages, T0, T0 + 4 * 60_000);
    expect(merged.map((t) => t.exchange_time)).toEqual(
      [0, 1, 2, 3].map((m) => new Date(T0 + m * 60_000).toISOString()),
    );
    expect(merged[2]?.price).toBe('2.00');
  });
});
