import { recordId, type MissReason, type PriceSource, type PriceTick } from '@btc-etl/price-schema';
import type { PollingSource } from './tick-source.port';

/**
 * The `missed` record of a due tick. Its `record_id` is the same as the `ok` record of that second would have
 * had, so a re-polled or re-sent second never counts twice.
 */
export function missedTickFor(
  productId: string,
  source: PriceSource,
  scheduledTime: Date,
  reason: MissReason,
  ingestTime: Date,
): PriceTick {
  const scheduled = scheduledTime.toISOString();
  return {
    record_id: recordId({ productId, source, scheduledTime: scheduled }),
    product_id: productId,
    source,
    status: 'missed',
    price: null,
    exchange_time: null,
    scheduled_time: scheduled,
    ingest_time: ingestTime.toISOString(),
    reason,
  };
}

export interface PollTickDeps {
  source: PollingSource;
  timeoutMs: number;
  now?: () => number;
}

export interface PollOutcome {
  tick: PriceTick;
  /** Milliseconds from the request start to the answer or failure. */
  latencyMs: number;
}

/**
 * One due tick of one product, start to record: the poll (the source does its own admission: the Coinbase client
 * checks its token bucket, an empty one is a `rate_limited` miss), and every failure turned into a `missed` record
 * with its reason. Never throws: every due tick yields exactly one record.
 */
export async function pollTick(
  deps: PollTickDeps,
  productId: string,
  dueMs: number,
  signal: AbortSignal,
): Promise<PollOutcome> {
  const now = deps.now ?? Date.now;
  const scheduled = new Date(dueMs);
  const started = now();
  try {
    const tick = await deps.source.poll(productId, scheduled, { signal, timeoutMs: deps.timeoutMs });
    return { tick, latencyMs: now() - started };
  } catch (error) {
    const reason = signal.aborted ? 'timeout' : deps.source.classify(error);
    return {
      tick: missedTickFor(productId, deps.source.source, scheduled, reason, new Date(now())),
      latencyMs: now() - started,
    };
  }
}
