import type { PriceTick } from '@btc-etl/price-schema';
import { missedTick, okTick } from '@btc-etl/price-schema/testing';
import { describe, expect, it } from 'vitest';
import { prng } from '../../test/raw-data.generator';
import { ohlcQuery } from './ohlc.query';
import type { TickColumns } from './query.types';
import { decimalLimbs, isoNanos, isoSecond, limbsOfUnscaled } from './tick-values';

/**
 * The typed path of the OHLC accumulator (`addColumns`, fed silver's typed columns) against its string path (`add`,
 * fed raw records): the same records must give the same candles, strings included, however they are split between
 * the two paths and into batches, in any order.
 */

/** Records as the silver reader hands them over: micros, price limbs, and the raw strings on demand. */
function columnsOf(ticks: readonly PriceTick[]): TickColumns {
  const rows = ticks.length;
  const ok = new Uint8Array(rows);
  const eventMicros = new Float64Array(rows);
  const priceHi = new Float64Array(rows);
  const priceMid = new Float64Array(rows);
  const priceLo = new Float64Array(rows);
  ticks.forEach((t, i) => {
    const time = t.exchange_time ?? t.scheduled_time;
    if (time === null) throw new Error('a record without an event time');
    eventMicros[i] = isoSecond(time) * 1e6 + isoNanos(time) / 1000;
    if (t.status === 'ok' && t.price !== null) {
      ok[i] = 1;
      const limbs = decimalLimbs(t.price);
      if (limbs === undefined) throw new Error(`${t.price} cannot be in silver`);
      [priceHi[i], priceMid[i], priceLo[i]] = limbs;
    }
  });
  return {
    productId: 'BTC-USD',
    rows,
    ok,
    eventMicros,
    priceHi,
    priceMid,
    priceLo,
    priceText: (i) => ticks[i]?.price as string,
    tieBreak: (i) => ticks[i]?.record_id as string,
  };
}

// prices whose values repeat under other spellings (trailing zeros, no fraction), and the extremes DECIMAL(38,18) holds
const PRICES = [
  '100',
  '100.0',
  '100.000000000000000000',
  '99.5',
  '99.50',
  '101.25',
  '101.250',
  '0.000000000000000001',
  '0.000000000000000001000',
  '99999999999999999999.999999999999999999',
  '12345678901234567890.5',
  '12345678901234567890.50',
];
// raw records can hold values silver cannot (more than 18 significant fraction digits): they only come through `add`
const RAW_ONLY_PRICES = ['100.0000000000000000001', '99.4999999999999999999'];
// equal times under other spellings, so ties on time are frequent
const FRACTIONS = ['', '.5', '.500', '.500000', '.000001', '.25', '.250000000'];

function randomTicks(seed: number, n: number): { ticks: PriceTick[]; rawOnly: Set<PriceTick> } {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const ticks: PriceTick[] = [];
  const rawOnly = new Set<PriceTick>();
  for (let k = 0; k < n; k++) {
    const second = `2026-11-27T10:0${Math.floor(rand() * 3)}:0${Math.floor(rand() * 3)}`;
    const time = `${second}${pick(FRACTIONS)}Z`;
    const id = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join('');
    const r = rand();
    if (r < 0.1) {
      ticks.push(missedTick('timeout', { record_id: id, scheduled_time: time }));
    } else if (r < 0.15) {
      const t = okTick({ record_id: id, exchange_time: time, price: pick(RAW_ONLY_PRICES) });
      ticks.push(t);
      rawOnly.add(t);
    } else {
      // exchange time, or the due second when there is none
      ticks.push(
        rand() < 0.2
          ? okTick({ record_id: id, exchange_time: null, scheduled_time: time, price: pick(PRICES) })
          : okTick({ record_id: id, exchange_time: time, price: pick(PRICES) }),
      );
    }
  }
  return { ticks, rawOnly };
}

const params = (interval: '1m' | '1h', from = '2026-11-27T10:00:00Z', to = '2026-11-27T11:00:00Z') =>
  ohlcQuery.params.parse({ product: 'BTC-USD', interval, from, to });

