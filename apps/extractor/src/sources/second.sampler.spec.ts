import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PriceTickSchema, type PriceTick } from '@btc-etl/price-schema';
import { okTick } from '@btc-etl/price-schema/testing';
import { SecondSampler } from './second.sampler';

const T0 = Date.parse('2026-11-27T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const trade = (seq: number, atMs: number, price: string): PriceTick =>
  okTick({
    source: 'coinbase-ws-ticker',
    scheduled_time: null,
    exchange_time: iso(atMs),
    sequence: seq,
    trade_id: seq,
    price,
  });

describe('SecondSampler', () => {
  let out: PriceTick[];
  let sampler: SecondSampler;
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 - 200 });
    out = [];
    sampler = new SecondSampler({ productIds: ['BTC-USD'], emit: (t) => out.push(t), graceMs: 1_500 });
    sampler.start();
  });
  afterEach(() => {
    sampler.stop();
    vi.useRealTimers();
  });

  it('emits one record per second: the last trade at or before it, repeated through quiet seconds', () => {
    sampler.trade(trade(1, T0 - 100, '100.00'), T0 - 90);
    sampler.trade(trade(2, T0 + 300, '101.00'), T0 + 310);
    sampler.trade(trade(3, T0 + 900, '102.00'), T0 + 910);
    for (let s = 1; s <= 4; s++) sampler.alive('BTC-USD', T0 + s * 1000 + 10); // heartbeats, no more trades
    vi.advanceTimersByTime(200 + 3_000 + 1_500);
    expect(out.map((t) => [t.scheduled_time, t.status, t.price, t.sequence])).toEqual([
      [iso(T0), 'ok', '100.00', 1],
      [iso(T0 + 1000), 'ok', '102.00', 3],
      [iso(T0 + 2000), 'ok', '102.00', 3],
      [iso(T0 + 3000), 'ok', '102.00', 3],
    ]);
    for (const t of out) expect(PriceTickSchema.parse(t)).toEqual(t);
    expect(new Set(out.map((t) => t.record_id)).size).toBe(4);
    expect(out.every((t) => t.source === 'coinbase-ws-ticker')).toBe(true);
  });

  it('records a second the feed did not live past as missed (disconnected), never a stale price', () => {
    sampler.trade(trade(1, T0 - 100, '100.00'), T0 - 90);
    sampler.alive('BTC-USD', T0 + 500); // then silence: a stalled socket
    vi.advanceTimersByTime(200 + 2_000 + 1_500);
    expect(out.map((t) => [t.status, t.reason])).toEqual([
      ['ok', null],
      ['missed', 'disconnected'],
      ['missed', 'disconnected'],
    ]);
    for (const t of out) expect(PriceTickSchema.parse(t)).toEqual(t);
  });

  it('does not let a trade after S set the price of S, even when it arrives first', () => {
    sampler.trade(trade(2, T0 + 1_200, '105.00'), T0 + 1_210);
    sampler.trade(trade(1, T0 - 50, '100.00'), T0 + 1_220); // delayed delivery of an older trade
    sampler.alive('BTC-USD', T0 + 2_100);
    vi.advanceTimersByTime(200 + 2_000 + 1_500);
    expect(out.map((t) => t.price)).toEqual(['100.00', '100.00', '105.00']);
  });

  it('has no price before the first trade: missed, not invented', () => {
    sampler.alive('BTC-USD', T0 + 100);
    vi.advanceTimersByTime(200 + 1_500);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ status: 'missed', reason: 'disconnected', scheduled_time: iso(T0) });
  });
});
