import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PriceTickSchema, recordId } from '@btc-etl/price-schema';
import { catchError } from '@btc-etl/testing';
import { CoinbaseArgumentError, CoinbaseParseError } from './coinbase.errors';
import { candleToPriceTick, exchangeTickerToPriceTick, spotToPriceTick } from './coinbase.mapper';
import { parseJsonKeepingNumberText, plainDecimal } from './json-text';

const fixtures = join(import.meta.dirname, '__fixtures__');
const fixtureText = (name: string) => readFileSync(join(fixtures, name), 'utf8');
const fixture = (name: string): unknown => JSON.parse(fixtureText(name));

const receivedAt = new Date('2026-11-27T19:53:15.210Z');
const scheduledTime = '2026-11-27T19:53:15.000Z';
const polled = { productId: 'BTC-USD', scheduledTime, receivedAt };

describe('exchangeTickerToPriceTick', () => {
  it('maps a captured ticker, keeping the decimal strings and microsecond time as sent', () => {
    const tick = exchangeTickerToPriceTick(fixture('ok/exchange-ticker.json'), polled);
    expect(tick).toEqual({
      record_id: recordId({ productId: 'BTC-USD', source: 'coinbase-exchange-ticker', scheduledTime }),
      product_id: 'BTC-USD',
      source: 'coinbase-exchange-ticker',
      status: 'ok',
      price: '97123.45',
      exchange_time: '2026-11-27T19:53:15.123456Z',
      scheduled_time: scheduledTime,
      ingest_time: '2026-11-27T19:53:15.210Z',
      reason: null,
      bid: '97123.44',
      ask: '97123.45',
      volume_24h: '12345.67891234',
      trade_id: 86326522,
    });
    expect(PriceTickSchema.safeParse(tick).success).toBe(true);
  });

  it('keeps the record id of a re-polled second and accepts a Date as scheduled time', () => {
    const a = exchangeTickerToPriceTick(fixture('ok/exchange-ticker.json'), polled);
    const b = exchangeTickerToPriceTick(fixture('ok/exchange-ticker.json'), {
      ...polled,
      scheduledTime: new Date(scheduledTime),
      receivedAt: new Date('2026-11-27T19:53:15.900Z'),
    });
    expect(b.record_id).toBe(a.record_id);
  });

  it('normalises a time with an offset to UTC', () => {
    const raw = { ...(fixture('ok/exchange-ticker.json') as object), time: '2026-11-27T20:53:15.5+01:00' };
    expect(exchangeTickerToPriceTick(raw, polled).exchange_time).toBe('2026-11-27T19:53:15.500Z');
  });

  it.each([
    ['ticker-missing-price.json', 'price'],
    ['ticker-negative-price.json', 'price'],
    ['ticker-non-numeric-price.json', 'price'],
    ['ticker-number-price.json', 'price'],
    ['ticker-zero-price.json', 'price'],
    ['ticker-bad-time.json', 'time'],
    ['exchange-error-body.json', 'price'],
  ])('rejects not-ok/%s naming %s', (name, path) => {
    const error = catchError(() => exchangeTickerToPriceTick(fixture(`not-ok/${name}`), polled), CoinbaseParseError);
    expect(error.issues.map((i) => i.path)).toContain(path);
    expect(error.missReason).toBe('parse_error');
    expect(error.bodySnippet.length).toBeGreaterThan(0);
  });

  it('rejects bad context as an argument error, not a parse error', () => {
    expect(() =>
      exchangeTickerToPriceTick(fixture('ok/exchange-ticker.json'), { ...polled, productId: 'btc-usd' }),
    ).toThrow(CoinbaseArgumentError);
    expect(() =>
      exchangeTickerToPriceTick(fixture('ok/exchange-ticker.json'), { ...polled, scheduledTime: 'soon' }),
    ).toThrow(/scheduledTime/);
  });
});

describe('spotToPriceTick', () => {
  it('maps a captured spot price with and without base', () => {
    const tick = spotToPriceTick(fixture('ok/spot.json'), polled);
    expect(tick).toMatchObject({
      source: 'coinbase-spot',
      price: '97123.45',
      exchange_time: null,
      scheduled_time: scheduledTime,
    });
    expect(tick.record_id).toBe(recordId({ productId: 'BTC-USD', source: 'coinbase-spot', scheduledTime }));
    expect(spotToPriceTick(fixture('ok/spot-no-base.json'), polled).price).toBe('1015.00');
  });

  it.each([
    ['spot-missing-amount.json', 'data.amount'],
    ['spot-negative-amount.json', 'data.amount'],
    ['spot-wrong-currency.json', 'data.currency'],
    ['spot-rate-limit-body.json', 'data'],
  ])('rejects not-ok/%s naming %s', (name, path) => {
    const error = catchError(() => spotToPriceTick(fixture(`not-ok/${name}`), polled), CoinbaseParseError);
    expect(error.issues.map((i) => i.path)).toContain(path);
  });

  it('rejects a base that is not the product', () => {
    const error = catchError(
      () => spotToPriceTick(fixture('ok/spot.json'), { ...polled, productId: 'ETH-USD' }),
      CoinbaseParseError,
    );
    expect(error.issues).toEqual([{ path: 'data.base', message: 'expected ETH, got BTC' }]);
  });
});

