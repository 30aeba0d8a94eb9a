import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  installFaultRules,
  pickFaultRule,
  type FakeApi,
  type FakeEndpoint,
  type Fault,
  type FaultRule,
  type InstalledFaultRule,
  type Latency,
} from './fake-coinbase.faults';
import { createPriceWalk, type FakeCandle, type FakeProduct, type PriceWalk } from './price-walk';

/** Exchange accepts only these candle widths (seconds). */
export const FAKE_CANDLE_GRANULARITIES = [60, 300, 900, 3600, 21600, 86400] as const;
/** Exchange rejects a candle request spanning more than this many buckets. */
export const FAKE_MAX_CANDLES = 300;

export interface StartFakeCoinbaseOptions {
  /** Seed of the price walk: same seed, same prices (default 1). */
  seed?: number;
  /** Known products and their start prices (default `DEFAULT_FAKE_PRODUCTS`); others get Coinbase's 404. */
  products?: Readonly<Record<string, FakeProduct>>;
  /**
   * The time the fake believes it is, in epoch ms (default `Date.now`): drives prices, the ticker's `time`, the newest
   * candle served, and fault rules' `from`/`until`. Arrival times of requests are always real wall-clock time.
   */
  clock?: () => number;
  /** Rules active from the start (same as calling `setFaults` at once). */
  faults?: readonly FaultRule[];
  /** Share of candles left out as "no trades in that bucket", seeded (default 0). */
  candleGapRate?: number;
  /** Volatility of the walk, per sqrt(second) of log price (default 1e-4). */
  sigmaPerSqrtSecond?: number;
}

/** One request as the fake saw it: for asserting on what a client sent and for measuring poll cadence. */
export interface FakeRequest {
  /** 1, 2, 3... in arrival order across both APIs. */
  readonly seq: number;
  readonly api: FakeApi;
  readonly endpoint: FakeEndpoint;
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly productId: string | null;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Real wall-clock arrival time, epoch ms (`Date.now()`). */
  readonly receivedAt: number;
  /** Monotonic arrival time (`performance.now()`), for intervals between requests. */
  readonly receivedAtMonotonic: number;
  /** The fake's own clock at arrival (equals `receivedAt` unless a `clock` was given). */
  readonly clockAt: number;
  /** The rule that answered it, if any. */
  readonly ruleId: string | null;
  readonly fault: Fault['kind'] | null;
  readonly delayMs: number;
  /** Status sent; null while pending, and for resets, hangs and clients that left before the answer. */
  status: number | null;
  /** Wall-clock time the answer was written; null as for `status`. */
  answeredAt: number | null;
}

/** Filter for `requestsTo` / `waitForRequests`. */
export interface FakeRequestFilter {
  api?: FakeApi;
  endpoint?: FakeEndpoint;
  productId?: string;
}

/**
 * A running fake Coinbase: two loopback HTTP servers (Exchange and the v2 API, on different ports so a per-host rate
 * limiter sees two hosts as in production) sharing one seeded price walk, a request log and fault rules.
 * A WebSocket feed can later attach to the same walk and clock (`walk`, `now`).
 */
export interface FakeCoinbase {
  /** Base URL standing in for `https://api.exchange.coinbase.com` (`COINBASE_EXCHANGE_URL`). */
  readonly exchangeUrl: string;
  /** Base URL standing in for `https://api.coinbase.com` (`COINBASE_API_URL`). */
  readonly apiUrl: string;
  /** Every request so far, in arrival order (a live array: it grows as requests arrive). */
  readonly requests: readonly FakeRequest[];
  /** Requests matching a filter, in arrival order. */
  requestsTo(filter: FakeRequestFilter): FakeRequest[];
  /** Resolve once `count` requests match the filter (counting those already logged); reject after `timeoutMs` (default 5 s). */
  waitForRequests(count: number, filter?: FakeRequestFilter, timeoutMs?: number): Promise<FakeRequest[]>;
  /** Forget the request log (`seq` keeps counting). */
  clearRequests(): void;
  /** Replace all fault rules; counts (`nth`, `times`) start again from 0. Returns the installed rules (with hit counters). */
  setFaults(rules: readonly FaultRule[]): readonly InstalledFaultRule[];
  /** Add one rule after the existing ones. */
  addFault(rule: FaultRule): InstalledFaultRule;
  clearFaults(): void;
  /** The installed rules with their `seen` / `hits` counters. */
  readonly faults: readonly InstalledFaultRule[];
  /** The price walk behind every endpoint. */
  readonly walk: PriceWalk;
  /** The price the fake serves for a product at a moment (default: now on its clock), as the decimal string it sends. */
  priceAt(productId: string, at?: number | Date): string;
  /** The candle `[time, low, high, open, close, volume]` the fake serves for a bucket start (epoch seconds). */
  candleAt(productId: string, granularity: number, startSec: number): FakeCandle | undefined;
  /** The fake's clock. */
  now(): number;
  /** Close both servers, dropping hanging and kept-alive connections. Safe to call twice. */
  stop(): Promise<void>;
}

