/**
 * Deterministic prices for the fake Coinbase: one seeded random walk (a Brownian motion of the log price, sampled every
 * second) per product. The value at any second is computed in O(log n) by midpoint displacement (a Brownian bridge)
 * between anchors 2^16 s apart, so a test can ask for a price in 2020 or 2030 without walking every second in between,
 * and the ticker, the spot price and the candles of one product all agree with each other.
 */

/** Start price and quote decimals of one product the fake knows. */
export interface FakeProduct {
  /** Price at the walk's origin (2026-01-01T00:00:00Z). */
  startPrice: number;
  /** Digits after the point in quoted prices (2 for USD/EUR quotes). */
  decimals?: number;
}

/** Products the fake knows unless told otherwise. Unknown products get Coinbase's 404. */
export const DEFAULT_FAKE_PRODUCTS: Readonly<Record<string, FakeProduct>> = {
  'BTC-USD': { startPrice: 97_000, decimals: 2 },
  'ETH-USD': { startPrice: 3_400, decimals: 2 },
  'SOL-USD': { startPrice: 190, decimals: 2 },
  'BTC-EUR': { startPrice: 90_000, decimals: 2 },
  'ETH-BTC': { startPrice: 0.035, decimals: 5 },
};

export interface PriceWalkOptions {
  /** Same seed, same prices. */
  seed?: number;
  products?: Readonly<Record<string, FakeProduct>>;
  /** Volatility of the log price per sqrt(second); 1e-4 gives BTC-like ~3 % a day. */
  sigmaPerSqrtSecond?: number;
  /** Share of candles that are missing (a minute without trades has no candle), 0..1, seeded. */
  candleGapRate?: number;
}

/** One candle exactly as Exchange sends it: `[time, low, high, open, close, volume]`, time in epoch seconds. */
export type FakeCandle = [time: number, low: number, high: number, open: number, close: number, volume: number];

export interface PriceWalk {
  readonly products: ReadonlySet<string>;
  /** Quote decimals of a product. */
  decimalsOf(productId: string): number;
  /** The price at a moment (it changes once a second), as a number rounded to the product's decimals. */
  priceAt(productId: string, atMs: number): number;
  /** The same price as the decimal string the fake serves (`"97123.45"`). */
  priceTextAt(productId: string, atMs: number): string;
  /**
   * The candle starting at `startSec` (aligned to `granularity`), or undefined when the seeded gap rate drops it.
   * open = price at the start, close = price at the last second, high/low = extremes sampled at most 60 times.
   */
  candleAt(productId: string, granularity: number, startSec: number): FakeCandle | undefined;
  /** A deterministic uniform number in [0, 1) for (label, a, b): trade sizes, latency draws. */
  uniform(label: string, a: number, b?: number): number;
}

const ORIGIN_SEC = Date.UTC(2026, 0, 1) / 1000;
const TOP = 2 ** 16;

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finaliser over four 32-bit words: cheap, well mixed, deterministic. */
function mix(a: number, b: number, c: number, d: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b) ^ Math.imul(d, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Create the seeded price walk shared by every endpoint of the fake. */
export function createPriceWalk(options: PriceWalkOptions = {}): PriceWalk {
  const seed = (options.seed ?? 1) >>> 0;
  const products = options.products ?? DEFAULT_FAKE_PRODUCTS;
  const sigma = options.sigmaPerSqrtSecond ?? 1e-4;
  const gapRate = options.candleGapRate ?? 0;
  const anchors = new Map<string, Map<number, number>>();

  const unit = (p: number, level: number, index: number, salt: number): number =>
    (mix(seed, p, level * 2 + salt, index >>> 0) + 0.5) / 2 ** 32;
  // Box-Muller over two independent hashes of the same point.
  const gauss = (p: number, level: number, index: number): number =>
    Math.sqrt(-2 * Math.log(unit(p, level, index, 0))) * Math.cos(2 * Math.PI * unit(p, level, index, 1));

  const productOf = (productId: string): FakeProduct => {
    const product = products[productId];
    if (!product) throw new RangeError(`the fake Coinbase does not know product ${productId}`);
    return product;
  };

  /** Log-price offset at anchor k (second k * 2^16 from the origin): a walk both ways from anchor 0, cached. */
  const anchor = (p: number, k: number): number => {
    let cache = anchors.get(String(p));
    if (!cache) anchors.set(String(p), (cache = new Map([[0, 0]])));
    const hit = cache.get(k);
    if (hit !== undefined) return hit;
    const stepSigma = sigma * Math.sqrt(TOP);
    const dir = k > 0 ? 1 : -1;
    let i = 0;
    let value = 0;
    // walk from the nearest cached anchor towards k
    for (let j = k - dir; ; j -= dir) {
      const cached = cache.get(j);
      if (cached !== undefined) {
        i = j;
        value = cached;
        break;
      }
    }
    while (i !== k) {
      const next = i + dir;
      value += dir * stepSigma * gauss(p, 99, dir > 0 ? i : next);
      cache.set(next, value);
      i = next;
    }
    return value;
  };

  const logOffsetAt = (p: number, second: number): number => {
    const rel = second - ORIGIN_SEC;
    const k = Math.floor(rel / TOP);
    let left = k * TOP;
    let right = left + TOP;
    let vLeft = anchor(p, k);
    let vRight = anchor(p, k + 1);
    let level = 0;
    while (right - left > 1) {
      const mid = (left + right) / 2;
      const vMid = (vLeft + vRight) / 2 + sigma * Math.sqrt((right - left) / 4) * gauss(p, level, mid);
      if (rel < mid) {
        right = mid;
        vRight = vMid;
      } else {
        left = mid;
        vLeft = vMid;
      }
      level++;
    }
    return rel === left ? vLeft : vRight;
  };

  const decimalsOf = (productId: string): number => productOf(productId).decimals ?? 2;
  const priceAtSecond = (productId: string, second: number): number => {
    const product = productOf(productId);
    const decimals = decimalsOf(productId);
    const raw = product.startPrice * Math.exp(logOffsetAt(hashString(productId), second));
    const minimum = 10 ** -decimals;
    return Number(Math.max(raw, minimum).toFixed(decimals));
  };

  return {
    products: new Set(Object.keys(products)),
    decimalsOf,
    priceAt: (productId, atMs) => priceAtSecond(productId, Math.floor(atMs / 1000)),
    priceTextAt: (productId, atMs) => priceAtSecond(productId, Math.floor(atMs / 1000)).toFixed(decimalsOf(productId)),
    candleAt(productId, granularity, startSec) {
      const p = hashString(productId);
      if (gapRate > 0 && unit(p, 200 + granularity, startSec, 0) < gapRate) return undefined;
      const step = Math.max(1, Math.floor(granularity / 60));
      const last = startSec + granularity - 1;
      const open = priceAtSecond(productId, startSec);
      const close = priceAtSecond(productId, last);
      let low = Math.min(open, close);
      let high = Math.max(open, close);
      for (let t = startSec + step; t < last; t += step) {
        const price = priceAtSecond(productId, t);
        if (price < low) low = price;
        if (price > high) high = price;
      }
      const volume = Number((unit(p, 300 + granularity, startSec, 1) * 10 * (granularity / 60)).toFixed(8));
      return [startSec, low, high, open, close, volume];
    },
    uniform: (label, a, b = 0) => unit(hashString(label), 400, a, b & 1),
  };
}
