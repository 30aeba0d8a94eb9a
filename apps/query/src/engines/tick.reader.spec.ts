import { PRICE_TICK_COLUMNS, PRICE_TICK_FIELDS, PriceTickSchema, type PriceTick } from '@btc-etl/price-schema';
import {
  decimalDigits,
  edgyTime,
  mutateTick,
  tickMutation,
  validTickOf,
  wildValue,
} from '@btc-etl/price-schema/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPriceTickFast, readNdjson, toTick, type BadRecord } from './tick.reader';

// The fast path skips zod for speed; it must never accept what PriceTickSchema rejects, and what it accepts must be
// exactly what the schema would hand over.

const decimal = fc
  .tuple(decimalDigits(1, 7), fc.option(decimalDigits(1, 10), { nil: undefined }))
  .map(([i, f]) => (f === undefined ? i : `${i}.${f}`));

/** A valid ISO UTC time (years 1970..2199, 0-9 fraction digits). */
const isoTime = fc
  .tuple(
    fc.integer({ min: Date.UTC(1970, 0, 1) / 1000, max: Date.UTC(2199, 11, 31, 23, 59, 59) / 1000 }),
    fc.option(decimalDigits(1, 9), { nil: undefined }),
  )
  .map(([sec, fraction]) => `${new Date(sec * 1000).toISOString().slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`);

const int64 = fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER));
/** A record PriceTickSchema accepts: ok or missed, one or both times, any subset of the optional columns. */
const validTick = validTickOf({
  decimal,
  isoTime,
  optional: {
    decimal: fc.option(decimal, { nil: null }),
    timestamp: fc.option(isoTime, { nil: null }),
    int64: fc.option(int64, { nil: null }),
    int32: fc.option(int64, { nil: null }),
    boolean: fc.option(fc.boolean(), { nil: null }),
  },
});
/** Any JSON value (and undefined), with the near misses of each column's format well represented. */
const wild = wildValue(fc.constant(undefined), isoTime, decimal);
const mutation = tickMutation(wild);

/** The fast path's contract against the schema for one value. */
function checkAgainstSchema(value: unknown): void {
  const schema = PriceTickSchema.safeParse(value);
  if (isPriceTickFast(value)) {
    expect(schema.success, `fast path accepted what the schema rejects: ${JSON.stringify(value)}`).toBe(true);
    expect(value).toStrictEqual(schema.data);
  } else {
    // not required for safety, but the fast path must stay the common path: it rejects only what the schema does
    expect(schema.success, `fast path refused a valid record: ${JSON.stringify(value)}`).toBe(false);
  }
}

describe('isPriceTickFast against PriceTickSchema (property)', () => {
  it('accepts every generated valid record, as the schema hands it over', () => {
    fc.assert(
      fc.property(validTick, (tick) => {
        expect(PriceTickSchema.safeParse(tick).success).toBe(true);
        expect(isPriceTickFast(tick)).toBe(true);
        checkAgainstSchema(tick);
      }),
      { numRuns: 1_000 },
    );
  });

  it('agrees with the schema on mutated records (wrong values, missing and unknown keys)', () => {
    fc.assert(
      fc.property(validTick, fc.array(mutation, { minLength: 1, maxLength: 3 }), (tick, mutations) =>
        checkAgainstSchema(mutateTick(tick, mutations)),
      ),
      { numRuns: 5_000 },
    );
  });

  it('agrees with the schema on every kind of time, valid or not, in every time column', () => {
    const times = PRICE_TICK_COLUMNS.filter((c) => PRICE_TICK_FIELDS[c].silver === 'timestamp');
    fc.assert(
      fc.property(validTick, fc.constantFrom(...times), edgyTime, (tick, column, time) =>
        checkAgainstSchema({ ...tick, [column]: time }),
      ),
      { numRuns: 5_000 },
    );
  });

  it('agrees with the schema on values that are not objects', () => {
    fc.assert(
      fc.property(wild, (value) => checkAgainstSchema(value)),
      { numRuns: 300 },
    );
  });
});

const OK: PriceTick = {
  record_id: '0123456789abcdef0123456789abcdef',
  product_id: 'BTC-USD',
  source: 'coinbase-exchange-ticker',
  status: 'ok',
  price: '97123.45',
  exchange_time: '2026-11-27T19:53:15.123456Z',
  scheduled_time: '2026-11-27T19:53:15Z',
  ingest_time: '2026-11-27T19:53:15.300Z',
  reason: null,
};

describe('what the fast path refuses (the cases issue 12 names, and their neighbours)', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['31 February', { exchange_time: '2026-02-31T00:00:00Z' }, /exchange_time: not a valid calendar time/],
    ['29 February of a common year', { ingest_time: '2026-02-29T00:00:00Z' }, /ingest_time: not a valid calendar/],
    ['hour 24', { scheduled_time: '2026-11-27T24:00:00Z' }, /scheduled_time/],
    ['second 60', { scheduled_time: '2026-11-27T23:59:60Z' }, /scheduled_time/],
    ['a two-digit year', { ingest_time: '0099-11-27T00:00:00Z' }, /ingest_time: not a valid calendar/],
    ['an unknown source', { source: 'kraken' }, /source/],
    ['no source', { source: undefined }, /source/],
    ['an unknown key', { venue: 'coinbase' }, /venue/],
    ['a bad optional column', { bid: '-1' }, /bid/],
    ['a fractional trade_id', { trade_id: 1.5 }, /trade_id/],
    ['a bad gap time', { gap_start: '2026-04-31T00:00:00Z' }, /gap_start/],
  ])('%s', (_, change, message) => {
    const value: Record<string, unknown> = { ...OK, ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete value[k];
    expect(isPriceTickFast(value)).toBe(false);
    expect(toTick(value)).toMatch(message);
  });

  it('reads such a line as bad with the schema message, and the valid lines around it as records', async () => {
    const lines = [OK, { ...OK, exchange_time: '2026-02-31T00:00:00Z' }, { ...OK, record_id: 'f'.repeat(32) }];
    const ticks: PriceTick[] = [];
    const bad: BadRecord[] = [];
    const text = new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join('\n'));
    async function* chunks() {
      yield text;
    }
    await readNdjson(
      chunks(),
      { bucket: 'b', key: 'k' },
      { onTick: (t) => ticks.push({ ...t }), onBad: (b) => bad.push(b) },
    );
    expect(ticks.map((t) => t.record_id)).toEqual([OK.record_id, 'f'.repeat(32)]);
    expect(bad).toEqual([{ bucket: 'b', key: 'k', line: 2, message: expect.stringMatching(/calendar/) }]);
  });
});