type Json = unknown;

const HTML_PAGE = (status: number) =>
  `<!DOCTYPE html>\n<html><head><title>${status} Bad Gateway</title></head>\n<body><center><h1>${status} Bad Gateway</h1></center>\n<hr><center>cloudflare</center>\n</body></html>\n`;

const exchangeError = (message: string) => ({ message });
const v2Error = (id: string, message: string) => ({ errors: [{ id, message }] });
const apiError = (api: FakeApi, status: number, message: string) =>
  api === 'exchange'
    ? exchangeError(message)
    : v2Error(status === 429 ? 'rate_limit_exceeded' : `http_${status}`, message);

interface Routed {
  endpoint: FakeEndpoint;
  productId: string | null;
}

function route(api: FakeApi, path: string): Routed {
  const exchange = /^\/products\/([^/]+)\/(ticker|candles)\/?$/.exec(path);
  if (api === 'exchange' && exchange) {
    return { endpoint: exchange[2] as 'ticker' | 'candles', productId: decodeURIComponent(exchange[1] ?? '') };
  }
  const spot = /^\/v2\/prices\/([^/]+)\/spot\/?$/.exec(path);
  if (api === 'api' && spot) return { endpoint: 'spot', productId: decodeURIComponent(spot[1] ?? '') };
  return { endpoint: 'other', productId: null };
}

interface Answer {
  status: number;
  body: Json;
  headers?: Record<string, string>;
}

/**
 * Start a fake Coinbase on 127.0.0.1 (free ports). It speaks the documented shapes (shared/REFERENCE.md):
 * - Exchange `GET /products/{id}/ticker` -> `{trade_id, price, size, bid, ask, volume, time}`
 * - Exchange `GET /products/{id}/candles?granularity&start&end` -> `[[time, low, high, open, close, volume], ...]` newest
 *   first; 400 for a granularity outside 60/300/900/3600/21600/86400 or a range over 300 buckets, as Exchange does
 * - v2 `GET /v2/prices/{id}/spot[?date=YYYY-MM-DD]` -> `{"data":{"amount","base","currency"}}`
 * Prices come from a seeded random walk per product (`priceAt`, `candleAt` predict them); faults are programmable
 * per endpoint, product, path, request count and time window (`setFaults`).
 *
 * @example
 * const fake = await startFakeCoinbase({ seed: 7 });
 * fake.setFaults([{ endpoint: 'ticker', times: 1, fault: { kind: 'rate-limit', retryAfter: 1 } }]);
 * const client = createCoinbaseClient({ exchangeUrl: fake.exchangeUrl, apiUrl: fake.apiUrl });
 * // ... first ticker call gets 429, the next one fake.priceAt('BTC-USD')
 * await fake.stop();
 */
