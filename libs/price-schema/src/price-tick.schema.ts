import { z } from 'zod';

/** A decimal string exactly as Coinbase sends it: no sign, no exponent, no float rounding. */
export const DecimalString = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'expected a non-negative decimal string such as "97123.45"');

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;

/** True when every field names a real calendar time (`Date.parse` rolls 31 February over into March). */
function isCalendarTime(value: string): boolean {
  const m = ISO_UTC.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return (
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s
  );
}

/** ISO-8601 UTC with a `Z` suffix and 0-9 fractional digits (Coinbase sends microseconds). */
export const IsoUtcString = z
  .string()
  .regex(ISO_UTC, 'expected an ISO-8601 UTC time ending in Z')
  .refine(isCalendarTime, 'not a valid calendar time');

export const ProductId = z
  .string()
  .regex(/^[A-Z0-9]{2,12}-[A-Z0-9]{2,12}$/, 'expected a Coinbase product id such as "BTC-USD"');

export const PRICE_SOURCES = [
  'coinbase-exchange-ticker',
  'coinbase-spot',
  'coinbase-ws-ticker',
  'coinbase-candles',
] as const;
export const PriceSource = z.enum(PRICE_SOURCES);
export type PriceSource = z.infer<typeof PriceSource>;

export const TICK_STATUSES = ['ok', 'missed'] as const;
export const TickStatus = z.enum(TICK_STATUSES);
export type TickStatus = z.infer<typeof TickStatus>;

/** Why a due tick produced no price. Gaps are data: every missed tick carries one of these. */
export const MISS_REASONS = [
  'timeout',
  'http_429',
  'http_5xx',
  'http_4xx',
  'parse_error',
  'rate_limited',
  'overrun',
  'network',
  'sequence_gap',
  'disconnected',
] as const;
export const MissReason = z.enum(MISS_REASONS);
export type MissReason = z.infer<typeof MissReason>;

const int64 = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * The columns of one bronze record, in the order they are written. Each field carries its zod validator and the
 * Glue (Athena) and Parquet types derived from it, so there is exactly one place to add a column. `silver` is the
 * column's kind in the silver layer (silver.codec.ts): decimal strings become DECIMAL, ISO times TIMESTAMP, and
 * `product_id` is the partition (a folder, not a column).
 */
