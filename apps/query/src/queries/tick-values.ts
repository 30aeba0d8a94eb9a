/**
 * Hot-path helpers over a record's string fields. Every query compares times and prices the same way on both
 * engines, so these rules are written once here and mirrored in the SQL (see each `*.query.ts`).
 *
 * Times: a record's time is its `exchange_time`, falling back to `scheduled_time`. Buckets use its whole UTC second
 * (the first 19 characters, so no rounding of the fraction can move a tick into the next second); order within a
 * bucket uses the fraction to the nanosecond, then `record_id` as a tie-break.
 * Prices: decimal strings compared numerically and exactly; the strings themselves are what results return.
 */

import type { TimeColumn } from './query.types';

/**
 * A record's time as every query but freshness reads it: `exchange_time`, else `scheduled_time` (a plan's
 * `recordTime`).
 */
export const TICK_TIME: readonly TimeColumn[] = ['exchange_time', 'scheduled_time'];

const C0 = 48;

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) v = v * 10 + (s.charCodeAt(i) - C0);
  return v;
}

/** Whole UTC epoch seconds of an ISO-8601 `...Z` string as the price schema admits it (fraction ignored). */
export function isoSecond(iso: string): number {
  return (
    Date.UTC(
      digits(iso, 0, 4),
      digits(iso, 5, 2) - 1,
      digits(iso, 8, 2),
      digits(iso, 11, 2),
      digits(iso, 14, 2),
      digits(iso, 17, 2),
    ) / 1000
  );
}

/** The fraction of an ISO string's second in nanoseconds (0 when it has none). */
export function isoNanos(iso: string): number {
  if (iso.charCodeAt(19) !== 46 /* . */) return 0;
  let v = 0;
  let n = 0;
  for (let i = 20; i < iso.length && n < 9; i++, n++) {
    const c = iso.charCodeAt(i) - C0;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  for (; n < 9; n++) v *= 10;
  return v;
}

/** `new Date(sec * 1000).toISOString()`: the one format every query returns times in (`...T00:00:00.000Z`). */
export function secondToIso(sec: number): string {
  return new Date(sec * 1000).toISOString();
}

/**
 * Exact comparison of two non-negative decimal strings (`"97123.45"` vs `"97123.450"` are equal).
 * @returns negative, zero or positive like a sort comparator
 */
export function compareDecimal(a: string, b: string): number {
  if (a === b) return 0;
  const ad = a.indexOf('.');
  const bd = b.indexOf('.');
  let ai = ad === -1 ? a : a.slice(0, ad);
  let bi = bd === -1 ? b : b.slice(0, bd);
  ai = ai.replace(/^0+(?=\d)/, '');
  bi = bi.replace(/^0+(?=\d)/, '');
  if (ai.length !== bi.length) return ai.length - bi.length;
  if (ai !== bi) return ai < bi ? -1 : 1;
  const af = (ad === -1 ? '' : a.slice(ad + 1)).replace(/0+$/, '');
  const bf = (bd === -1 ? '' : b.slice(bd + 1)).replace(/0+$/, '');
  const len = Math.max(af.length, bf.length);
  const ap = af.padEnd(len, '0');
  const bp = bf.padEnd(len, '0');
  return ap === bp ? 0 : ap < bp ? -1 : 1;
}

/**
 * A position in time order: (second, nanos, record_id). Used for open/close (first/last) and for
 * breaking ties between equal prices, identically on both engines.
 */
export interface OrderKey {
  sec: number;
  nanos: number;
  id: string;
}

export function compareOrder(aSec: number, aNanos: number, aId: string, b: OrderKey): number {
  if (aSec !== b.sec) return aSec - b.sec;
  if (aNanos !== b.nanos) return aNanos - b.nanos;
  return aId === b.id ? 0 : aId < b.id ? -1 : 1;
}

/**
 * The first and the last price in time order of a group (a candle, a day): both engines order by
 * (second, nanos, record_id).
 */
export interface FirstLast {
  first: string;
  firstSec: number;
  firstNanos: number;
  firstId: string;
  last: string;
  lastSec: number;
  lastNanos: number;
  lastId: string;
}

export function newFirstLast(price: string, sec: number, nanos: number, id: string): FirstLast {
  return {
    first: price,
    firstSec: sec,
    firstNanos: nanos,
    firstId: id,
    last: price,
    lastSec: sec,
    lastNanos: nanos,
    lastId: id,
  };
}

export function updateFirstLast(s: FirstLast, price: string, sec: number, nanos: number, id: string): void {
  if (compareOrder(sec, nanos, id, { sec: s.firstSec, nanos: s.firstNanos, id: s.firstId }) < 0) {
    s.first = price;
    s.firstSec = sec;
    s.firstNanos = nanos;
    s.firstId = id;
  }
  if (compareOrder(sec, nanos, id, { sec: s.lastSec, nanos: s.lastNanos, id: s.lastId }) > 0) {
    s.last = price;
    s.lastSec = sec;
    s.lastNanos = nanos;
    s.lastId = id;
  }
}

const LIMB_MASK = (1n << 43n) - 1n;

/**
 * An unscaled decimal (a BigInt below 2^128) as three exact limbs: bits 86-127, 43-85, 0-42. Compared limb by limb,
 * most significant first, they order as the values do (the form of `TickColumns` prices).
 */
export function limbsOfUnscaled(unscaled: bigint): [number, number, number] {
  return [Number(unscaled >> 86n), Number((unscaled >> 43n) & LIMB_MASK), Number(unscaled & LIMB_MASK)];
}

/**
 * A decimal string's value x 10^18 (`TICK_PRICE_SCALE`) as limbs, or undefined when it has no such exact form (more
 * than 18 fraction digits that are not all zeros, or more than 20 integer digits): the typed path then compares it
 * as a string.
 */
export function decimalLimbs(text: string): [number, number, number] | undefined {
  const dot = text.indexOf('.');
  const int = (dot === -1 ? text : text.slice(0, dot)).replace(/^0+/, '');
  let frac = dot === -1 ? '' : text.slice(dot + 1);
  if (frac.length > 18) {
    if (/[1-9]/.test(frac.slice(18))) return undefined;
    frac = frac.slice(0, 18);
  }
  if (int.length > 20) return undefined;
  return limbsOfUnscaled(BigInt(`${int}${frac.padEnd(18, '0')}`));
}