export async function startFakeCoinbase(options: StartFakeCoinbaseOptions = {}): Promise<FakeCoinbase> {
  const clock = options.clock ?? Date.now;
  const walk = createPriceWalk({
    seed: options.seed,
    products: options.products,
    candleGapRate: options.candleGapRate,
    sigmaPerSqrtSecond: options.sigmaPerSqrtSecond,
  });
  const requests: FakeRequest[] = [];
  let rules: InstalledFaultRule[] = installFaultRules(options.faults ?? [], 0);
  let ruleCount = rules.length;
  let seq = 0;
  const waiters = new Set<() => void>();

  const drawLatency = (latency: Latency | undefined, n: number): number => {
    if (latency === undefined) return 0;
    if (typeof latency === 'number') return latency;
    return latency.min + walk.uniform('latency', n) * (latency.max - latency.min);
  };

  // ---- normal answers -------------------------------------------------------------------------------------
  const ticker = (productId: string, now: number): Answer => {
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
  };

  const candles = (api: FakeApi, productId: string, query: Record<string, string>, now: number): Answer => {
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
  };

  const spot = (productId: string, query: Record<string, string>, now: number): Answer => {
    let at = now;
    if (query.date !== undefined) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(query.date) || Number.isNaN(Date.parse(`${query.date}T00:00:00Z`))) {
        return { status: 400, body: v2Error('invalid_request', `Invalid date: ${query.date}`) };
      }
      at = Date.parse(`${query.date}T00:00:00Z`);
    }
    const [base, currency] = productId.split('-');
    return { status: 200, body: { data: { amount: walk.priceTextAt(productId, at), base, currency } } };
  };

  const normalAnswer = (api: FakeApi, routed: Routed, query: Record<string, string>, now: number): Answer => {
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
    if (endpoint === 'ticker') return ticker(productId, now);
    if (endpoint === 'candles') return candles(api, productId, query, now);
    return spot(productId, query, now);
  };

  // ---- faults -------------------------------------------------------------------------------------------------
  const withoutField = (endpoint: FakeEndpoint, body: Json, field: string): Json => {
    if (endpoint === 'candles' && Array.isArray(body)) {
      const column = ['time', 'low', 'high', 'open', 'close', 'volume'].indexOf(field);
      if (column < 0) throw new RangeError(`missing-field: candles have no column ${field}`);
      return body.map((row: FakeCandle, i) => (i === 0 ? row.filter((_, c) => c !== column) : row));
    }
    if (endpoint === 'spot') {
      const data = { ...(body as { data: Record<string, unknown> }).data };
      if (field === 'data') return {};
      delete data[field.replace(/^data\./, '')];
      return { data };
    }
    const copy = { ...(body as Record<string, unknown>) };
    delete copy[field];
    return copy;
  };

  const withPrice = (endpoint: FakeEndpoint, body: Json, value: unknown): Json => {
    if (endpoint === 'candles' && Array.isArray(body))
      return body.map((row: unknown[]) => [...row.slice(0, 4), value, ...row.slice(5)]);
    if (endpoint === 'spot') return { data: { ...(body as { data: object }).data, amount: value } };
    return { ...(body as object), price: value };
  };

  const retryAfterHeader = (retryAfter: number | string | undefined): Record<string, string> =>
    retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) };

  // ---- HTTP -----------------------------------------------------------------------------------------------------
  const write = (
    res: ServerResponse,
    record: FakeRequest,
    status: number,
    text: string,
    headers: Record<string, string> = {},
  ) => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
    record.status = status;
    record.answeredAt = Date.now();
  };

  const handle = async (api: FakeApi, req: IncomingMessage, res: ServerResponse) => {
    const receivedAt = Date.now();
    const receivedAtMonotonic = performance.now();
    const clockAt = clock();
    const url = new URL(req.url ?? '/', 'http://fake');
    const routed = route(api, url.pathname);
    const query = Object.fromEntries(url.searchParams);
    const rule = pickFaultRule(rules, {
      api,
      endpoint: routed.endpoint,
      productId: routed.productId,
      path: url.pathname,
      now: clockAt,
    });
    const n = ++seq;
    const delayMs = drawLatency(rule?.delayMs, n);
    const record: FakeRequest = {
      seq: n,
      api,
      endpoint: routed.endpoint,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      path: url.pathname,
      query,
      productId: routed.productId,
      headers: { ...req.headers },
      receivedAt,
      receivedAtMonotonic,
      clockAt,
      ruleId: rule?.id ?? null,
      fault: rule?.fault?.kind ?? null,
      delayMs,
      status: null,
      answeredAt: null,
    };
    requests.push(record);
    for (const wake of [...waiters]) wake();

    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (res.destroyed) return;
    const fault = rule?.fault;
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'reset' && fault.when !== 'mid-body') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'rate-limit') {
      const message = fault.message ?? (api === 'exchange' ? 'Public rate limit exceeded' : 'Too many requests');
      write(res, record, 429, JSON.stringify(apiError(api, 429, message)), retryAfterHeader(fault.retryAfter));
      return;
    }
    if (fault?.kind === 'server-error' || fault?.kind === 'status') {
      const status = fault.status ?? 503;
      const message =
        fault.kind === 'status' && fault.message
          ? fault.message
          : status >= 500
            ? 'Service Unavailable'
            : 'Bad Request';
      write(res, record, status, JSON.stringify(apiError(api, status, message)), retryAfterHeader(fault.retryAfter));
      return;
    }
    if (fault?.kind === 'html') {
      const status = fault.status ?? 502;
      write(res, record, status, HTML_PAGE(status), { 'content-type': 'text/html; charset=UTF-8' });
      return;
    }
    if (fault?.kind === 'respond') {
      write(res, record, fault.status, fault.body, fault.headers);
      return;
    }

    const answer = normalAnswer(api, routed, query, clockAt);
    let body = answer.body;
    if (answer.status === 200 && fault?.kind === 'missing-field')
      body = withoutField(routed.endpoint, body, fault.field);
    if (answer.status === 200 && fault?.kind === 'price') body = withPrice(routed.endpoint, body, fault.value);
    const text = JSON.stringify(body);
    if (fault?.kind === 'truncated-json') {
      write(res, record, answer.status, text.slice(0, fault.bytes ?? Math.floor(text.length / 2)));
      return;
    }
    if (fault?.kind === 'reset') {
      // headers promise the whole body, half of it arrives, then the connection dies
      res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.write(text.slice(0, Math.floor(text.length / 2)), () => req.socket.destroy());
      return;
    }
    write(res, record, answer.status, text, answer.headers);
  };

  const listen = async (api: FakeApi): Promise<{ server: Server; url: string }> => {
    const server = createServer((req, res) => {
      handle(api, req, res).catch((error: unknown) => {
        // a bug in the fake itself: answer 500 with the reason rather than leaving the client hanging
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake-coinbase internal error: ${String(error)}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return { server, url: `http://127.0.0.1:${port}` };
  };

  const exchange = await listen('exchange');
  const api = await listen('api');

  const matches = (r: FakeRequest, f: FakeRequestFilter = {}) =>
    (f.api === undefined || r.api === f.api) &&
    (f.endpoint === undefined || r.endpoint === f.endpoint) &&
    (f.productId === undefined || r.productId === f.productId);

  let stopped: Promise<void> | undefined;
  const closeServer = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  return {
    exchangeUrl: exchange.url,
    apiUrl: api.url,
    requests,
    requestsTo: (filter) => requests.filter((r) => matches(r, filter)),
    waitForRequests(count, filter = {}, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = requests.filter((r) => matches(r, filter));
          if (found.length < count) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `fake Coinbase: ${count} requests matching ${JSON.stringify(filter)} did not arrive within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    clearRequests: () => void requests.splice(0, requests.length),
    setFaults(next) {
      rules = installFaultRules(next, ruleCount);
      ruleCount += rules.length;
      return rules;
    },
    addFault(rule) {
      const [installed] = installFaultRules([rule], ruleCount++);
      rules = [...rules, installed as InstalledFaultRule];
      return installed as InstalledFaultRule;
    },
    clearFaults: () => void (rules = []),
    get faults() {
      return rules;
    },
    walk,
    priceAt: (productId, at = clock()) => walk.priceTextAt(productId, at instanceof Date ? at.getTime() : at),
    candleAt: (productId, granularity, startSec) => walk.candleAt(productId, granularity, startSec),
    now: clock,
    stop() {
      stopped ??= Promise.all([closeServer(exchange.server), closeServer(api.server)]).then(() => undefined);
      return stopped;
    },
  };
}
