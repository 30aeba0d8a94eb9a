import type { PriceTick } from '@btc-etl/price-schema';
import { z } from 'zod';
import { athenaSql, int } from './athena-sql';
import {
  INTERVALS,
  INTERVAL_FLAG,
  IntervalSchema,
  PRODUCT_FLAG,
  ProductParam,
  RANGE_FLAGS,
  isoOf,
  okTicksSql,
  withRange,
} from './query.params';
import type { Accumulator, QueryDefinition, TickColumns } from './query.types';
import {
  compareDecimal,
  compareOrder,
  decimalLimbs,
  isoNanos,
  isoSecond,
  newFirstLast,
  secondToIso,
  updateFirstLast,
  type FirstLast,
  TICK_TIME,
} from './tick-values';

export const OhlcParams = withRange({ product: ProductParam, interval: IntervalSchema });
export type OhlcParams = z.infer<typeof OhlcParams>;

export interface Candle extends Record<string, string | number> {
  bucket_start: string;
  open: string;
  high: string;
  low: string;
  close: string;
  ticks: number;
}

/**
 * A candle's state (a class, so every candle is built by one constructor with one map: the object literal it replaced
 * allocated twice the memory per candle, 43,200 of them in a 30-day run).
 */
class CandleState {
  // every field starts as the kind it keeps (a field defined as undefined first would take any value boxed)
  ticks = 1;
  high = '';
  highF = 0;
  highSec = 0;
  highNanos = 0;
  highId = '';
  low = '';
  lowF = 0;
  lowSec = 0;
  lowNanos = 0;
  lowId = '';
  // the typed path (addColumns): high/low as exact limbs (0 not computed yet, 1 set, 2 the price does not fit them),
  // and the rows of the batch being read that hold a place whose strings are not made yet (-1: none)
  highLimbs = 0;
  highHi = 0;
  highMid = 0;
  highLo = 0;
  lowLimbs = 0;
  lowHi = 0;
  lowMid = 0;
  lowLo = 0;
  firstRow = -1;
  lastRow = -1;
  highRow = -1;
  lowRow = -1;
  batch = -1;
  declare fl: FirstLast;

  constructor(price: string, priceF: number, sec: number, nanos: number, id: string) {
    this.fl = newFirstLast(price, sec, nanos, id);
    this.high = this.low = price;
    this.highF = this.lowF = priceF;
    this.highSec = this.lowSec = sec;
    this.highNanos = this.lowNanos = nanos;
    this.highId = this.lowId = id;
  }
}

function newCandle(price: string, priceF: number, sec: number, nanos: number, id: string): CandleState {
  return new CandleState(price, priceF, sec, nanos, id);
}

/** Sign of (a - b) for two limb triples (each difference of exact limbs below 2^43 is exact). */
function compareLimbs(aHi: number, aMid: number, aLo: number, bHi: number, bMid: number, bLo: number): number {
  if (aHi !== bHi) return aHi - bHi;
  if (aMid !== bMid) return aMid - bMid;
  return aLo - bLo;
}

/**
 * Candles from `ok` records of one product, bucketed by record time (exchange time, else due second) into UTC
 * buckets of the interval. open/close are the first/last price in time order (ties: record_id); high/low compare
 * the decimal strings exactly, equal values keep the earliest. Prices come back as the exact strings recorded.
 *
 * Two ways in, one state: `add` takes records as strings (raw NDJSON and Parquet), `addColumns` takes silver's typed
 * columns (epoch micros, unscaled decimals in limbs) and compares numbers only; the strings of a batch's winners are
 * made once at the end of the batch, so a candle's state reads the same whichever way its records came.
 */