export const PRICE_TICK_FIELDS = {
  record_id: {
    schema: z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 lowercase hex digits'),
    glue: 'string',
    parquet: 'STRING',
    required: true,
    silver: 'string',
  },
  product_id: { schema: ProductId, glue: 'string', parquet: 'STRING', required: true, silver: 'partition' },
  source: { schema: PriceSource, glue: 'string', parquet: 'STRING', required: true, silver: 'string' },
  status: { schema: TickStatus, glue: 'string', parquet: 'STRING', required: true, silver: 'string' },
  price: { schema: DecimalString.nullable(), glue: 'string', parquet: 'STRING', required: true, silver: 'decimal' },
  exchange_time: {
    schema: IsoUtcString.nullable(),
    glue: 'string',
    parquet: 'STRING',
    required: true,
    silver: 'timestamp',
  },
  scheduled_time: {
    schema: IsoUtcString.nullable(),
    glue: 'string',
    parquet: 'STRING',
    required: true,
    silver: 'timestamp',
  },
  ingest_time: { schema: IsoUtcString, glue: 'string', parquet: 'STRING', required: true, silver: 'timestamp' },
  reason: { schema: MissReason.nullable(), glue: 'string', parquet: 'STRING', required: true, silver: 'string' },
  bid: {
    schema: DecimalString.nullable().optional(),
    glue: 'string',
    parquet: 'STRING',
    required: false,
    silver: 'decimal',
  },
  ask: {
    schema: DecimalString.nullable().optional(),
    glue: 'string',
    parquet: 'STRING',
    required: false,
    silver: 'decimal',
  },
  volume_24h: {
    schema: DecimalString.nullable().optional(),
    glue: 'string',
    parquet: 'STRING',
    required: false,
    silver: 'decimal',
  },
  trade_id: { schema: int64.nullable().optional(), glue: 'bigint', parquet: 'INT64', required: false, silver: 'int64' },
  sequence: { schema: int64.nullable().optional(), glue: 'bigint', parquet: 'INT64', required: false, silver: 'int64' },
  // candles: price is the close; open/high/low and the candle width come along
  open: {
    schema: DecimalString.nullable().optional(),
    glue: 'string',
    parquet: 'STRING',
    required: false,
    silver: 'decimal',
  },
  high: {
    schema: DecimalString.nullable().optional(),
    glue: 'string',
    parquet: 'STRING',
    required: false,
    silver: 'decimal',
  },
  low: {
    schema: DecimalString.nullable().optional(),
    glue: 'string',
    parquet: 'STRING',
    required: false,
    silver: 'decimal',
  },
  granularity_s: {
    schema: int64.nullable().optional(),
    glue: 'int',
    parquet: 'INT32',
    required: false,
    silver: 'int32',
  },
  backfilled: {
    schema: z.boolean().nullable().optional(),
    glue: 'boolean',
    parquet: 'BOOLEAN',
    required: false,
    silver: 'boolean',
  },
  // gap records of a stream (`sequence_gap`, `disconnected`): the missing range, inclusive, as sequences and trade ids
  // (null where the feed did not tell) and as the time span between the last message before and the first after
  gap_from_sequence: {
    schema: int64.nullable().optional(),
    glue: 'bigint',
    parquet: 'INT64',
    required: false,
    silver: 'int64',
  },
  gap_to_sequence: {
    schema: int64.nullable().optional(),
    glue: 'bigint',
    parquet: 'INT64',
    required: false,
    silver: 'int64',
  },
  gap_from_trade_id: {
    schema: int64.nullable().optional(),
    glue: 'bigint',
    parquet: 'INT64',
    required: false,
    silver: 'int64',
  },
  gap_to_trade_id: {
    schema: int64.nullable().optional(),
    glue: 'bigint',
    parquet: 'INT64',
    required: false,
    silver: 'int64',
  },
  gap_start: {
    schema: IsoUtcString.nullable().optional(),
    glue: 'string',
    parquet: 'STRING',
    required: false,
    silver: 'timestamp',
  },
  gap_end: {
    schema: IsoUtcString.nullable().optional(),
    glue: 'string',
    parquet: 'STRING',
    required: false,
    silver: 'timestamp',
  },
} as const;

export type PriceTickField = keyof typeof PRICE_TICK_FIELDS;
export const PRICE_TICK_COLUMNS = Object.keys(PRICE_TICK_FIELDS) as PriceTickField[];

type FieldSchemas = { [K in PriceTickField]: (typeof PRICE_TICK_FIELDS)[K]['schema'] };
const fieldSchemas = Object.fromEntries(
  PRICE_TICK_COLUMNS.map((name) => [name, PRICE_TICK_FIELDS[name].schema]),
) as FieldSchemas;

/**
 * One price record: one NDJSON line in the raw bucket. `ok` records carry a price and no reason; `missed` records
 * carry a reason and no price. Unknown keys are rejected so a typo never becomes a silent new column.
 */
export const PriceTickSchema = z.strictObject(fieldSchemas).superRefine((tick, ctx) => {
  if (tick.status === 'ok') {
    if (tick.price === null) ctx.addIssue({ code: 'custom', path: ['price'], message: 'an ok record needs a price' });
    if (tick.reason !== null) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'an ok record has no reason' });
  } else {
    if (tick.price !== null) ctx.addIssue({ code: 'custom', path: ['price'], message: 'a missed record has no price' });
    if (tick.reason === null)
      ctx.addIssue({ code: 'custom', path: ['reason'], message: 'a missed record needs a reason' });
  }
  if (tick.scheduled_time === null && tick.exchange_time === null) {
    ctx.addIssue({
      code: 'custom',
      path: ['scheduled_time'],
      message: 'a record needs a scheduled_time or an exchange_time',
    });
  }
});

export type PriceTick = z.infer<typeof PriceTickSchema>;
