import { abortReason, sleep } from '@btc-etl/resilience';

/** Coinbase Exchange's public limit: 10 requests/s per IP, bursts to 15 (shared/REFERENCE.md). */
export const COINBASE_PUBLIC_RATE_PER_SECOND = 10;
export const COINBASE_PUBLIC_BURST = 15;

export interface TokenBucketOptions {
  /** Tokens added per second (default 10). */
  ratePerSecond?: number;
  /** Bucket size: the most requests that can go at once (default 15). Starts full. */
  burst?: number;
  /** Clock in ms (default `Date.now`, so vitest's fake timers drive it). */
  now?: () => number;
}

export interface TakeOptions {
  signal?: AbortSignal;
  /**
   * Wait until this many tokens would be left after taking one, so background work (candle backfill) leaves room
   * for polls that use `tryTake` and must not wait. 0 (default) takes any token; at most `burst - 1`.
   */
  headroom?: number;
}

/**
 * A token bucket filled lazily (tokens are computed from elapsed time when asked, no timer runs), as Coinbase's own
 * limiter works. `tryTake` never waits: a 1 s poll that finds no token is a miss (`rate_limited`), because queueing it
 * would only make it late. `take` waits for a token: for backfill that has no deadline of its own.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;

  constructor(options: TokenBucketOptions = {}) {
    this.ratePerSecond = options.ratePerSecond ?? COINBASE_PUBLIC_RATE_PER_SECOND;
    this.burst = options.burst ?? COINBASE_PUBLIC_BURST;
    if (!(this.ratePerSecond > 0 && Number.isFinite(this.ratePerSecond))) {
      throw new RangeError(`TokenBucket ratePerSecond must be a positive number, got ${this.ratePerSecond}`);
    }
    if (!(Number.isInteger(this.burst) && this.burst >= 1)) {
      throw new RangeError(`TokenBucket burst must be an integer >= 1, got ${this.burst}`);
    }
    this.now = options.now ?? Date.now;
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Tokens available right now (fractional while refilling). */
  available(): number {
    const now = this.now();
    // a clock that steps back (NTP) must not drain the bucket
    const elapsed = Math.max(0, now - this.last);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.last = now;
    return this.tokens;
  }

  /** Take a token if one is there; never waits. */
  tryTake(): boolean {
    if (this.available() < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Wait for a token (and the requested headroom), then take it. Rejects with the signal's reason on abort.
   * @example await bucket.take(signal); await bucket.take({ signal, headroom: 5 });
   */
  async take(signalOrOptions: AbortSignal | TakeOptions = {}): Promise<void> {
    const options: TakeOptions = signalOrOptions instanceof AbortSignal ? { signal: signalOrOptions } : signalOrOptions;
    const headroom = options.headroom ?? 0;
    if (!(headroom >= 0 && headroom <= this.burst - 1)) {
      throw new RangeError(`TokenBucket headroom must be between 0 and burst - 1 (${this.burst - 1}), got ${headroom}`);
    }
    for (;;) {
      if (options.signal?.aborted) throw abortReason(options.signal);
      const missing = 1 + headroom - this.available();
      if (missing <= 0) {
        this.tokens -= 1;
        return;
      }
      // ceil so a fake clock advanced by exactly this much has refilled the token
      await sleep(Math.ceil((missing * 1000) / this.ratePerSecond), { signal: options.signal, onAbort: 'reject' });
    }
  }

  /**
   * Whether this bucket can carry a steady load: `requestsPerSecond` on average, with up to `simultaneous` requests
   * at the same instant (default: one second's worth). The extractor checks its products x endpoints x poll rate here
   * at start-up instead of discovering misses later.
   */
  sustains(requestsPerSecond: number, simultaneous: number = Math.ceil(requestsPerSecond)): boolean {
    return requestsPerSecond <= this.ratePerSecond && simultaneous <= this.burst;
  }
}

/**
 * One {@link TokenBucket} per host, created on first use with the same options: Coinbase limits per IP and host, so
 * every client in the process that talks to a host shares its bucket.
 */
export class HostRateLimiters {
  private readonly buckets = new Map<string, TokenBucket>();
  constructor(private readonly options: TokenBucketOptions = {}) {}

  /** The bucket of a host (`api.exchange.coinbase.com`, or `127.0.0.1:4321` for a local fake). */
  forHost(host: string): TokenBucket {
    let bucket = this.buckets.get(host);
    if (!bucket) this.buckets.set(host, (bucket = new TokenBucket(this.options)));
    return bucket;
  }
}

/** The process-wide buckets used by clients that are not given their own. */
export const sharedHostRateLimiters = new HostRateLimiters();