function ohlcAccumulator(params: OhlcParams): Accumulator<Candle> {
  const width = INTERVALS[params.interval];
  const candles = new Map<number, CandleState>();
  let batches = 0;
  return {
    add(tick: PriceTick) {
      if (tick.status !== 'ok' || tick.price === null) return;
      const time = tick.exchange_time ?? tick.scheduled_time;
      if (time === null) return;
      const sec = isoSecond(time);
      if (sec < params.from || sec >= params.to) return;
      const price = tick.price;
      const nanos = isoNanos(time);
      const id = tick.record_id;
      const bucket = sec - (sec % width);
      const priceF = +price;
      const c = candles.get(bucket);
      if (c === undefined) {
        candles.set(bucket, newCandle(price, priceF, sec, nanos, id));
        return;
      }
      c.ticks++;
      updateFirstLast(c.fl, price, sec, nanos, id);
      // a float comparison settles almost every case; equal floats fall back to the exact decimal comparison
      if (priceF >= c.highF) {
        const cmp = priceF > c.highF ? 1 : compareDecimal(price, c.high);
        if (
          cmp > 0 ||
          (cmp === 0 && compareOrder(sec, nanos, id, { sec: c.highSec, nanos: c.highNanos, id: c.highId }) < 0)
        ) {
          c.high = price;
          c.highF = priceF;
          c.highSec = sec;
          c.highNanos = nanos;
          c.highId = id;
          c.highLimbs = 0;
        }
      }
      if (priceF <= c.lowF) {
        const cmp = priceF < c.lowF ? -1 : compareDecimal(price, c.low);
        if (
          cmp < 0 ||
          (cmp === 0 && compareOrder(sec, nanos, id, { sec: c.lowSec, nanos: c.lowNanos, id: c.lowId }) < 0)
        ) {
          c.low = price;
          c.lowF = priceF;
          c.lowSec = sec;
          c.lowNanos = nanos;
          c.lowId = id;
          c.lowLimbs = 0;
        }
      }
    },
    addColumns(columns: TickColumns) {
      const batch = ++batches;
      const { ok, eventMicros, priceHi, priceMid, priceLo, rows } = columns;
      const touched: CandleState[] = [];
      /**
       * Row i (at sec, nanos) against a place held at (bSec, bNanos) by row bRow of this batch, or by record id bId
       * once its strings are made: negative when row i comes first in (time, record id) order.
       */
      const order = (
        i: number,
        sec: number,
        nanos: number,
        bSec: number,
        bNanos: number,
        bRow: number,
        bId: string,
      ) => {
        if (sec !== bSec) return sec - bSec;
        if (nanos !== bNanos) return nanos - bNanos;
        const a = columns.tieBreak(i);
        const b = bRow >= 0 ? columns.tieBreak(bRow) : bId;
        return a === b ? 0 : a < b ? -1 : 1;
      };
      /**
       * Sign of (row i's price - the high or low of c) when that place's limbs are not simply set: a price from a
       * raw record gets its limbs on first need, and one without an exact form is compared as strings.
       */
      const comparePriceSlow = (i: number, c: CandleState, high: boolean): number => {
        let state = high ? c.highLimbs : c.lowLimbs;
        if (state === 0) {
          const limbs = decimalLimbs(high ? c.high : c.low);
          state = limbs === undefined ? 2 : 1;
          if (high) {
            c.highLimbs = state;
            if (limbs) [c.highHi, c.highMid, c.highLo] = limbs;
          } else {
            c.lowLimbs = state;
            if (limbs) [c.lowHi, c.lowMid, c.lowLo] = limbs;
          }
        }
        if (state === 2) return compareDecimal(columns.priceText(i), high ? c.high : c.low);
        return high
          ? compareLimbs(
              priceHi[i] as number,
              priceMid[i] as number,
              priceLo[i] as number,
              c.highHi,
              c.highMid,
              c.highLo,
            )
          : compareLimbs(priceHi[i] as number, priceMid[i] as number, priceLo[i] as number, c.lowHi, c.lowMid, c.lowLo);
      };
      let currentBucket = Number.NaN;
      let c: CandleState | undefined;
      for (let i = 0; i < rows; i++) {
        if (ok[i] === 0) continue;
        const micros = eventMicros[i] as number;
        const sec = Math.floor(micros / 1e6);
        if (sec < params.from || sec >= params.to) continue;
        const nanos = (micros - sec * 1e6) * 1000;
        const bucket = sec - (sec % width);
        if (bucket !== currentBucket || c === undefined) {
          currentBucket = bucket;
          c = candles.get(bucket);
          if (c === undefined) {
            // a new candle: every place is row i's, its strings made at the end of the batch
            c = newCandle('', 0, sec, nanos, '');
            c.ticks = 0;
            c.firstRow = c.lastRow = c.highRow = c.lowRow = i;
            c.highLimbs = c.lowLimbs = 1;
            c.highHi = c.lowHi = priceHi[i] as number;
            c.highMid = c.lowMid = priceMid[i] as number;
            c.highLo = c.lowLo = priceLo[i] as number;
            candles.set(bucket, c);
          }
          if (c.batch !== batch) {
            c.batch = batch;
            touched.push(c);
          }
          if (c.ticks === 0) {
            c.ticks = 1;
            continue;
          }
        }
        c.ticks++;
        const fl = c.fl;
        // the time order first (a plain compare settles all but equal times), then the record ids
        if (
          sec <= fl.firstSec &&
          (sec < fl.firstSec || order(i, sec, nanos, fl.firstSec, fl.firstNanos, c.firstRow, fl.firstId) < 0)
        ) {
          fl.firstSec = sec;
          fl.firstNanos = nanos;
          c.firstRow = i;
        }
        if (
          sec >= fl.lastSec &&
          (sec > fl.lastSec || order(i, sec, nanos, fl.lastSec, fl.lastNanos, c.lastRow, fl.lastId) > 0)
        ) {
          fl.lastSec = sec;
          fl.lastNanos = nanos;
          c.lastRow = i;
        }
        // limb by limb, most significant first: almost always settled by one or two compares
        const ph = priceHi[i] as number;
        const pm = priceMid[i] as number;
        const pl = priceLo[i] as number;
        const toHigh =
          c.highLimbs !== 1
            ? comparePriceSlow(i, c, true)
            : ph !== c.highHi
              ? ph - c.highHi
              : pm !== c.highMid
                ? pm - c.highMid
                : pl - c.highLo;
        if (toHigh > 0 || (toHigh === 0 && order(i, sec, nanos, c.highSec, c.highNanos, c.highRow, c.highId) < 0)) {
          c.highSec = sec;
          c.highNanos = nanos;
          c.highRow = i;
          c.highLimbs = 1;
          c.highHi = ph;
          c.highMid = pm;
          c.highLo = pl;
        }
        const toLow =
          c.lowLimbs !== 1
            ? comparePriceSlow(i, c, false)
            : ph !== c.lowHi
              ? ph - c.lowHi
              : pm !== c.lowMid
                ? pm - c.lowMid
                : pl - c.lowLo;
        if (toLow < 0 || (toLow === 0 && order(i, sec, nanos, c.lowSec, c.lowNanos, c.lowRow, c.lowId) < 0)) {
          c.lowSec = sec;
          c.lowNanos = nanos;
          c.lowRow = i;
          c.lowLimbs = 1;
          c.lowHi = ph;
          c.lowMid = pm;
          c.lowLo = pl;
        }
      }
      // the winners' strings, once per candle and batch: the state reads as `add` would have left it
      for (const t of touched) {
        const fl = t.fl;
        if (t.firstRow >= 0) {
          fl.first = columns.priceText(t.firstRow);
          fl.firstId = columns.tieBreak(t.firstRow);
          t.firstRow = -1;
        }
        if (t.lastRow >= 0) {
          fl.last = columns.priceText(t.lastRow);
          fl.lastId = columns.tieBreak(t.lastRow);
          t.lastRow = -1;
        }
        if (t.highRow >= 0) {
          t.high = columns.priceText(t.highRow);
          t.highF = +t.high;
          t.highId = columns.tieBreak(t.highRow);
          t.highRow = -1;
        }
        if (t.lowRow >= 0) {
          t.low = columns.priceText(t.lowRow);
          t.lowF = +t.low;
          t.lowId = columns.tieBreak(t.lowRow);
          t.lowRow = -1;
        }
      }
    },
    finish() {
      return [...candles.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([bucket, c]) => ({
          bucket_start: secondToIso(bucket),
          open: c.fl.first,
          high: c.high,
          low: c.low,
          close: c.fl.last,
          ticks: c.ticks,
        }));
    },
  };
}

