import { ProductId } from '@btc-etl/price-schema';
import { z } from 'zod';
import { SqlRaw, athenaSql, str } from './athena-sql';
import type { AthenaContext, AthenaStatement, QueryFlag } from './query.types';

/** Candle widths and their length in seconds. */
export const INTERVALS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '1d': 86_400 } as const;
export type Interval = keyof typeof INTERVALS;
export const IntervalSchema = z.enum(Object.keys(INTERVALS) as [Interval, ...Interval[]], {
  error: () => `expected one of ${Object.keys(INTERVALS).join(', ')}`,
});

const ISO_INPUT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.0+)?)?)?(Z|[+-]\d{2}:\d{2})?$/;

/** A time given as ISO-8601 (date, or date-time with `Z` or an offset), whole seconds; epoch seconds out. */
export const EpochSecondInput = z.union([z.string(), z.date()]).transform((value, ctx) => {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms) || ms % 1000 !== 0) {
      ctx.addIssue({ code: 'custom', message: 'expected a valid time on a whole second' });
      return z.NEVER;
    }
    return ms / 1000;
  }
  if (!ISO_INPUT.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected an ISO-8601 UTC time on a whole second such as 2026-11-27T00:00:00Z',
    });
    return z.NEVER;
  }
  const hasZone = /(Z|[+-]\d{2}:\d{2})$/.test(value);
  const ms = Date.parse(value.length === 10 || hasZone ? value : `${value}Z`);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: 'not a calendar time' });
    return z.NEVER;
  }
  return ms / 1000;
});

export const MAX_RANGE_DAYS = 400;

/**
 * A parameter object with a `[from, to)` range (epoch seconds): from before to, at most `maxDays` long.
 * @example
 * withRange({ product: ProductParam }).parse({ product: 'BTC-USD', from: '2026-11-27T00:00:00Z', to: '2026-11-28' })
 */
export function withRange<S extends z.ZodRawShape>(shape: S, maxDays = MAX_RANGE_DAYS) {
  return z.object({ ...shape, from: EpochSecondInput, to: EpochSecondInput }).superRefine((value, ctx) => {
    const { from, to } = value as { from: number; to: number };
    if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to' });
    else if (to - from > maxDays * 86_400) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `the range is longer than ${maxDays} days: ask for less` });
    }
  });
}

export const ProductParam = ProductId;

// The flags queries share: each definition lists the ones it takes (see QueryFlag).
/** `--product BTC-USD`, required. */
export const PRODUCT_FLAG: QueryFlag = { name: 'product', value: 'BTC-USD', required: true };
/** `--product`, optional: every product (`*`) when left out. */
export const ANY_PRODUCT_FLAG: QueryFlag = { name: 'product', value: 'BTC-USD|*' };
export const INTERVAL_FLAG: QueryFlag = { name: 'interval', value: Object.keys(INTERVALS).join('|'), required: true };
/** `--from ISO --to ISO`: `to` defaults to now, `from` to `to` minus the query's default span. */
export const RANGE_FLAGS: readonly QueryFlag[] = [
  { name: 'from', value: 'ISO', default: 'span' },
  { name: 'to', value: 'ISO', default: 'now' },
];
/** `--now ISO`: the time ages are measured from (default: the current second), so answers are reproducible. */
export const NOW_FLAG: QueryFlag = { name: 'now', value: 'ISO', default: 'now' };

// The SQL fragments every query shares, so the time rules of tick-values.ts read the same in SQL.
/** A record's time: exchange time, falling back to the due second. */
export const EVENT_TIME = new SqlRaw('COALESCE(exchange_time, scheduled_time)');
/** Whole epoch seconds of an ISO column (first 19 characters: the fraction can never round into the next second). */
export const secondsOf = (column: string) =>
  new SqlRaw(`CAST(to_unixtime(from_iso8601_timestamp(substr(${column}, 1, 19) || 'Z')) AS BIGINT)`);
/** The fraction of an ISO column in nanoseconds. */
export const nanosOf = (column: string) =>
  new SqlRaw(`CAST(rpad(coalesce(regexp_extract(${column}, '\\.(\\d+)', 1), ''), 9, '0') AS BIGINT)`);
/** A price as an exact decimal for comparison (the string itself is what gets returned). */
export const DECIMAL_PRICE = new SqlRaw('CAST(price AS DECIMAL(38, 18))');
/** Epoch seconds to the ISO format every result uses. */
export const isoOf = (expr: string) => new SqlRaw(`to_iso8601(from_unixtime(${expr}))`);

/**
 * The CTEs `src` (the pruned partitions of one product, or all for `*`, each copy numbered per record_id) and
 * `ticks` (one copy per record, ok records with a price: record_id, product_id, price, p (exact decimal),
 * x (double), t (time string), sec, nanos). Queries continue with `, <their cte> AS (...)`.
 */
export function okTicksSql(ctx: AthenaContext, product: string): AthenaStatement {
  return athenaSql`WITH src AS (
  SELECT product_id, record_id, status, price, ${EVENT_TIME} AS t,
         row_number() OVER (PARTITION BY record_id ORDER BY ingest_time) AS copy
  FROM ${ctx.rawSource} AS raw_records
  WHERE ${str(product)} = '*' OR product_id = ${str(product)}
), ticks AS (
  SELECT record_id, product_id, price, ${DECIMAL_PRICE} AS p, CAST(price AS DOUBLE) AS x, t,
         ${secondsOf('t')} AS sec, ${nanosOf('t')} AS nanos
  FROM src
  WHERE copy = 1 AND status = 'ok' AND price IS NOT NULL AND t IS NOT NULL
)`;
}
