import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { sleep } from '@btc-etl/resilience';
import {
  installFaultRules,
  pickFaultRule,
  type FakeApi,
  type FaultRule,
  type InstalledFaultRule,
  type Latency,
} from './fake-coinbase.faults';
import { FakeRequestLog, type FakeRequest, type FakeRequestFilter } from './fake-coinbase.request-log';
import { reply } from './fake-coinbase.responder';
import { normalAnswer, route } from './fake-coinbase.routes';
import { createPriceWalk, type FakeCandle, type FakeProduct, type PriceWalk } from './price-walk';

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
  /**
   * Resolve once `count` requests match the filter (counting those already logged); reject after `timeoutMs`
   * (default 5 s).
   */
  waitForRequests(count: number, filter?: FakeRequestFilter, timeoutMs?: number): Promise<FakeRequest[]>;
  /** Forget the request log (`seq` keeps counting). */
  clearRequests(): void;
  /**
   * Replace all fault rules; counts (`nth`, `times`) start again from 0.
   * Returns the installed rules (with hit counters).
   */
  setFaults(rules: readonly FaultRule[]): readonly InstalledFaultRule[];
  /** Add one rule after the existing ones. */
  addFault(rule: FaultRule): InstalledFaultRule;
  clearFaults(): void;
  /** The installed rules with their `seen` / `hits` counters. */
  readonly faults: readonly InstalledFaultRule[];
  /** The price walk behind every endpoint. */
  readonly walk: PriceWalk;
  /**
   * The price the fake serves for a product at a moment (default: now on its clock), as the decimal string it sends.
   */
  priceAt(productId: string, at?: number | Date): string;
  /** The candle `[time, low, high, open, close, volume]` the fake serves for a bucket start (epoch seconds). */
  candleAt(productId: string, granularity: number, startSec: number): FakeCandle | undefined;
  /** The fake's clock. */
  now(): number;
  /** Close both servers, dropping hanging and kept-alive connections. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Start a fake Coinbase on 127.0.0.1 (free ports). It speaks the documented shapes (shared/REFERENCE.md):
 * - Exchange `GET /products/{id}/ticker` -> `{trade_id, price, size, bid, ask, volume, time}`
 * - Exchange `GET /products/{id}/candles?granularity&start&end`
 *   -> `[[time, low, high, open, close, volume], ...]` newest
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
  const log = new FakeRequestLog();
  let rules: InstalledFaultRule[] = installFaultRules(options.faults ?? [], 0);
  let ruleCount = rules.length;
  let seq = 0;

  const drawLatency = (latency: Latency | undefined, n: number): number => {
    if (latency === undefined) return 0;
    if (typeof latency === 'number') return latency;
    return latency.min + walk.uniform('latency', n) * (latency.max - latency.min);
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
    log.add(record);

    if (delayMs > 0) await sleep(delayMs);
    if (res.destroyed) return;
    reply({
      api,
      req,
      res,
      record,
      fault: rule?.fault,
      normalAnswer: () => normalAnswer(walk, api, routed, query, clockAt),
    });
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

  let stopped: Promise<void> | undefined;
  const closeServer = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  return {
    exchangeUrl: exchange.url,
    apiUrl: api.url,
    requests: log.requests,
    requestsTo: (filter) => log.matching(filter),
    waitForRequests: (count, filter = {}, timeoutMs = 5_000) => log.waitFor(count, filter, timeoutMs),
    clearRequests: () => log.clear(),
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
