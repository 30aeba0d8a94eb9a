import got, { RequestError, TimeoutError, type Got } from 'got';
import {
  CoinbaseAbortedError,
  CoinbaseError,
  CoinbaseHttpError,
  CoinbaseNetworkError,
  CoinbaseTimeoutError,
} from './coinbase.errors';
import { parseRetryAfter } from './retry.policy';

/** One GET: a 2xx body as text plus the arrival time, or a typed {@link CoinbaseError}. */
export type CoinbaseGet = (
  url: URL,
  budgetMs: number,
  signal: AbortSignal | undefined,
) => Promise<{ body: string; receivedAt: Date }>;

/**
 * A GET on got with no retries of its own (retries are decided by the caller's policy), no redirects, and every
 * failure typed: non-2xx -> CoinbaseHttpError (with Retry-After), budget spent -> CoinbaseTimeoutError, reset or
 * refused -> CoinbaseNetworkError, the caller's abort -> {@link abortError}.
 */
export function createCoinbaseGet(userAgent: string): CoinbaseGet {
  const http: Got = got.extend({
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    headers: { 'user-agent': userAgent, accept: 'application/json' },
  });
  return async (url, budgetMs, signal) => {
    const href = url.toString();
    if (signal?.aborted) throw abortError(signal, href, budgetMs);
    if (budgetMs <= 0) throw new CoinbaseTimeoutError({ url: href, timeoutMs: 0 });
    try {
      const response = await http.get(url, { timeout: { request: budgetMs }, signal });
      const receivedAt = new Date();
      if (response.statusCode < 200 || response.statusCode > 299) {
        throw new CoinbaseHttpError({
          status: response.statusCode,
          url: href,
          retryAfterMs: parseRetryAfter(response.headers['retry-after']),
          body: response.body,
        });
      }
      return { body: response.body, receivedAt };
    } catch (error) {
      if (error instanceof CoinbaseError) throw error;
      if (error instanceof TimeoutError)
        throw new CoinbaseTimeoutError({ url: href, timeoutMs: budgetMs }, { cause: error });
      if (signal?.aborted) throw abortError(signal, href, budgetMs, error);
      // resets, refusals, DNS failures and bodies cut off mid-transfer (ECONNRESET, ENOTFOUND,
      // ERR_STREAM_PREMATURE_CLOSE...)
      if (error instanceof RequestError)
        throw new CoinbaseNetworkError({ url: href, code: error.code ?? null }, { cause: error });
      throw error;
    }
  };
}

/** A caller's abort: a timeout when its reason says so (AbortSignal.timeout), otherwise not a miss. */
export function abortError(
  signal: AbortSignal | undefined,
  url: string,
  timeoutMs: number,
  cause?: unknown,
): CoinbaseError {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError')
    return new CoinbaseTimeoutError({ url, timeoutMs }, { cause: cause ?? reason });
  return new CoinbaseAbortedError(url, { cause: cause ?? reason });
}
