/** Which of the fake's two HTTP APIs a request reached: Exchange (`/products/...`) or the v2 API (`/v2/prices/...`). */
export type FakeApi = 'exchange' | 'api';

/** What a request asked for; `other` for unknown paths (they get Coinbase's 404). */
export type FakeEndpoint = 'ticker' | 'candles' | 'spot' | 'other';

/**
 * What to do instead of (or on top of) the normal answer. Bodies follow the API the request reached: Exchange errors
 * are `{"message":"..."}`, v2 errors are `{"errors":[{"id":"...","message":"..."}]}`.
 */
export type Fault =
  /** 429 with the API's documented body; `retryAfter` adds a Retry-After header (seconds, or an HTTP date string). */
  | { kind: 'rate-limit'; retryAfter?: number | string; message?: string }
  /** A 5xx (default 503) with the API's JSON error body. */
  | { kind: 'server-error'; status?: number; retryAfter?: number | string }
  /** Any status with the API's JSON error body (e.g. 400, 404). */
  | { kind: 'status'; status: number; message?: string; retryAfter?: number | string }
  /** An HTML error page as a proxy or CDN sends it (default 502; status 200 gives HTML where JSON was due). */
  | { kind: 'html'; status?: number }
  /** A complete 200 response whose JSON body is cut after `bytes` bytes (default: half of it). */
  | { kind: 'truncated-json'; bytes?: number }
  /**
   * The normal body without one field: a top-level key of the ticker (`price`, `time`, ...), `amount` / `currency`
   * / `base` of the spot `data`, or for candles one column (`time`, `low`, `high`, `open`, `close`, `volume`) of the
   * first candle, which then has five elements.
   */
  | { kind: 'missing-field'; field: string }
  /**
   * The normal body with its price replaced by `value` exactly (`'-97000.00'`, `'abc'`, `97000.5` as a number,
   * `null`): the ticker's `price`, the spot `amount`, or every candle's `close`.
   */
  | { kind: 'price'; value: unknown }
  /** Any response at all. */
  | { kind: 'respond'; status: number; body: string; headers?: Record<string, string> }
  /** The socket is destroyed: before any byte (`before-headers`, default) or after the headers and half the body. */
  | { kind: 'reset'; when?: 'before-headers' | 'mid-body' }
  /** The request is read and never answered (until the client gives up or the fake stops). */
  | { kind: 'hang' };

/** Fixed latency, or a seeded uniform draw in [min, max]. */
export type Latency = number | { min: number; max: number };

/**
 * One programmable fault. A request is checked against the rules in order; the first whose filters all match
 * (api, endpoint, product, path, request count, time window) decides: it waits `delayMs`, then answers with `fault`
 * or, with no fault, normally. Filters left out match everything.
 *
 * @example Every second ticker request of BTC-USD gets a 429 with Retry-After: 2
 * fake.setFaults([
 *   { endpoint: 'ticker', productId: 'BTC-USD', nth: [2, 4, 6], fault: { kind: 'rate-limit', retryAfter: 2 } },
 * ]);
 * @example The spot endpoint is slow (200-400 ms) for the next 5 s of the fake's clock
 * fake.setFaults([{ endpoint: 'spot', until: Date.now() + 5_000, delayMs: { min: 200, max: 400 } }]);
 */
export interface FaultRule {
  /** A name for reports; defaults to `rule-<n>`. */
  id?: string;
  api?: FakeApi;
  endpoint?: FakeEndpoint | FakeEndpoint[];
  productId?: string | string[];
  /** Matches the pathname: exactly for a string, `test()` for a RegExp. */
  path?: string | RegExp;
  /**
   * Which of the requests that pass the filters above this rule takes, counted from 1 since the rule was set:
   * one number, a list, or a range (`{ from: 3 }` = the third onwards).
   */
  nth?: number | number[] | { from?: number; to?: number };
  /** Shorthand for `nth: { from: 1, to: times }`: the rule applies to the first `times` matching requests only. */
  times?: number;
  /** Active from this moment of the fake's clock (epoch ms or Date), inclusive. */
  from?: number | Date;
  /** Active until this moment of the fake's clock (epoch ms or Date), exclusive. */
  until?: number | Date;
  /** Wait this long before answering (or before the fault). */
  delayMs?: Latency;
  /** What to answer; without it the normal answer is sent (after `delayMs`). */
  fault?: Fault;
}

/** What the fake knows about a request when it picks a rule. */
export interface FaultTarget {
  api: FakeApi;
  endpoint: FakeEndpoint;
  productId: string | null;
  path: string;
  now: number;
}

/** A rule as installed: its filters plus how many requests matched its filters and how many it took. */
export interface InstalledFaultRule extends FaultRule {
  readonly id: string;
  /** Requests that passed the rule's filters (api, endpoint, product, path, time window). */
  seen: number;
  /** Requests this rule actually answered. */
  hits: number;
}

const asList = <T>(value: T | T[] | undefined): T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];
const asMs = (value: number | Date | undefined): number | undefined =>
  value instanceof Date ? value.getTime() : value;

function passesFilters(rule: FaultRule, target: FaultTarget): boolean {
  if (rule.api !== undefined && rule.api !== target.api) return false;
  const endpoints = asList(rule.endpoint);
  if (endpoints && !endpoints.includes(target.endpoint)) return false;
  const products = asList(rule.productId);
  if (products && (target.productId === null || !products.includes(target.productId))) return false;
  if (typeof rule.path === 'string' && rule.path !== target.path) return false;
  if (rule.path instanceof RegExp && !rule.path.test(target.path)) return false;
  const from = asMs(rule.from);
  const until = asMs(rule.until);
  if (from !== undefined && target.now < from) return false;
  if (until !== undefined && target.now >= until) return false;
  return true;
}

function takesCount(rule: FaultRule, n: number): boolean {
  if (rule.times !== undefined && n > rule.times) return false;
  const nth = rule.nth;
  if (nth === undefined) return true;
  if (typeof nth === 'number') return n === nth;
  if (Array.isArray(nth)) return nth.includes(n);
  return n >= (nth.from ?? 1) && n <= (nth.to ?? Number.POSITIVE_INFINITY);
}

/** Validate rules up front so a typo in a test fails loudly instead of silently never firing. */
export function installFaultRules(rules: readonly FaultRule[], firstIndex: number): InstalledFaultRule[] {
  return rules.map((rule, i) => {
    const id = rule.id ?? `rule-${firstIndex + i + 1}`;
    const latency = rule.delayMs;
    if (latency !== undefined) {
      const bad = typeof latency === 'number' ? !(latency >= 0) : !(latency.min >= 0 && latency.max >= latency.min);
      if (bad) throw new RangeError(`fault rule ${id}: delayMs must be >= 0 or { min >= 0, max >= min }`);
    }
    if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) {
      throw new RangeError(`fault rule ${id}: times must be a positive integer`);
    }
    if (rule.fault === undefined && latency === undefined) {
      throw new RangeError(`fault rule ${id}: give a fault, a delayMs, or both`);
    }
    return { ...rule, id, seen: 0, hits: 0 };
  });
}

/** The first rule that takes this request, counting it on every rule whose filters it passes. */
export function pickFaultRule(
  rules: readonly InstalledFaultRule[],
  target: FaultTarget,
): InstalledFaultRule | undefined {
  let picked: InstalledFaultRule | undefined;
  for (const rule of rules) {
    if (!passesFilters(rule, target)) continue;
    rule.seen++;
    if (!picked && takesCount(rule, rule.seen)) picked = rule;
  }
  if (picked) picked.hits++;
  return picked;
}
