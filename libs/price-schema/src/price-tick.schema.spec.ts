import { describe, expect, it } from 'vitest';
import { catchError } from '@btc-etl/testing';
import { InvalidPriceTickError, PRICE_TICK_COLUMNS, PriceTickSchema, parsePriceTick, recordId } from './index';
import { missedTick, okTick } from './testing';

describe('PriceTickSchema', () => {
  it('accepts an ok record and a missed record', () => {
    expect(PriceTickSchema.safeParse(okTick()).success).toBe(true);
    expect(PriceTickSchema.safeParse(missedTick('timeout')).success).toBe(true);
  });

  it.each([
    ['negative price', { price: '-1.00' }, 'price'],
    ['exponent price', { price: '1e5' }, 'price'],
    ['number price', { price: 97000 as unknown as string }, 'price'],
    ['bad product', { product_id: 'btc-usd' }, 'product_id'],
    ['local time', { ingest_time: '2026-11-27T00:00:00.000+01:00' }, 'ingest_time'],
    ['impossible date', { ingest_time: '2026-13-45T00:00:00.000Z' }, 'ingest_time'],
    ['31 February', { exchange_time: '2026-02-31T00:00:00.123456Z' }, 'exchange_time'],
    ['29 February of a common year', { scheduled_time: '2026-02-29T00:00:00.000Z' }, 'scheduled_time'],
    ['hour 24', { ingest_time: '2026-11-27T24:00:00.000Z' }, 'ingest_time'],
    ['second 60', { ingest_time: '2026-11-27T23:59:60.000Z' }, 'ingest_time'],
    ['unknown source', { source: 'binance' as never }, 'source'],
    ['ok without price', { price: null }, 'price'],
    ['ok with reason', { reason: 'timeout' as const }, 'reason'],
    ['no time at all', { scheduled_time: null, exchange_time: null }, 'scheduled_time'],
    ['negative trade id', { trade_id: -1 }, 'trade_id'],
  ])('rejects %s and names the field', (_name, override, field) => {
    expect(() => parsePriceTick({ ...okTick(), ...override })).toThrowError(
      expect.objectContaining({ name: 'InvalidPriceTickError', message: expect.stringContaining(field) }),
    );
  });

  it('rejects unknown keys so a typo never becomes a column', () => {
    const error = catchError(() => parsePriceTick({ ...okTick(), prcie: '1' }), InvalidPriceTickError);
    expect(error.message).toContain('prcie');
  });

  it('a missed record needs a reason and no price', () => {
    expect(() => parsePriceTick({ ...missedTick('overrun'), reason: null })).toThrow(/reason/);
    expect(() => parsePriceTick({ ...missedTick('overrun'), price: '1.0' })).toThrow(/price/);
  });

  it('accepts 29 February of a leap year', () => {
    expect(parsePriceTick(okTick({ exchange_time: '2028-02-29T23:59:59.999999Z' })).exchange_time).toBe(
      '2028-02-29T23:59:59.999999Z',
    );
  });

  it('keeps the price string exactly as sent', () => {
    expect(parsePriceTick(okTick({ price: '97123.450000' })).price).toBe('97123.450000');
  });

  it('lists its columns in a stable order starting with the identity', () => {
    expect(PRICE_TICK_COLUMNS.slice(0, 4)).toEqual(['record_id', 'product_id', 'source', 'status']);
  });
});

describe('recordId', () => {
  const base = { productId: 'BTC-USD', source: 'coinbase-exchange-ticker' as const };
  it('is deterministic for the same scheduled second', () => {
    const a = recordId({ ...base, scheduledTime: '2026-11-27T00:00:01.000Z', exchangeTime: 'x' });
    const b = recordId({ ...base, scheduledTime: '2026-11-27T00:00:01.000Z', exchangeTime: 'y' });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });
  it('differs by product, source and second', () => {
    const ids = new Set([
      recordId({ ...base, scheduledTime: '2026-11-27T00:00:01.000Z' }),
      recordId({ ...base, scheduledTime: '2026-11-27T00:00:02.000Z' }),
      recordId({ ...base, productId: 'ETH-USD', scheduledTime: '2026-11-27T00:00:01.000Z' }),
      recordId({ ...base, source: 'coinbase-spot', scheduledTime: '2026-11-27T00:00:01.000Z' }),
      recordId({ ...base, sequence: 1 }),
    ]);
    expect(ids.size).toBe(5);
  });
  it('refuses a record with no identity', () => {
    expect(() => recordId(base)).toThrow(/needs a scheduledTime, sequence or exchangeTime/);
  });
});
