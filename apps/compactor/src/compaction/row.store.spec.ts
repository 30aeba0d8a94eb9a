import { missedTick, okTick } from '@btc-etl/price-schema/testing';
import { describe, expect, it } from 'vitest';
import { canonical, polledTick } from '../../test/raw.fixtures';
import { RowStore } from './row.store';

describe('RowStore', () => {
  it('gives back every field exactly, in silver order (event time, then record_id)', () => {
    const ticks = [
      polledTick(100, { price: '97123.40', exchange_time: null }),
      okTick({
        record_id: 'f'.repeat(32),
        source: 'coinbase-ws-ticker',
        scheduled_time: null,
        exchange_time: '1970-01-01T00:00:50.000001Z',
        sequence: 9_007_199_254_740_991,
        trade_id: 0,
        bid: '1',
        volume_24h: '12345.678901234567890000',
        backfilled: false,
        gap_start: '1970-01-01T00:00:49.123456000Z',
      }),
      missedTick('http_429', { record_id: 'a'.repeat(32), scheduled_time: '1970-01-01T00:00:50.000001Z' }),
    ];
    const store = new RowStore();
    ticks.forEach((t) => store.add(t));
    const out = [...store.sortedRows()].map((row) => store.get(row));
    expect(out.map((t) => t.record_id)).toEqual(['a'.repeat(32), 'f'.repeat(32), ticks[0]?.record_id]);
    expect(canonical(out)).toEqual(canonical(ticks));
  });

  it('refuses a value silver cannot hold exactly, naming it (the compactor quarantines such lines before)', () => {
    const store = new RowStore();
    expect(() => store.add(polledTick(100, { gap_start: '1970-01-01T00:00:49.123456789Z' }))).toThrow(
      /gap_start "1970-01-01T00:00:49.123456789Z".*below the microsecond/,
    );
    expect(() => store.add(polledTick(101, { granularity_s: 2_147_483_648 }))).toThrow(/granularity_s.*INT32/);
    expect(store.size).toBe(0);
  });

  it('keeps one copy per record_id: the earliest ingest_time, the first one on a tie', () => {
    const store = new RowStore();
    const first = polledTick(10, { ingest_time: '2026-01-01T00:00:05.000Z', price: '1.0' });
    const earlier = polledTick(10, { ingest_time: '2026-01-01T00:00:01.000Z', price: '2.0' });
    const tie = polledTick(10, { ingest_time: '2026-01-01T00:00:01.000Z', price: '3.0' });
    expect([store.add(first), store.add(earlier), store.add(tie)]).toEqual([true, false, false]);
    expect(store.size).toBe(1);
    expect(store.duplicates).toBe(2);
    expect(store.get(store.sortedRows()[0] as number).price).toBe('2.0');
  });

  it('holds many records across hash growth and arena blocks', () => {
    const store = new RowStore();
    for (let i = 0; i < 60_000; i++) store.add(polledTick(1_800_000_000 + i));
    for (let i = 0; i < 60_000; i += 7) store.add(polledTick(1_800_000_000 + i));
    expect(store.size).toBe(60_000);
    expect(store.has(polledTick(1_800_000_000 + 59_999).record_id)).toBe(true);
    expect(store.has(polledTick(1_700_000_000).record_id)).toBe(false);
    const order = store.sortedRows();
    expect(store.get(order[59_999] as number)).toEqual(polledTick(1_800_000_000 + 59_999));
    const all = Array.from({ length: 60_000 }, (_, i) => polledTick(1_800_000_000 + i));
    expect(canonical([...order].map((row) => store.get(row)))).toEqual(canonical(all));
  });

  it("holds a partition's rows in memory that grows with them, not a full row group from the first record", () => {
    const big = polledTick(1_800_000_005, { volume_24h: '12345.678901234567890000' }); // kept as text
    const hour = Array.from({ length: 3_600 }, (_, i) => (i === 5 ? big : polledTick(1_800_000_000 + i)));
    const store = new RowStore();
    hour.forEach((t) => store.add(t));
    const full = new RowStore();
    for (let i = 0; i < 25_000; i++) full.add(polledTick(1_700_000_000 + i));

    // a 1 Hz hour (3,600 rows) held in chunks that doubled from 1,024 rows: 4,096, not 25,000
    expect(store.bytes).toBeLessThan(full.bytes / 4);
    expect(canonical([...store.sortedRows()].map((row) => store.get(row)))).toEqual(canonical(hour));
  });
});