describe('candleToPriceTick', () => {
  const ctx = { productId: 'BTC-USD', granularity: 60 as const, receivedAt };

  it('maps captured candles from their text, keeping every digit that was sent', () => {
    const rows = parseJsonKeepingNumberText(fixtureText('ok/candles.json')) as unknown[];
    const ticks = rows.map((row) => candleToPriceTick(row, ctx));
    expect(ticks[0]).toEqual({
      record_id: recordId({
        productId: 'BTC-USD',
        source: 'coinbase-candles',
        exchangeTime: '2026-11-27T21:54:00.000Z/60',
      }),
      product_id: 'BTC-USD',
      source: 'coinbase-candles',
      status: 'ok',
      price: '97139.99',
      exchange_time: '2026-11-27T21:54:00.000Z',
      scheduled_time: null,
      ingest_time: '2026-11-27T19:53:15.210Z',
      reason: null,
      open: '97110',
      high: '97140.5',
      low: '97101.12',
      granularity_s: 60,
    });
    expect(ticks[1]?.open).toBe('97100.50');
    expect(ticks.every((t) => PriceTickSchema.safeParse(t).success)).toBe(true);
  });

  it('accepts plain numbers and sets backfilled when asked', () => {
    const tick = candleToPriceTick([1795816440, 97101.12, 97140.5, 97110, 97139.99, 3.5], { ...ctx, backfilled: true });
    expect(tick).toMatchObject({ price: '97139.99', backfilled: true });
  });

  it('gives candles of different widths at the same start different ids', () => {
    const row = fixture('ok/candles.json') as unknown[];
    const a = candleToPriceTick(row[0], ctx);
    const b = candleToPriceTick(row[0], { ...ctx, granularity: 300 });
    expect(a.record_id).not.toBe(b.record_id);
  });

  it.each([
    ['candle-short-row.json', ''],
    ['candle-negative-close.json', '4'],
    ['candle-non-numeric-close.json', '4'],
    ['candle-columns-swapped.json', ''],
  ])('rejects not-ok/%s naming "%s"', (name, path) => {
    const error = catchError(
      () => candleToPriceTick(parseJsonKeepingNumberText(fixtureText(`not-ok/${name}`)), ctx),
      CoinbaseParseError,
    );
    expect(error.issues.map((i) => i.path)).toContain(path);
  });

  it('rejects a granularity Exchange does not offer', () => {
    expect(() => candleToPriceTick([1795816440, 1, 1, 1, 1, 1], { ...ctx, granularity: 120 as never })).toThrow(
      /granularity/,
    );
  });

  it('has a not-ok fixture case for every file in not-ok/', () => {
    // keeps the folder and the tables above in step: a fixture nobody asserts on is a test that cannot fail
    const covered = [
      'ticker-missing-price.json',
      'ticker-negative-price.json',
      'ticker-non-numeric-price.json',
      'ticker-number-price.json',
      'ticker-zero-price.json',
      'ticker-bad-time.json',
      'exchange-error-body.json',
      'spot-missing-amount.json',
      'spot-negative-amount.json',
      'spot-wrong-currency.json',
      'spot-rate-limit-body.json',
      'candle-short-row.json',
      'candle-negative-close.json',
      'candle-non-numeric-close.json',
      'candle-columns-swapped.json',
    ];
    expect(readdirSync(join(fixtures, 'not-ok')).sort()).toEqual(covered.sort());
  });
});

describe('number text', () => {
  it('keeps literals of arrays and leaves strings alone', () => {
    expect(parseJsonKeepingNumberText('[[1,"2.50",3.10,-4e-2]]')).toEqual([['1', '2.50', '3.10', '-4e-2']]);
    expect(parseJsonKeepingNumberText('[" \\"9\\" ", 7.0]')).toEqual([' "9" ', '7.0']);
    expect(parseJsonKeepingNumberText('{"2":1.50,"1":2}')).toEqual({ 1: 2, 2: 1.5 });
  });

  it.each([
    ['1e-7', '0.0000001'],
    ['1.5e-7', '0.00000015'],
    ['2.5E+3', '2500'],
    ['1.2345e2', '123.45'],
    ['-3e0', '-3'],
    ['97100.50', '97100.50'],
  ])('plainDecimal(%s) = %s', (literal, expected) => {
    expect(plainDecimal(literal)).toBe(expected);
  });
});
