import type { PriceTick } from '@btc-etl/price-schema';
import { z } from 'zod';
import { athenaSql, ident, int, str } from './athena-sql';
import {
  ANY_PRODUCT_FLAG,
  EpochSecondInput,
  NOW_FLAG,
  ProductParam,
  RANGE_FLAGS,
  nanosOf,
  secondsOf,
  withRange,
} from './query.params';
import type { Accumulator, QueryDefinition, StoreName } from './query.types';
import { compareOrder, isoNanos, isoSecond } from './tick-values';

export const FreshnessParams = withRange({
  product: z.union([ProductParam, z.literal('*')]).default('*'),
  now: EpochSecondInput,
});
export type FreshnessParams = z.infer<typeof FreshnessParams>;

export interface FreshnessRow extends Record<string, string | number> {
  store: StoreName;
  product_id: string;
  newest_ingest_time: string;
  /** now - newest ingest time, whole seconds: how far behind each bucket is. */
  age_s: number;
}

function freshnessAccumulator(params: FreshnessParams): Accumulator<FreshnessRow> {
  const newest = new Map<
    string,
    { store: StoreName; product: string; sec: number; nanos: number; id: string; time: string }
  >();
  return {
    add(tick: PriceTick, store: StoreName) {
      if (params.product !== '*' && tick.product_id !== params.product) return;
      const sec = isoSecond(tick.ingest_time);
      if (sec < params.from || sec >= params.to) return;
      const nanos = isoNanos(tick.ingest_time);
      const key = `${store}\u0000${tick.product_id}`;
      const current = newest.get(key);
      if (current === undefined || compareOrder(sec, nanos, tick.record_id, current) > 0) {
        newest.set(key, { store, product: tick.product_id, sec, nanos, id: tick.record_id, time: tick.ingest_time });
      }
    },
    finish() {
      return [...newest.values()]
        .sort((a, b) =>
          a.store !== b.store
            ? a.store < b.store
              ? -1
              : 1
            : a.product < b.product
              ? -1
              : a.product > b.product
                ? 1
                : 0,
        )
        .map((n) => ({ store: n.store, product_id: n.product, newest_ingest_time: n.time, age_s: params.now - n.sec }));
    },
  };
}

/** ingest_time as whole epoch seconds and as its fraction in nanoseconds (the Athena SQL orders by both). */
const INGEST_SEC = secondsOf('ingest_time');
const INGEST_NANOS = nanosOf('ingest_time');

export const freshnessQuery: QueryDefinition<FreshnessParams, FreshnessRow> = {
  name: 'freshness',
  description: 'Now minus the newest ingest_time per product, in the raw bucket and in the backup bucket',
  usage: 'now minus the newest ingest_time per product in raw and backup',
  params: FreshnessParams,
  flags: [ANY_PRODUCT_FLAG, ...RANGE_FLAGS, NOW_FLAG],
  defaultSpanS: 86_400,
  example: { from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z', now: '2026-11-27T01:00:00Z' },
  columns: [
    { name: 'store', type: 'string' },
    { name: 'product_id', type: 'string' },
    { name: 'newest_ingest_time', type: 'string' },
    { name: 'age_s', type: 'integer' },
  ],
  plan: (p) => ({
    stores: ['raw', 'backup'],
    fromSec: p.from,
    toSec: p.to,
    recordTime: ['ingest_time'],
    ...(p.product === '*' ? {} : { productIds: [p.product] }),
  }),
  athena: (p, ctx) => athenaSql`
WITH src AS (
  SELECT 'raw' AS store, product_id, record_id, ingest_time
  FROM ${ctx.rawSource} AS raw_records
  WHERE ${str(p.product)} = '*' OR product_id = ${str(p.product)}
  UNION ALL
  SELECT 'backup' AS store, product_id, record_id, ingest_time
  FROM ${ident(ctx.backupTable)}
  WHERE datehour BETWEEN ${str(ctx.datehourFrom)} AND ${str(ctx.datehourTo)}
    AND (${str(p.product)} = '*' OR product_id = ${str(p.product)})
), timed AS (
  SELECT store, product_id, record_id, ingest_time, ${INGEST_SEC} AS sec, ${INGEST_NANOS} AS nanos
  FROM src
), ranked AS (
  SELECT *, row_number() OVER (PARTITION BY store, product_id ORDER BY sec DESC, nanos DESC, record_id DESC) AS rn
  FROM timed
  WHERE sec >= ${int(p.from)} AND sec < ${int(p.to)}
)
SELECT store, product_id, ingest_time AS newest_ingest_time, ${int(p.now)} - sec AS age_s
FROM ranked
WHERE rn = 1
ORDER BY store, product_id`,
  local: freshnessAccumulator,
};
