import type { MissReason, PriceSource, PriceTick } from '@btc-etl/price-schema';

export interface PollOptions {
  signal: AbortSignal;
  timeoutMs: number;
}

/**
 * A request/response source polled once per due tick (Exchange ticker, spot price). `poll` returns an `ok` record
 * whose `scheduled_time` is the due second, or throws an error that `classify` maps to a miss reason.
 */
export interface PollingSource {
  readonly kind: 'poll';
  readonly source: PriceSource;
  poll(productId: string, scheduledTime: Date, options: PollOptions): Promise<PriceTick>;
  /** Why a poll failed, as recorded in the `missed` record. */
  classify(error: unknown): MissReason;
  /**
   * One throw-away request before the first due tick: opens the keep-alive connection and warms the code path, so
   * the first due request starts as punctually as the rest. Never throws.
   */
  warmUp?(productId: string, options: PollOptions): Promise<void>;
}

/**
 * A push source (a WebSocket feed): emits records as they come until the signal aborts. Gaps are emitted as
 * `missed` records by the source itself (`sequence_gap`, `disconnected`).
 */
export interface StreamingSource {
  readonly kind: 'stream';
  readonly source: PriceSource;
  run(emit: (tick: PriceTick) => void, signal: AbortSignal): Promise<void>;
}

/** Every source the extractor can run; the scheduler drives polling ones, streaming ones feed the pipeline. */
export type TickSource = PollingSource | StreamingSource;
