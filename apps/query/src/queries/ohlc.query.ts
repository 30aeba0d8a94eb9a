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
import type { Accumulator, QueryDefinition } from './query.types';
import {
  compareDecimal,
  compareOrder,
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

interface CandleState {
  ticks: number;
  fl: FirstLast;
  high: string;
  highF: number;
  highSec: number;
  highNanos: number;
  highId: string;
  low: string;
  lowF: number;
  lowSec: number;
  lowNanos: number;
  lowId: string;
}

/**
 * Candles from `ok` records of one product, bucketed by record time (exchange time, else due second) into UTC
 * buckets of the interval. open/close are the first/last price in time order (ties: record_id); high/low compare
 * the decimal strings exactly, equal values keep the earliest. Prices come back as the exact strings recorded.
 */
function ohlcAccumulator(params: OhlcParams): Accumulator<Candle> {
  const width = INTERVALS[params.interval];
  const candles = new Map<number, CandleState>();
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
        candles.set(bucket, {
          ticks: 1,
          fl: newFirstLast(price, sec, nanos, id),
          high: price,
          highF: priceF,
          highSec: sec,
          highNanos: nanos,
          highId: id,
          low: price,
          lowF: priceF,
          lowSec: sec,
          lowNanos: nanos,
          lowId: id,
        });
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
    'OHLC candles (bucket start, open, high, low, close, tick count) of one product at 1m/5m/15m/1h/1d from ok records, duplicates counted once',
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