describe('ohlc typed path (addColumns) against the string path (add)', () => {
  it('gives the same candles for any split of the records into add calls and batches, in any order', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = prng(seed * 7919);
      const { ticks, rawOnly } = randomTicks(seed, 20 + Math.floor(rand() * 80));
      const p = rand() < 0.5 ? params('1m') : params('1h', '2026-11-27T10:00:01Z', '2026-11-27T10:02:01Z');
      const reference = ohlcQuery.local(p);
      for (const t of ticks) reference.add(t, 'raw');

      const shuffled = [...ticks].sort(() => rand() - 0.5);
      const typed = ohlcQuery.local(p);
      let at = 0;
      while (at < shuffled.length) {
        const size = 1 + Math.floor(rand() * 12);
        const part = shuffled.slice(at, at + size);
        at += size;
        if (rand() < 0.3 || part.some((t) => rawOnly.has(t))) for (const t of part) typed.add(t, 'raw');
        else typed.addColumns?.(columnsOf(part), 'raw');
      }
      expect(typed.finish(), `seed ${seed}`).toEqual(reference.finish());
    }
  });

  it('breaks ties on equal time by record id, and on equal price by time then record id', () => {
    const at = '2026-11-27T10:00:05.5Z';
    const ticks = ['c', 'a', 'd', 'b'].map((c, i) =>
      okTick({ record_id: c.repeat(32), exchange_time: at, price: ['7', '7.0', '7.00', '7.000'][i] as string }),
    );
    const typed = ohlcQuery.local(params('1m'));
    typed.addColumns?.(columnsOf(ticks), 'raw');
    // open: the smallest id (a), close: the largest (d); high and low: all equal, so the first in order (a)
    expect(typed.finish()).toEqual([
      { bucket_start: '2026-11-27T10:00:00.000Z', open: '7.0', high: '7.0', low: '7.0', close: '7.00', ticks: 4 },
    ]);
  });

  it('keeps candles of one bucket across batches, and a later batch can take the open back', () => {
    const t = (time: string, price: string) => okTick({ exchange_time: `2026-11-27T10:${time}Z`, price });
    const typed = ohlcQuery.local(params('1h'));
    typed.addColumns?.(columnsOf([t('30:00', '5.10'), t('31:00', '9'), t('32:00', '1.5')]), 'raw');
    typed.add(t('33:00', '9.0'), 'raw'); // equal to the high, later: the high stays '9'
    typed.addColumns?.(columnsOf([t('00:00', '1.50'), t('59:59.999999', '3')]), 'raw');
    expect(typed.finish()).toEqual([
      { bucket_start: '2026-11-27T10:00:00.000Z', open: '1.50', high: '9', low: '1.50', close: '3', ticks: 6 },
    ]);
  });

  it('skips missed records and records outside [from, to)', () => {
    const typed = ohlcQuery.local(params('1m', '2026-11-27T10:00:00Z', '2026-11-27T10:01:00Z'));
    typed.addColumns?.(
      columnsOf([
        okTick({ exchange_time: '2026-11-27T09:59:59.999999Z', price: '1' }),
        missedTick('http_5xx', { scheduled_time: '2026-11-27T10:00:10.000Z' }),
        okTick({ exchange_time: '2026-11-27T10:00:30Z', price: '2' }),
        okTick({ exchange_time: '2026-11-27T10:01:00Z', price: '3' }),
      ]),
      'raw',
    );
    expect(typed.finish()).toEqual([
      { bucket_start: '2026-11-27T10:00:00.000Z', open: '2', high: '2', low: '2', close: '2', ticks: 1 },
    ]);
  });
});

describe('decimal limbs', () => {
  it('order as the values do, and match the unscaled BigInt', () => {
    const values = [...PRICES, '0', '1', '18446744073709551616', '0.000000000000000002', '99999999999999999999'];
    const unscaled = (s: string) => {
      const [int = '', frac = ''] = s.split('.');
      return BigInt(int + frac.padEnd(18, '0').slice(0, 18));
    };
    for (const a of values) {
      expect(decimalLimbs(a)).toEqual(limbsOfUnscaled(unscaled(a)));
      for (const b of values) {
        const [ah, am, al] = decimalLimbs(a) as [number, number, number];
        const [bh, bm, bl] = decimalLimbs(b) as [number, number, number];
        const byLimbs = Math.sign(ah !== bh ? ah - bh : am !== bm ? am - bm : al - bl);
        const byValue = unscaled(a) === unscaled(b) ? 0 : unscaled(a) < unscaled(b) ? -1 : 1;
        expect(byLimbs, `${a} vs ${b}`).toBe(byValue);
      }
    }
  });

  it('has no exact form for values DECIMAL(38,18) cannot hold', () => {
    expect(decimalLimbs('1.0000000000000000001')).toBeUndefined();
    expect(decimalLimbs('123456789012345678901')).toBeUndefined();
    expect(decimalLimbs('1.00000000000000000000')).toEqual(decimalLimbs('1'));
    expect(decimalLimbs('0012.5')).toEqual(decimalLimbs('12.5'));
  });
});
