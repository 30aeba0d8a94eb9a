import { catchError } from '@btc-etl/testing';
import { parquetMetadata } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import {
  decodeSilverParquet,
  encodeSilverParquet,
  SILVER_COLUMNS,
  SILVER_LEXICAL_COLUMNS,
  silverFitIssue,
  SilverParquetEncoder,
  SilverValueError,
  type PriceTick,
} from './index';
import { missedTick, okTick } from './testing';

const wsTick = (i: number, overrides: Partial<PriceTick> = {}): PriceTick =>
  okTick({
    source: 'coinbase-ws-ticker',
    scheduled_time: null,
    sequence: 1000 + i,
    exchange_time: new Date(Date.UTC(2026, 10, 27, 19) + i * 1000).toISOString(),
    trade_id: 5000 + i,
    bid: '97123.44',
    ask: '97123.45',
    volume_24h: '12345.67890123',
    ...overrides,
  });

function concatChunks(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

describe('silver Parquet codec', () => {
  it('round-trips every record exactly, strings equal to the raw ones', async () => {
    const ticks: PriceTick[] = [
      okTick({ price: '97123.40', exchange_time: '2026-11-27T19:00:01Z', scheduled_time: '2026-11-27T19:00:01.000Z' }),
      okTick({ price: '1015', exchange_time: null, scheduled_time: '2026-11-27T19:00:02.000Z' }),
      okTick({ price: '0.000000000000000001', exchange_time: '2026-11-27T19:00:03.1Z', scheduled_time: null }),
      okTick({ price: '99999999999999999999.999999999999999999', exchange_time: '2026-11-27T19:00:04.123456Z' }),
      okTick({ price: '5.10000000000000000000000', exchange_time: '2026-11-27T19:00:05.123456000Z' }),
      missedTick('timeout', { scheduled_time: '2026-11-27T19:00:06.000Z', ingest_time: '2026-11-27T19:00:07.5Z' }),
      wsTick(7),
      okTick({
        source: 'coinbase-candles',
        exchange_time: '2026-11-27T19:01:00Z',
        scheduled_time: null,
        open: '97000',
        high: '97200.5',
        low: '96999.99',
        granularity_s: 60,
        backfilled: true,
      }),
      missedTick('sequence_gap', {
        source: 'coinbase-ws-ticker',
        scheduled_time: null,
        exchange_time: '2026-11-27T19:02:00.000001Z',
        gap_from_sequence: 10,
        gap_to_sequence: 12,
        gap_from_trade_id: null,
        gap_start: '2026-11-27T19:01:59.9Z',
        gap_end: '2026-11-27T19:02:00.000001Z',
      }),
    ].map((t, i) => ({ ...t, record_id: i.toString(16).padStart(32, '0') }));
    const bytes = encodeSilverParquet(ticks, { productId: 'BTC-USD' });
    const back = await decodeSilverParquet(bytes);
    const expected = ticks.map((t) =>
      Object.fromEntries(Object.entries(t).filter(([k, v]) => v !== undefined && (v !== null || !isOptional(k)))),
    );
    expect(back).toEqual(expected);
    expect(back.map((t) => t.price)).toEqual(ticks.map((t) => t.price));
  });

  it('keeps times far from 1970 exact (delta-encoded through BigInt where doubles would round)', async () => {
    const far = ['1800-01-01T00:00:00.000001Z', '1800-06-01T00:00:00.000003Z', '9999-12-31T23:59:59.999999Z'];
    const ticks = far.map((gap_start, i) =>
      okTick({ record_id: i.toString(16).padStart(32, '0'), exchange_time: `2026-11-27T19:00:0${i}Z`, gap_start }),
    );
    for (const group of [ticks.slice(0, 2), ticks]) {
      const back = await decodeSilverParquet(encodeSilverParquet(group, { productId: 'BTC-USD' }));
      expect(back.map((t) => t.gap_start)).toEqual(group.map((t) => t.gap_start));
    }
  });

  it('sorts by event time (exchange_time, else scheduled_time), then record_id', async () => {
    const a = okTick({ record_id: 'b'.repeat(32), exchange_time: null, scheduled_time: '2026-11-27T19:00:02.000Z' });
    const b = okTick({ record_id: 'a'.repeat(32), exchange_time: '2026-11-27T19:00:02.000Z' });
    const c = okTick({ record_id: 'c'.repeat(32), exchange_time: '2026-11-27T19:00:01.999999Z' });
    const back = await decodeSilverParquet(encodeSilverParquet([a, b, c], { productId: 'BTC-USD' }));
    expect(back.map((t) => t.record_id)).toEqual([c.record_id, b.record_id, a.record_id]);
  });

  it('types the columns for Athena: DECIMAL(38,18), TIMESTAMP(MICROS, UTC), with time statistics per row group', () => {
    const ticks = Array.from({ length: 250 }, (_, i) => wsTick(i, { record_id: i.toString(16).padStart(32, '0') }));
    const encoder = new SilverParquetEncoder({ productId: 'BTC-USD' });
    encoder.write(ticks.slice(0, 100), 100);
    encoder.write(ticks.slice(100), 100);
    const metadata = parquetMetadata(concatChunks(encoder.finish()).buffer as ArrayBuffer);
    const price = metadata.schema.find((e) => e.name === 'price');
    expect(price).toMatchObject({
      type: 'FIXED_LEN_BYTE_ARRAY',
      type_length: 16,
      converted_type: 'DECIMAL',
      precision: 38,
      scale: 18,
    });
    expect(metadata.schema.find((e) => e.name === 'exchange_time')).toMatchObject({
      type: 'INT64',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
    });
    expect(metadata.schema.some((e) => e.name === 'product_id')).toBe(false);
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([100, 100, 50]);
    const eventStats = metadata.row_groups.map((g) => {
      const chunk = g.columns.find((c) => c.meta_data?.path_in_schema[0] === 'event_time');
      return [chunk?.meta_data?.statistics?.min_value, chunk?.meta_data?.statistics?.max_value];
    });
    // hyparquet reads TIMESTAMP statistics as Dates (to the millisecond)
    expect(eventStats[0]).toEqual([new Date('2026-11-27T19:00:00.000Z'), new Date('2026-11-27T19:01:39.000Z')]);
    expect(eventStats[2]).toEqual([new Date('2026-11-27T19:03:20.000Z'), new Date('2026-11-27T19:04:09.000Z')]);
    expect(metadata.key_value_metadata).toContainEqual({ key: 'btc-etl.product_id', value: 'BTC-USD' });
  });

  it.each([
    ['21 integer digits', { price: '100000000000000000000' }, 'price', 'integer digits'],
    ['19 significant fraction digits', { price: '1.0000000000000000001' }, 'price', 'fraction digits'],
    ['leading zeros', { bid: '097123.45' }, 'bid', 'leading zeros'],
    ['nanoseconds', { exchange_time: '2026-11-27T19:00:00.123456789Z' }, 'exchange_time', 'microsecond'],
    // INT32 column: a larger (schema-valid) value used to be written wrapped to a negative number
    ['granularity_s beyond INT32', { granularity_s: 2_147_483_648 }, 'granularity_s', 'INT32'],
  ])('refuses %s loudly, naming record, column and value', (_what, overrides, column, reason) => {
    const tick = okTick(overrides as Partial<PriceTick>);
    const fit = silverFitIssue(tick);
    expect(fit).toBeInstanceOf(SilverValueError);
    expect(fit?.data).toMatchObject({ recordId: tick.record_id, column });
    expect(fit?.data.reason).toContain(reason);
    const error = catchError(() => encodeSilverParquet([tick], { productId: 'BTC-USD' }), SilverValueError);
    expect(error.data).toEqual(fit?.data);
  });

  it('accepts what fits, with trailing zeros past the scale', () => {
    expect(silverFitIssue(okTick({ price: '1.50000000000000000000000000000' }))).toBeUndefined();
    expect(silverFitIssue(okTick({ exchange_time: '2026-11-27T19:00:00.123456000Z' }))).toBeUndefined();
  });

  it('refuses records out of order, repeated, or of another product', () => {
    const encoder = new SilverParquetEncoder({ productId: 'BTC-USD' });
    encoder.write([wsTick(2)]);
    expect(catchError(() => encoder.write([wsTick(1)]), SilverValueError).data.reason).toContain('order');
    expect(catchError(() => encoder.write([wsTick(2)]), SilverValueError).data.reason).toContain('order');
    const eth = okTick({ product_id: 'ETH-USD' });
    expect(catchError(() => encoder.write([eth]), SilverValueError).data.column).toBe('product_id');
  });

  it('keeps one lexical form per decimal and time column', () => {
    expect(SILVER_LEXICAL_COLUMNS).toEqual([
      'price',
      'exchange_time',
      'scheduled_time',
      'ingest_time',
      'bid',
      'ask',
      'volume_24h',
      'open',
      'high',
      'low',
      'gap_start',
      'gap_end',
    ]);
    expect(SILVER_COLUMNS.map((c) => c.name)).not.toContain('product_id');
    expect(SILVER_COLUMNS.find((c) => c.name === 'price')?.glue).toBe('decimal(38,18)');
  });
});

function isOptional(name: string): boolean {
  return (
    !['record_id', 'product_id', 'source', 'status', 'price', 'exchange_time', 'scheduled_time'].includes(name) &&
    !['ingest_time', 'reason'].includes(name)
  );
}
