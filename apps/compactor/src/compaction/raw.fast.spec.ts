import {
  encodeNdjsonLine,
  PRICE_TICK_COLUMNS,
  PRICE_TICK_FIELDS,
  SilverColumnBatch,
  type PriceTick,
} from '@btc-etl/price-schema';
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
import { lastLineEnd, parseLineAt, parseLineFast } from './raw.fast';
import { parseRawLine } from './raw.lines';

// The fast path reads line bytes straight into typed columns. Its contract with the slow path (JSON.parse, the
// schema, silverFitIssue): whatever it accepts, the slow path accepts too, as the same record, row for row; and it
// accepts the lines the pipeline writes, so it is the common path.

const digits = decimalDigits;
/** Decimals the fast path takes: no leading zero, at most 15 digits. */
const decimal = fc
  .tuple(
    fc.oneof(
      fc.constant('0'),
      fc.tuple(fc.constantFrom(...'123456789'.split('')), digits(0, 6)).map(([a, b]) => a + b),
    ),
    fc.option(digits(1, 8), { nil: undefined }),
  )
  .map(([i, f]) => (f === undefined ? i : `${i}.${f}`));
/** Valid times, 0-9 fraction digits, zeros below the microsecond (silver holds them); years 1000-9999. */
const isoTime = fc
  .tuple(
    fc.integer({ min: Date.UTC(1000, 0, 1) / 1000, max: Date.UTC(9999, 11, 31, 23, 59, 59) / 1000 }),
    fc.option(digits(1, 6), { nil: undefined }),
    fc.integer({ min: 0, max: 3 }),
  )
  .map(([sec, fraction, zeros]) => {
    const digits = fraction ? `.${fraction}${'0'.repeat(Math.min(zeros, 9 - fraction.length))}` : '';
    return `${new Date(sec * 1000).toISOString().slice(0, 19)}${digits}Z`;
  });
const int64 = fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(2 ** 31 - 1));
const optionalValue: Record<string, fc.Arbitrary<unknown>> = {
  decimal: fc.option(decimal, { nil: null }),
  timestamp: fc.option(isoTime, { nil: null }),
  int64: fc.option(int64, { nil: null }),
  int32: fc.option(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { nil: null }),
  boolean: fc.option(fc.boolean(), { nil: null }),
};
const OPTIONAL = PRICE_TICK_COLUMNS.filter((c) => !PRICE_TICK_FIELDS[c].required);
const validTick = validTickOf({ decimal, isoTime, optional: optionalValue });

const mutation = tickMutation(wildValue(isoTime, decimal));

/** Text edits a line may suffer: whitespace, escapes, a repeated key, cut or doubled bytes. */
const textEdit = fc.oneof(
  fc.record({
    at: fc.nat(),
    insert: fc.constantFrom(' ', '\t', '\\u0041', '"', ',', '}', '{', '\u00e9', '0', '.', '-'),
  }),
  fc.record({ at: fc.nat(), cut: fc.integer({ min: 1, max: 5 }) }),
);

const fast = new SilverColumnBatch(4);
const slow = new SilverColumnBatch(1);

/** The contract for one line: what the fast path accepts, the slow path accepts as the same row. */
function checkLine(text: string, row = 2): boolean {
  const bytes = Buffer.from(`xx${text}\nyy`);
  const end = 2 + Buffer.byteLength(text);
  // the line whose end is not known yet (parseLineAt) reads the same, and finds that end; a \r before it tolerated
  const crlf = Buffer.from(`xx${text}\r\n{`);
  const atCrlf = parseLineAt(crlf, 2, fast, row);
  expect(atCrlf === undefined || lastLineEnd() === end + 1, text).toBe(true);
  const at = parseLineAt(bytes, 2, fast, row);
  expect(at === undefined || lastLineEnd() === end, text).toBe(true);
  const product = parseLineFast(bytes, 2, end, fast, row);
  expect(at, `parseLineAt and parseLineFast disagree on ${text}`).toBe(product);
  expect(atCrlf).toBe(product);
  const parsed = parseRawLine(text, 1);
  if (product === undefined) return false;
  expect('tick' in parsed, `fast path accepted what the slow path refuses: ${text}`).toBe(true);
  const tick = (parsed as { tick: PriceTick }).tick;
  expect(product).toBe(tick.product_id);
  slow.setTick(0, tick);
  expect(fast.tick(row, product)).toEqual(slow.tick(0, product));
  return true;
}

