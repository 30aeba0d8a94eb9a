import fc from 'fast-check';
import { MISS_REASONS, PRICE_SOURCES, PRICE_TICK_COLUMNS, PRICE_TICK_FIELDS } from '../price-tick.schema';

// fast-check pieces for property tests of anything that reads price records: near misses of each column's format,
// wrong values, missing and unknown keys.

export const hexDigit = fc.constantFrom(...'0123456789abcdef'.split(''));
export const decimalDigits = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'.split('')), { minLength: min, maxLength: max }).map((d) => d.join(''));
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Times with each field pushed to and past its edge: most are no calendar time (31 February, 24:00, year 0099). */
export const edgyTime = fc
  .tuple(
    fc.integer({ min: 0, max: 9999 }),
    fc.integer({ min: 0, max: 13 }),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 25 }),
    fc.integer({ min: 0, max: 61 }),
    fc.integer({ min: 0, max: 61 }),
    fc.option(decimalDigits(0, 11), { nil: undefined }),
    fc.constantFrom('Z', 'z', '+00:00', ''),
  )
  .map(([y, mo, d, h, mi, s, fraction, zone]) => {
    const digits = fraction === undefined ? '' : `.${fraction}`;
    return `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${digits}${zone}`;
  });

/**
 * Records PriceTickSchema accepts, built from the given value arbitraries: ok or missed, one or both times, any subset
 * of the optional columns (`optional` by silver kind: decimal, timestamp, int64, int32, boolean).
 */
export function validTickOf(values: {
  decimal: fc.Arbitrary<string>;
  isoTime: fc.Arbitrary<string>;
  optional: Record<string, fc.Arbitrary<unknown>>;
}): fc.Arbitrary<Record<string, unknown>> {
  const optional = PRICE_TICK_COLUMNS.filter((c) => !PRICE_TICK_FIELDS[c].required);
  return fc
    .record({
      record_id: fc.array(hexDigit, { minLength: 32, maxLength: 32 }).map((h) => h.join('')),
      product_id: fc.constantFrom('BTC-USD', 'ETH-EUR', 'AB-CD', 'ABCDEFGHIJKL-USDC'),
      source: fc.constantFrom(...PRICE_SOURCES),
      missed: fc.option(fc.constantFrom(...MISS_REASONS), { nil: undefined }),
      price: values.decimal,
      times: fc.constantFrom('both', 'exchange', 'scheduled'),
      exchange_time: values.isoTime,
      scheduled_time: values.isoTime,
      ingest_time: values.isoTime,
      optional: fc.record(
        Object.fromEntries(optional.map((c) => [c, values.optional[PRICE_TICK_FIELDS[c].silver] ?? fc.constant(null)])),
        { requiredKeys: [] },
      ),
    })
    .map((t) => ({
      record_id: t.record_id,
      product_id: t.product_id,
      source: t.source,
      status: t.missed ? 'missed' : 'ok',
      price: t.missed ? null : t.price,
      exchange_time: t.times === 'scheduled' ? null : t.exchange_time,
      scheduled_time: t.times === 'exchange' ? null : t.scheduled_time,
      ingest_time: t.ingest_time,
      reason: t.missed ?? null,
      ...t.optional,
    }));
}

/** Any JSON value, with the near misses of each column's format well represented (plus the given valid ones). */
export function wildValue(...valid: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.constantFrom(-1, -0, 1.5, 1e21, Number.MAX_SAFE_INTEGER + 1, 2 ** 31, 2 ** 53),
    fc.string(),
    edgyTime,
    fc.constantFrom('-1', '+1', '1e5', '1.', '.5', '01', '00.5', '0x10', ' 1', '1 ', '１', '1234567890123456'),
    fc.constantFrom('2026-11-27T19:00:00.123456789Z', '2026-11-27T19:00:00.1234560001Z', '0099-01-01T00:00:00Z'),
    fc.constantFrom(...PRICE_SOURCES, ...MISS_REASONS, 'ok', 'missed', 'OK', 'BTC-USD', 'btc-usd', 'coinbase'),
    fc.array(hexDigit, { minLength: 31, maxLength: 33 }).map((h) => h.join('')),
    fc.constant('0123456789ABCDEF0123456789abcdef'),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
    ...valid,
  );
}

export type TickMutation =
  | { kind: 'set'; key: string; value: unknown }
  | { kind: 'delete'; key: string }
  | { kind: 'add'; key: string; value: unknown };

/** One edit of a record: a column set to a wild value, a column dropped, or an unknown key added. */
export function tickMutation(value: fc.Arbitrary<unknown>): fc.Arbitrary<TickMutation> {
  return fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom(...PRICE_TICK_COLUMNS), value }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...PRICE_TICK_COLUMNS) }),
    fc.record({
      kind: fc.constant('add' as const),
      key: fc.oneof(fc.constantFrom('Price', 'priceX', '__proto__', 'constructor', 'toString', ''), fc.string()),
      value,
    }),
  );
}

/**
 * A record after the edits, through a JSON round trip: what a parsed line looks like (own `__proto__` keys
 * included).
 */
export function mutateTick(tick: Record<string, unknown>, mutations: TickMutation[]): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(tick)) as Record<string, unknown>;
  for (const m of mutations) {
    if (m.kind === 'delete') delete copy[m.key];
    else Object.defineProperty(copy, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/** mulberry32: a seeded generator, so a spec or a bench makes the same data on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
