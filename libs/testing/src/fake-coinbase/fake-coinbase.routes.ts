import type { FakeApi, FakeEndpoint } from './fake-coinbase.faults';
import type { FakeCandle, PriceWalk } from './price-walk';

/** Exchange accepts only these candle widths (seconds). */
export const FAKE_CANDLE_GRANULARITIES = [60, 300, 900, 3600, 21600, 86400] as const;
/** Exchange rejects a candle request spanning more than this many buckets. */
export const FAKE_MAX_CANDLES = 300;

/** An answer before faults are applied: status, JSON body, extra headers. */
export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Which endpoint a path names, and for which product. */
export interface Routed {
  endpoint: FakeEndpoint;
  productId: string | null;
}

const exchangeError = (message: string) => ({ message });
const v2Error = (id: string, message: string) => ({ errors: [{ id, message }] });

/** An error body in the API's own shape: Exchange `{message}`, v2 `{errors:[{id,message}]}`. */
export const apiError = (api: FakeApi, status: number, message: string) =>
  api === 'exchange'
    ? exchangeError(message)
    : v2Error(status === 429 ? 'rate_limit_exceeded' : `http_${status}`, message);

/** The endpoint and product a request path names on one API. */
export function route(api: FakeApi, path: string): Routed {
  const exchange = /^\/products\/([^/]+)\/(ticker|candles)\/?$/.exec(path);
  if (api === 'exchange' && exchange) {
    return { endpoint: exchange[2] as 'ticker' | 'candles', productId: decodeURIComponent(exchange[1] ?? '') };
  }
  const spot = /^\/v2\/prices\/([^/]+)\/spot\/?$/.exec(path);
  if (api === 'api' && spot) return { endpoint: 'spot', productId: decodeURIComponent(spot[1] ?? '') };
  return { endpoint: 'other', productId: null };
}

/** Exchange ticker at `now`: the walk's price, a one-tick spread, and Exchange's microsecond `time`. */
function tickerAnswer(walk: PriceWalk, productId: string, now: number): Answer {
  const price = walk.priceAt(productId, now);
  const decimals = walk.decimalsOf(productId);
  const second = Math.floor(now / 1000);
  const tickSize = 10 ** -decimals;
  return {
    status: 200,
    body: {
      trade_id: 86_000_000 + (second - 1_767_225_600),
      price: price.toFixed(decimals),
      size: (walk.uniform('size', second) * 0.5).toFixed(8),
      bid: Math.max(price - tickSize, tickSize).toFixed(decimals),
      ask: price.toFixed(decimals),
      volume: (10_000 + walk.uniform('volume', Math.floor(second / 86_400)) * 5_000).toFixed(8),
      // Exchange sends microseconds
      time: new Date(now).toISOString().replace(/Z$/, '000Z'),
    },
  };
}

/** Exchange candles, newest first, with Exchange's 400s for a bad granularity or range. */
function candlesAnswer(
  walk: PriceWalk,
  api: FakeApi,
  productId: string,
  query: Record<string, string>,
  now: number,
): Answer {
  const granularity = query.granularity === undefined ? 60 : Number(query.granularity);
  if (!(FAKE_CANDLE_GRANULARITIES as readonly number[]).includes(granularity)) {
    return { status: 400, body: exchangeError('Unsupported granularity') };
  }
  if ((query.start === undefined) !== (query.end === undefined)) {
    return { status: 400, body: exchangeError('start and end must both be given') };
  }
  const endMs = query.end === undefined ? now : Date.parse(query.end);
  const startMs =
    query.start === undefined ? now - (FAKE_MAX_CANDLES - 1) * granularity * 1000 : Date.parse(query.start);
  if (Number.isNaN(startMs)) return { status: 400, body: exchangeError('Invalid start') };
  if (Number.isNaN(endMs)) return { status: 400, body: exchangeError('Invalid end') };
  if (endMs < startMs) return { status: 400, body: exchangeError('start must be before end') };
  const first = Math.floor(startMs / 1000 / granularity) * granularity;
  const last = Math.floor(endMs / 1000 / granularity) * granularity;
  if ((last - first) / granularity + 1 > FAKE_MAX_CANDLES) {
    return {
      status: 400,
      body: apiError(
        api,
        400,
        'granularity too small for the requested time range. Count of aggregations requested exceeds 300',
      ),
    };
  }
  const newest = Math.min(last, Math.floor(now / 1000 / granularity) * granularity);
  const rows: FakeCandle[] = [];
  for (let t = newest; t >= first; t -= granularity) {
    const candle = walk.candleAt(productId, granularity, t);
    if (candle) rows.push(candle);
  }
  return { status: 200, body: rows };
}

/** v2 spot price, now or at the start of `?date=YYYY-MM-DD`. */
function spotAnswer(walk: PriceWalk, productId: string, query: Record<string, string>, now: number): Answer {
  let at = now;
  if (query.date !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(query.date) || Number.isNaN(Date.parse(`${query.date}T00:00:00Z`))) {
      return { status: 400, body: v2Error('invalid_request', `Invalid date: ${query.date}`) };
    }
    at = Date.parse(`${query.date}T00:00:00Z`);
  }
  const [base, currency] = productId.split('-');
  return { status: 200, body: { data: { amount: walk.priceTextAt(productId, at), base, currency } } };
}

/** What Coinbase answers when nothing goes wrong (404 for unknown paths and products), on the fake's clock. */
export function normalAnswer(
  walk: PriceWalk,
  api: FakeApi,
  routed: Routed,
  query: Record<string, string>,
  now: number,
): Answer {
  const { endpoint, productId } = routed;
  if (endpoint === 'other' || productId === null) {
    return { status: 404, body: api === 'exchange' ? exchangeError('NotFound') : v2Error('not_found', 'Not found') };
  }
  if (!walk.products.has(productId)) {
    return {
      status: 404,
      body:
        api === 'exchange' ? exchangeError('NotFound') : v2Error('not_found', `Invalid currency pair (${productId})`),
    };
  }
  if (endpoint === 'ticker') return tickerAnswer(walk, productId, now);
  if (endpoint === 'candles') return candlesAnswer(walk, api, productId, query, now);
  return spotAnswer(walk, productId, query, now);
}