describe('parseLineFast against the slow path (property)', () => {
  it('accepts every line the pipeline writes for a valid record, as the same row', () => {
    fc.assert(
      fc.property(validTick, fc.integer({ min: 0, max: 3 }), (tick, row) => {
        const line = encodeNdjsonLine(tick as PriceTick).trimEnd();
        expect(checkLine(line, row), line).toBe(true);
        // and with every key present, nulls written out
        expect(checkLine(JSON.stringify({ ...Object.fromEntries(OPTIONAL.map((c) => [c, null])), ...tick }), row)).toBe(
          true,
        );
      }),
      { numRuns: 1_000 },
    );
  });

  it('never accepts what the slow path refuses: mutated records', () => {
    fc.assert(
      fc.property(validTick, fc.array(mutation, { minLength: 1, maxLength: 3 }), (tick, mutations) => {
        checkLine(JSON.stringify(mutateTick(tick, mutations)));
      }),
      { numRuns: 5_000 },
    );
  });

  it('never accepts what the slow path refuses: edited text', () => {
    fc.assert(
      fc.property(validTick, fc.array(textEdit, { minLength: 1, maxLength: 3 }), (tick, edits) => {
        let text = JSON.stringify(tick);
        for (const edit of edits) {
          const at = edit.at % (text.length + 1);
          text =
            'insert' in edit
              ? text.slice(0, at) + edit.insert + text.slice(at)
              : text.slice(0, at) + text.slice(at + edit.cut);
        }
        checkLine(text);
      }),
      { numRuns: 5_000 },
    );
  });

  it('agrees on every kind of time, valid or not, in every time column', () => {
    const times = PRICE_TICK_COLUMNS.filter((c) => PRICE_TICK_FIELDS[c].silver === 'timestamp');
    fc.assert(
      fc.property(validTick, fc.constantFrom(...times), edgyTime, (tick, column, time) => {
        checkLine(JSON.stringify({ ...tick, [column]: time }));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('parseLineFast on named cases', () => {
  const base = {
    record_id: '0123456789abcdef0123456789abcdef',
    product_id: 'BTC-USD',
    source: 'coinbase-ws-ticker',
    status: 'ok',
    price: '97123.40',
    exchange_time: '2026-11-27T19:53:15.123456Z',
    scheduled_time: null,
    ingest_time: '2026-11-27T19:53:15.300Z',
    reason: null,
    volume_24h: '12345.67890123',
    sequence: 90_000_000_000,
  };

  it('reads a ticker line into its typed row', () => {
    expect(checkLine(JSON.stringify(base), 0)).toBe(true);
    expect(fast.tick(0, 'BTC-USD')).toEqual({ ...base, scheduled_time: null });
  });

  it("reads each line's product from its own bytes, also over a reused read buffer", () => {
    // getChunks reads every chunk into one buffer: the product remembered from the last line must be a copy, not a
    // view of bytes the next read overwrites (was: a view, so a BTC line written where an ETH line was read as ETH)
    const eth = `${JSON.stringify({ ...base, product_id: 'ETH-USD' })}\n`;
    const buffer = Buffer.from(eth);
    expect(parseLineAt(buffer, 0, fast, 0)).toBe('ETH-USD');
    buffer.write(`${JSON.stringify(base)}\n`);
    expect(parseLineAt(buffer, 0, fast, 0)).toBe('BTC-USD');
  });

  it.each<[string, string]>([
    ['whitespace', JSON.stringify(base, null, 1)],
    ['a repeated key', JSON.stringify(base).replace('}', ',"price":"1"}')],
    ['an unknown key', JSON.stringify({ ...base, extra: 1 })],
    ['an escape in a string', JSON.stringify(base).replace('BTC-USD', 'BTC\\u002dUSD')],
    [
      'a decimal beyond 15 digits (valid: the slow path keeps it)',
      JSON.stringify({ ...base, price: '1234567890.123456' }),
    ],
    ['a leading zero (the slow path quarantines it)', JSON.stringify({ ...base, price: '097123.4' })],
    ['digits below the microsecond', JSON.stringify({ ...base, exchange_time: '2026-11-27T19:53:15.1234567Z' })],
    ['an ok record without a price', JSON.stringify({ ...base, price: null })],
    ['a missed record with a price', JSON.stringify({ ...base, status: 'missed', reason: 'timeout' })],
    ['no event time', JSON.stringify({ ...base, exchange_time: null })],
    ['29 February of a common year', JSON.stringify({ ...base, exchange_time: '2026-02-29T00:00:00Z' })],
    ['year 0099 (no calendar time for the schema)', JSON.stringify({ ...base, exchange_time: '0099-01-01T00:00:00Z' })],
    ['granularity_s beyond INT32', JSON.stringify({ ...base, granularity_s: 2 ** 31 })],
    ['a number with a fraction', JSON.stringify(base).replace('90000000000', '90000000000.0')],
    ['trailing bytes', `${JSON.stringify(base)} `],
  ])('leaves %s to the slow path', (_, text) => {
    expect(checkLine(text)).toBe(false);
  });
});
