import type { PriceTick } from '@btc-etl/price-schema';
import { z } from 'zod';
import { athenaSql, int } from './athena-sql';
import {
  ANY_PRODUCT_FLAG,
  EpochSecondInput,
  NOW_FLAG,
  ProductParam,
  RANGE_FLAGS,
  okTicksSql,
  withRange,
} from './query.params';
import type { Accumulator, QueryDefinition } from './query.types';
import { compareOrder, isoNanos, isoSecond, TICK_TIME } from './tick-values';

/** `product` left out (or `*`) means every product; `now` (epoch seconds) makes the age reproducible. */
export const LatestParams = withRange({
  product: z.union([ProductParam, z.literal('*')]).default('*'),
  now: EpochSecondInput,
});
export type LatestParams = z.infer<typeof LatestParams>;

export interface LatestRow extends Record<string, string | number> {
  product_id: string;
  price: string;
  /** The record's time as recorded: exchange time, else the due second. */
  tick_time: string;
  /** now - tick_time, whole seconds. */
  age_s: number;
}

function latestAccumulator(params: LatestParams): Accumulator<LatestRow> {
  const best = new Map<string, { sec: number; nanos: number; id: string; price: string; time: string }>();
  return {
    add(tick: PriceTick) {
      if (tick.status !== 'ok' || tick.price === null) return;
      if (params.product !== '*' && tick.product_id !== params.product) return;
      const time = tick.exchange_time ?? tick.scheduled_time;
      if (time === null) return;
      const sec = isoSecond(time);
      if (sec < params.from || sec >= params.to) return;
      const nanos = isoNanos(time);
      const current = best.get(tick.product_id);
      if (current === undefined || compareOrder(sec, nanos, tick.record_id, current) > 0) {
        best.set(tick.product_id, { sec, nanos, id: tick.record_id, price: tick.price, time });
      }
    },
    finish() {
      return [...best.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([product_id, b]) => ({ product_id, price: b.price, tick_time: b.time, age_s: params.now - b.sec }));
    },
  };
}

export const latestQuery: QueryDefinition<LatestParams, LatestRow> = {
  name: 'latest',
  description: 'Last price per product (ok records), with its time and its age in seconds',
  usage: 'last price per product, with its age',
  params: LatestParams,
  flags: [ANY_PRODUCT_FLAG, ...RANGE_FLAGS, NOW_FLAG],
  defaultSpanS: 86_400,
  example: { from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z', now: '2026-11-27T01:00:00Z' },
  columns: [
    { name: 'product_id', type: 'string' },
    { name: 'price', type: 'string' },
    { name: 'tick_time', type: 'string' },
    { name: 'age_s', type: 'integer' },
  ],
  plan: (p) => ({
    stores: ['raw'],
    fromSec: p.from,
    toSec: p.to,
    recordTime: TICK_TIME,
    ...(p.product === '*' ? {} : { productIds: [p.product] }),
  }),
  athena: (p, ctx) => athenaSql`
${okTicksSql(ctx, p.product)}, ranked AS (
  SELECT *, row_number() OVER (PARTITION BY product_id ORDER BY sec DESC, nanos DESC, record_id DESC) AS rn
  FROM ticks
  WHERE sec >= ${int(p.from)} AND sec < ${int(p.to)}
)
SELECT product_id, price, t AS tick_time, ${int(p.now)} - sec AS age_s
FROM ranked
WHERE rn = 1
ORDER BY product_id`,
  local: latestAccumulator,
};
