import type { FakeApi, FakeEndpoint, Fault } from './fake-coinbase.faults';

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
 * The fake's request log: every request in arrival order, with filters and a wait for a count of them that wakes on
 * each arrival (no polling).
 */
export class FakeRequestLog {
  /** A live array: it grows as requests arrive. */
  readonly requests: FakeRequest[] = [];
  private readonly waiters = new Set<() => void>();

  /** Log a request and wake every waiter to recount. */
  add(record: FakeRequest): void {
    this.requests.push(record);
    for (const wake of [...this.waiters]) wake();
  }

  /** Requests matching a filter, in arrival order. */
  matching(filter: FakeRequestFilter = {}): FakeRequest[] {
    return this.requests.filter(
      (r) =>
        (filter.api === undefined || r.api === filter.api) &&
        (filter.endpoint === undefined || r.endpoint === filter.endpoint) &&
        (filter.productId === undefined || r.productId === filter.productId),
    );
  }

  /** Resolve once `count` requests match (counting those already logged); reject after `timeoutMs`. */
  waitFor(count: number, filter: FakeRequestFilter, timeoutMs: number): Promise<FakeRequest[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.matching(filter);
        if (found.length < count) return false;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `fake Coinbase: ${count} requests matching ${JSON.stringify(filter)} did not arrive within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  /** Forget the logged requests (sequence numbers keep counting). */
  clear(): void {
    this.requests.splice(0, this.requests.length);
  }
}
