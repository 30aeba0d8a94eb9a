import { z } from 'zod';
import {
  DecimalString,
  IsoUtcString,
  ProductId,
  PriceTickSchema,
  recordId,
  type PriceSource,
  type PriceTick,
} from '@btc-etl/price-schema';
import { CoinbaseArgumentError, CoinbaseParseError, type PayloadIssue } from './coinbase.errors';
import { plainDecimal } from './json-text';

/** Candle widths Exchange accepts, in seconds. */
export const CANDLE_GRANULARITIES = [60, 300, 900, 3600, 21600, 86400] as const;
export type CandleGranularity = (typeof CANDLE_GRANULARITIES)[number];

/** What a mapper needs besides the payload: which product it is, when the poll was due, when the answer arrived. */
export interface PolledTickContext {
  productId: string;
  /** The second the poll was due (ISO-8601 UTC or Date): the record's identity. */
  scheduledTime: string | Date;
  receivedAt: Date;
}

export interface CandleContext {
  productId: string;
  granularity: CandleGranularity;
  receivedAt: Date;
  /** Set the record's `backfilled` flag (left out when undefined). */
  backfilled?: boolean;
}

const Price = DecimalString.refine((s) => /[1-9]/.test(s), {
  message: 'expected a price above zero',
  // only when it is a decimal at all, so "abc" gets one issue, not two
  when: (payload) => payload.issues.length === 0,
});

// ---- raw wire types (private) -------------------------------------------------------------------------------------

/** Exchange `GET /products/{id}/ticker`; unknown keys (rfq_volume, ...) are ignored. */
const RawExchangeTicker = z.object({
  price: Price,
  time: z.string(),
  trade_id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  bid: DecimalString.optional(),
  ask: DecimalString.optional(),
  // `volume` is the rolling 24 h volume, not the last trade's size
  volume: DecimalString.optional(),
  size: DecimalString.optional(),
});

/** v2 `GET /v2/prices/{id}/spot`; `base` appears live but is not documented, so it is optional. */
const RawSpot = z.object({
  data: z.object({ amount: Price, currency: z.string(), base: z.string().optional() }),
});

/** A candle value: the client hands over number literals as text (see json-text.ts); plain numbers are accepted too. */
const CandleNumber = z.union([z.string(), z.number().transform((n) => String(n))]).transform(plainDecimal);
const CandleTime = z
  .union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
  .pipe(z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER));

/** Exchange candle: `[time, low, high, open, close, volume]`, time = bucket start in epoch seconds. */
const RawCandle = z
  .tuple([
    CandleTime,
    CandleNumber.pipe(Price),
    CandleNumber.pipe(Price),
    CandleNumber.pipe(Price),
    CandleNumber.pipe(Price),
    CandleNumber.pipe(DecimalString),
  ])
  .superRefine(([, low, high, open, close], ctx) => {
    const [l, h, o, c] = [low, high, open, close].map(Number) as [number, number, number, number];
    // catches a reordered column layout, which would otherwise map silently to wrong prices
    if (!(l <= Math.min(o, c) && h >= Math.max(o, c))) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `low ${low} / high ${high} do not bound open ${open} / close ${close}`,
      });
    }
  });

// ---- helpers ----------------------------------------------------------------------------------------------------

const issuesOf = (error: z.ZodError): PayloadIssue[] =>
  error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));

function snippet(raw: unknown): string {
  try {
    return JSON.stringify(raw) ?? String(raw);
  } catch {
    return String(raw);
  }
}

function parseRaw<T extends z.ZodType>(schema: T, raw: unknown, pathPrefix = ''): z.output<T> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issues = issuesOf(result.error).map((i) => ({ ...i, path: pathPrefix + i.path }));
    throw new CoinbaseParseError({ url: null, body: snippet(raw), issues });
  }
  return result.data;
}

function checkProductId(productId: string): void {
  if (!ProductId.safeParse(productId).success) {
    throw new CoinbaseArgumentError(
      'productId',
      `expected a Coinbase product id such as "BTC-USD", got ${JSON.stringify(productId)}`,
    );
  }
}

function isoOf(value: string | Date, argument: string): string {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms)) throw new CoinbaseArgumentError(argument, `not a valid time: ${String(value)}`);
  return new Date(ms).toISOString();
}

/** Exchange times carry microseconds: keep them when already ISO UTC, normalise other offsets to Z. */
function exchangeTimeOf(time: string, raw: unknown): string {
  if (IsoUtcString.safeParse(time).success) return time;
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) {
    throw new CoinbaseParseError({
      url: null,
      body: snippet(raw),
      issues: [{ path: 'time', message: `not a time: ${JSON.stringify(time)}` }],
    });
  }
  return new Date(ms).toISOString();
}

