import type { PriceTick } from '@btc-etl/price-schema';
import { z } from 'zod';
import { athenaSql, int } from './athena-sql';
import { PRODUCT_FLAG, ProductParam, RANGE_FLAGS, isoOf, okTicksSql, withRange } from './query.params';
import type { Accumulator, QueryDefinition } from './query.types';
import {
  compareDecimal,
  isoNanos,
  isoSecond,
  newFirstLast,
  secondToIso,
  updateFirstLast,
  type FirstLast,
  TICK_TIME,
} from './tick-values';

export const SummaryParams = withRange({ product: ProductParam });
export type SummaryParams = z.infer<typeof SummaryParams>;

export interface SummaryRow extends Record<string, string | number | null> {
  day: string;
  ticks: number;
  min: string;
  max: string;
  mean: number;
  /** Sample standard deviation; null for a day with one tick. */
  stddev: number | null;
  open: string;
  close: string;
  /** close / open - 1. */
  return: number;
}

interface DayState {
  n: number;
  mean: number;
  m2: number;
  min: string;
  minF: number;
  max: string;
  maxF: number;
  fl: FirstLast;
}

/** Per UTC day: count, min, max, mean and sample stddev (Welford, in doubles), first and last price and the return. */
function summaryAccumulator(params: SummaryParams): Accumulator<SummaryRow> {
  const days = new Map<number, DayState>();
  return {
    add(tick: PriceTick) {
      if (tick.status !== 'ok' || tick.price === null) return;
      const time = tick.exchange_time ?? tick.scheduled_time;
      if (time === null) return;
      const sec = isoSecond(time);
      if (sec < params.from || sec >= params.to) return;
      const nanos = isoNanos(time);
      const price = tick.price;
      const x = +price;
      const id = tick.record_id;
      const day = sec - (sec % 86_400);
      const d = days.get(day);
      if (d === undefined) {
        days.set(day, {
          n: 1,
          mean: x,
          m2: 0,
          min: price,
          minF: x,
          max: price,
          maxF: x,
          fl: newFirstLast(price, sec, nanos, id),
        });
        return;
      }
      d.n++;
      const delta = x - d.mean;
      d.mean += delta / d.n;
      d.m2 += delta * (x - d.mean);
      // min/max return one of the recorded strings; equal values written differently ("1.5" vs "1.50") could pick
      // either copy, which Coinbase never produces within one product (its increment fixes the digits)
      if (x < d.minF || (x === d.minF && compareDecimal(price, d.min) < 0)) {
        d.min = price;
        d.minF = x;
      }
      if (x > d.maxF || (x === d.maxF && compareDecimal(price, d.max) > 0)) {
        d.max = price;
        d.maxF = x;
      }
      updateFirstLast(d.fl, price, sec, nanos, id);
    },
    finish() {
      return [...days.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([day, d]) => ({
          day: secondToIso(day),
          ticks: d.n,
          min: d.min,
          max: d.max,
          mean: d.mean,
          stddev: d.n > 1 ? Math.sqrt(d.m2 / (d.n - 1)) : null,
          open: d.fl.first,
          close: d.fl.last,
          return: +d.fl.last / +d.fl.first - 1,
        }));
    },
  };
}

export const summaryQuery: QueryDefinition<SummaryParams, SummaryRow> = {
  name: 'summary',
  description:
    'Per UTC day of one product: tick count, min, max, mean, sample standard deviation, open, close and return',
  usage: 'per day min, max, mean, stddev, open, close, return',
  params: SummaryParams,
  flags: [PRODUCT_FLAG, ...RANGE_FLAGS],
  defaultSpanS: 7 * 86_400,
  example: { product: 'BTC-USD', from: '2026-11-27T00:00:00Z', to: '2026-11-28T00:00:00Z' },
  columns: [
    { name: 'day', type: 'timestamp' },
    { name: 'ticks', type: 'integer' },
    { name: 'min', type: 'string' },
    { name: 'max', type: 'string' },
    { name: 'mean', type: 'double' },
    { name: 'stddev', type: 'double' },
    { name: 'open', type: 'string' },
    { name: 'close', type: 'string' },
    { name: 'return', type: 'double' },
  ],
  plan: (p) => ({ stores: ['raw'], fromSec: p.from, toSec: p.to, productIds: [p.product], recordTime: TICK_TIME }),
  athena: (p, ctx) => athenaSql`
${okTicksSql(ctx, p.product)}, days AS (
  SELECT *, sec - sec % 86400 AS day
  FROM ticks
  WHERE sec >= ${int(p.from)} AND sec < ${int(p.to)}
), agg AS (
  SELECT day, count(*) AS ticks,
         element_at(array_agg(price ORDER BY p ASC, sec, nanos, record_id), 1) AS min,
         element_at(array_agg(price ORDER BY p DESC, sec, nanos, record_id), 1) AS max,
         avg(x) AS mean, stddev_samp(x) AS stddev,
         element_at(array_agg(price ORDER BY sec, nanos, record_id), 1) AS open,
         element_at(array_agg(price ORDER BY sec DESC, nanos DESC, record_id DESC), 1) AS close
  FROM days
  GROUP BY day
)
SELECT ${isoOf('day')} AS day, ticks, min, max, mean, stddev, open, close,
       CAST(close AS DOUBLE) / CAST(open AS DOUBLE) - 1 AS "return"
FROM agg
ORDER BY agg.day`,
  local: summaryAccumulator,
};
