import type { PriceTick } from '@btc-etl/price-schema';

/** Exchange answers at most this many candles per request and rejects wider ranges. */
export const MAX_CANDLES_PER_REQUEST = 300;

/** One candles request: bucket starts `firstSec` .. `lastSec` inclusive, both aligned to the granularity. */
export interface CandlePage {
  firstSec: number;
  lastSec: number;
}

/**
 * Split `[startMs, endMs)` into requests of at most 300 buckets. A bucket belongs to the range when its start does:
 * the first is the first aligned start at or after `startMs`, the last the last one before `endMs`. Empty when the
 * range holds no bucket start.
 */
export function candlePages(
  startMs: number,
  endMs: number,
  granularity: number,
  perPage = MAX_CANDLES_PER_REQUEST,
): CandlePage[] {
  const first = Math.ceil(startMs / 1000 / granularity) * granularity;
  const last = Math.ceil(endMs / 1000 / granularity) * granularity - granularity;
  const pages: CandlePage[] = [];
  for (let from = first; from <= last; from += perPage * granularity) {
    pages.push({ firstSec: from, lastSec: Math.min(last, from + (perPage - 1) * granularity) });
  }
  return pages;
}

/**
 * Merge pages of candle records (each newest first, as Exchange sends them, possibly overlapping) into one list,
 * oldest first, one record per bucket start, keeping only buckets inside `[startMs, endMs)`. The first copy seen wins.
 */
export function mergeCandleTicks(
  pages: readonly (readonly PriceTick[])[],
  startMs: number,
  endMs: number,
): PriceTick[] {
  const byTime = new Map<number, PriceTick>();
  for (const page of pages) {
    for (const tick of page) {
      const t = Date.parse(tick.exchange_time ?? '');
      if (t < startMs || t >= endMs || byTime.has(t)) continue;
      byTime.set(t, tick);
    }
  }
  return [...byTime.entries()].sort(([a], [b]) => a - b).map(([, tick]) => tick);
}
