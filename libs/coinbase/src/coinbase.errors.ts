import { DataError, type ErrorData } from '@btc-etl/errors';
import type { MissReason } from '@btc-etl/price-schema';

/** How much of a bad body an error keeps: enough to recognise an HTML page or a cut-off JSON. */
export const BODY_SNIPPET_CHARS = 300;

/** The first {@link BODY_SNIPPET_CHARS} characters of a body, marked when cut. */
export function bodySnippetOf(body: string): string {
  return body.length > BODY_SNIPPET_CHARS ? `${body.slice(0, BODY_SNIPPET_CHARS)}…` : body;
}

/** One thing wrong with a payload: where (dot path, '' for the whole body) and what. */
export type PayloadIssue = {
  path: string;
  message: string;
};

/** What every Coinbase error carries in `data`. */
export type CoinbaseErrorData = {
  missReason: MissReason | null;
  url: string | null;
};

/**
 * Base of every error the REST client throws. `missReason` is the price record's `reason` for a poll that failed this
 * way, or null when the error is not a failed poll (the caller aborted, or passed bad arguments). The facts of each
 * subclass are in `data` too (`status`, `retryAfterMs`, `issues`...), for log lines.
 */
export class CoinbaseError<D extends ErrorData = ErrorData> extends DataError<CoinbaseErrorData & D> {
  readonly missReason: MissReason | null;
  /** The request's URL, when there was one. */
  readonly url: string | null;
  constructor(
    message: string,
    missReason: MissReason | null,
    url: string | null,
    options?: ErrorOptions,
    data: D = {} as D,
  ) {
    super(message, { ...data, missReason, url }, options);
    this.missReason = missReason;
    this.url = url;
  }
}

/** Coinbase answered with a non-2xx status. Retry policies read `status` and `retryAfterMs`. */
export class CoinbaseHttpError extends CoinbaseError<{
  status: number;
  retryAfterMs: number | null;
  bodySnippet: string;
}> {
  readonly status: number;
  /** From a `Retry-After` header (seconds or HTTP date), else null. */
  readonly retryAfterMs: number | null;
  readonly bodySnippet: string;
  constructor(
    args: { status: number; url: string; retryAfterMs: number | null; body: string },
    options?: ErrorOptions,
  ) {
    const reason: MissReason = args.status === 429 ? 'http_429' : args.status >= 500 ? 'http_5xx' : 'http_4xx';
    const snippet = bodySnippetOf(args.body);
    const after = args.retryAfterMs === null ? '' : ` (retry after ${args.retryAfterMs} ms)`;
    super(
      `Coinbase answered HTTP ${args.status}${after} for ${args.url}: ${JSON.stringify(snippet.slice(0, 120))}`,
      reason,
      args.url,
      options,
      { status: args.status, retryAfterMs: args.retryAfterMs, bodySnippet: snippet },
    );
    this.status = args.status;
    this.retryAfterMs = args.retryAfterMs;
    this.bodySnippet = snippet;
  }
}

/** No complete answer within the request's time budget (its own timeout or the caller's deadline). */
export class CoinbaseTimeoutError extends CoinbaseError<{ timeoutMs: number }> {
  readonly timeoutMs: number;
  constructor(args: { url: string; timeoutMs: number }, options?: ErrorOptions) {
    super(`Coinbase did not answer ${args.url} within ${args.timeoutMs} ms`, 'timeout', args.url, options, {
      timeoutMs: args.timeoutMs,
    });
    this.timeoutMs = args.timeoutMs;
  }
}

/** The connection failed: reset, refused, DNS, or closed before the body was complete. */
export class CoinbaseNetworkError extends CoinbaseError<{ code: string | null }> {
  /** Node's error code (`ECONNRESET`, `ENOTFOUND`, ...) when known. */
  readonly code: string | null;
  constructor(args: { url: string; code: string | null }, options?: ErrorOptions) {
    super(`network error calling ${args.url}: ${args.code ?? 'unknown'}`, 'network', args.url, options, {
      code: args.code,
    });
    this.code = args.code;
  }
}

/**
 * A 2xx body that is not the documented shape: HTML, truncated JSON, missing fields, negative or non-numeric prices.
 */
export class CoinbaseParseError extends CoinbaseError<{ bodySnippet: string; issues: PayloadIssue[] }> {
  readonly bodySnippet: string;
  readonly issues: PayloadIssue[];
  constructor(args: { url: string | null; body: string; issues: PayloadIssue[] }, options?: ErrorOptions) {
    const what = args.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    super(
      `unexpected Coinbase payload${args.url ? ` from ${args.url}` : ''}: ${what}`,
      'parse_error',
      args.url,
      options,
      { bodySnippet: bodySnippetOf(args.body), issues: args.issues },
    );
    this.bodySnippet = bodySnippetOf(args.body);
    this.issues = args.issues;
  }
}

/** The local token bucket had no token for a request that may not wait (a poll): no request was sent. */
export class CoinbaseRateLimitedError extends CoinbaseError<{ host: string; ratePerSecond: number; burst: number }> {
  readonly host: string;
  readonly ratePerSecond: number;
  readonly burst: number;
  constructor(args: { url: string; host: string; ratePerSecond: number; burst: number }) {
    super(
      `local rate limit for ${args.host} (${args.ratePerSecond}/s, burst ${args.burst}) refused ${args.url}`,
      'rate_limited',
      args.url,
      undefined,
      { host: args.host, ratePerSecond: args.ratePerSecond, burst: args.burst },
    );
    this.host = args.host;
    this.ratePerSecond = args.ratePerSecond;
    this.burst = args.burst;
  }
}

/** The caller's signal aborted the request for a reason other than a timeout (e.g. shutdown): not a miss. */
export class CoinbaseAbortedError extends CoinbaseError {
  constructor(url: string | null, options?: ErrorOptions) {
    super(`request to ${url ?? 'Coinbase'} aborted by the caller`, null, url, options);
  }
}

/** Bad arguments (unknown granularity, malformed product id, inverted range): a bug in the caller, not a miss. */
export class CoinbaseArgumentError extends CoinbaseError<{ argument: string }> {
  readonly argument: string;
  constructor(argument: string, message: string) {
    super(`${argument}: ${message}`, null, null, undefined, { argument });
    this.argument = argument;
  }
}

/**
 * The price record's miss reason for an error a poll threw: timeout, http_429, http_5xx, http_4xx, parse_error,
 * rate_limited or network. Null for anything that is not a failed poll (an abort, bad arguments, a foreign error):
 * those should be rethrown, not recorded as a gap.
 * @example
 * catch (error) {
 *   const reason = missReasonOf(error);
 *   if (reason === null) throw error;
 *   record(missedTick(reason, ...));
 * }
 */
export function missReasonOf(error: unknown): MissReason | null {
  return error instanceof CoinbaseError ? error.missReason : null;
}