/** The mapped record is checked against the schema too: a mapper bug must not write a bad line. */
function checked(tick: PriceTick, raw: unknown): PriceTick {
  const result = PriceTickSchema.safeParse(tick);
  if (!result.success) throw new CoinbaseParseError({ url: null, body: snippet(raw), issues: issuesOf(result.error) });
  return result.data;
}

/** The fields every polled `ok` record shares: its identity (product, source, due second) and its arrival. */
function polledOk(
  ctx: PolledTickContext,
  source: PriceSource,
  scheduled: string,
  price: string,
  exchangeTime: string | null,
): PriceTick {
  return {
    record_id: recordId({ productId: ctx.productId, source, scheduledTime: scheduled }),
    product_id: ctx.productId,
    source,
    status: 'ok',
    price,
    exchange_time: exchangeTime,
    scheduled_time: scheduled,
    ingest_time: ctx.receivedAt.toISOString(),
    reason: null,
  };
}

// ---- mappers ----------------------------------------------------------------------------------------------------

/**
 * Exchange ticker -> `ok` record (source `coinbase-exchange-ticker`). Price, bid, ask and 24 h volume stay the
 * decimal strings Coinbase sent. Throws {@link CoinbaseParseError} (with every issue) for a missing/negative/
 * non-numeric price, a missing or unreadable time, or wrongly typed fields.
 * @example exchangeTickerToPriceTick(JSON.parse(body),
 *   { productId: 'BTC-USD', scheduledTime: '2026-11-27T19:53:15.000Z', receivedAt: new Date() })
 */
export function exchangeTickerToPriceTick(raw: unknown, ctx: PolledTickContext): PriceTick {
  checkProductId(ctx.productId);
  const scheduled = isoOf(ctx.scheduledTime, 'scheduledTime');
  const ticker = parseRaw(RawExchangeTicker, raw);
  return checked(
    {
      ...polledOk(ctx, 'coinbase-exchange-ticker', scheduled, ticker.price, exchangeTimeOf(ticker.time, raw)),
      bid: ticker.bid ?? null,
      ask: ticker.ask ?? null,
      volume_24h: ticker.volume ?? null,
      trade_id: ticker.trade_id ?? null,
    },
    raw,
  );
}

/**
 * v2 spot price -> `ok` record (source `coinbase-spot`, no exchange time: the endpoint gives none). The quote
 * currency (and base, when present) must match the product, so a wrong pair is never recorded as this product.
 */
export function spotToPriceTick(raw: unknown, ctx: PolledTickContext): PriceTick {
  checkProductId(ctx.productId);
  const scheduled = isoOf(ctx.scheduledTime, 'scheduledTime');
  const spot = parseRaw(RawSpot, raw);
  const [base, quote] = ctx.productId.split('-');
  const issues: PayloadIssue[] = [];
  if (spot.data.currency !== quote)
    issues.push({ path: 'data.currency', message: `expected ${quote}, got ${spot.data.currency}` });
  if (spot.data.base !== undefined && spot.data.base !== base) {
    issues.push({ path: 'data.base', message: `expected ${base}, got ${spot.data.base}` });
  }
  if (issues.length > 0) throw new CoinbaseParseError({ url: null, body: snippet(raw), issues });
  return checked(polledOk(ctx, 'coinbase-spot', scheduled, spot.data.amount, null), raw);
}

/**
 * One Exchange candle -> `ok` record (source `coinbase-candles`): price = close, open/high/low alongside,
 * `granularity_s` the width, `exchange_time` the candle's start, no scheduled time (the start is its identity).
 * Numbers given as text keep their digits; plain numbers are converted without exponents.
 */
export function candleToPriceTick(raw: unknown, ctx: CandleContext): PriceTick {
  checkProductId(ctx.productId);
  if (!(CANDLE_GRANULARITIES as readonly number[]).includes(ctx.granularity)) {
    throw new CoinbaseArgumentError(
      'granularity',
      `must be one of ${CANDLE_GRANULARITIES.join(', ')}, got ${ctx.granularity}`,
    );
  }
  const [time, low, high, open, close] = parseRaw(RawCandle, raw);
  const exchangeTime = new Date(time * 1000).toISOString();
  const source = 'coinbase-candles' as const;
  return checked(
    {
      record_id: recordId({ productId: ctx.productId, source, exchangeTime: `${exchangeTime}/${ctx.granularity}` }),
      product_id: ctx.productId,
      source,
      status: 'ok',
      price: close,
      exchange_time: exchangeTime,
      scheduled_time: null,
      ingest_time: ctx.receivedAt.toISOString(),
      reason: null,
      open,
      high,
      low,
      granularity_s: ctx.granularity,
      ...(ctx.backfilled === undefined ? {} : { backfilled: ctx.backfilled }),
    },
    raw,
  );
}