export const ohlcQuery: QueryDefinition<OhlcParams, Candle> = {
  name: 'ohlc',
  description:
    'OHLC candles (bucket start, open, high, low, close, tick count) of one product at ' +
    '1m/5m/15m/1h/1d from ok records, duplicates counted once',
  usage: 'candles of one product: open, high, low, close and tick count per interval',
  params: OhlcParams,
  flags: [PRODUCT_FLAG, INTERVAL_FLAG, ...RANGE_FLAGS],
  defaultSpanS: 3600,
  example: { product: 'BTC-USD', interval: '1m', from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z' },
  columns: [
    { name: 'bucket_start', type: 'timestamp' },
    { name: 'open', type: 'string' },
    { name: 'high', type: 'string' },
    { name: 'low', type: 'string' },
    { name: 'close', type: 'string' },
    { name: 'ticks', type: 'integer' },
  ],
  plan: (p) => ({ stores: ['raw'], fromSec: p.from, toSec: p.to, productIds: [p.product], recordTime: TICK_TIME }),
  athena: (p, ctx) => athenaSql`
${okTicksSql(ctx, p.product)}, bucketed AS (
  SELECT *, sec - sec % ${int(INTERVALS[p.interval])} AS bucket
  FROM ticks
  WHERE sec >= ${int(p.from)} AND sec < ${int(p.to)}
)
SELECT ${isoOf('bucket')} AS bucket_start,
       element_at(array_agg(price ORDER BY sec, nanos, record_id), 1) AS open,
       element_at(array_agg(price ORDER BY p DESC, sec, nanos, record_id), 1) AS high,
       element_at(array_agg(price ORDER BY p ASC, sec, nanos, record_id), 1) AS low,
       element_at(array_agg(price ORDER BY sec DESC, nanos DESC, record_id DESC), 1) AS close,
       count(*) AS ticks
FROM bucketed
GROUP BY bucket
ORDER BY bucket`,
  local: ohlcAccumulator,
};
