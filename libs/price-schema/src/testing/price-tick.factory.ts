import { recordId } from '../record-id';
import type { PriceTick, PriceSource } from '../price-tick.schema';

/**
 * A valid `ok` record with sensible defaults: for tests, fixtures and benchmarks across the workspace.
 * @example okTick({ price: '97000.01', scheduled_time: '2026-11-27T00:00:01.000Z' })
 */
export function okTick(overrides: Partial<PriceTick> = {}): PriceTick {
  const product_id = overrides.product_id ?? 'BTC-USD';
  const source: PriceSource = overrides.source ?? 'coinbase-exchange-ticker';
  const scheduled_time = overrides.scheduled_time === undefined ? '2026-11-27T00:00:00.000Z' : overrides.scheduled_time;
  const exchange_time = overrides.exchange_time === undefined ? '2026-11-27T00:00:00.123456Z' : overrides.exchange_time;
  return {
    record_id: recordId({
      productId: product_id,
      source,
      scheduledTime: scheduled_time,
      exchangeTime: exchange_time,
      sequence: overrides.sequence ?? null,
    }),
    product_id,
    source,
    status: 'ok',
    price: '97123.45',
    exchange_time,
    scheduled_time,
    ingest_time: '2026-11-27T00:00:00.200Z',
    reason: null,
    ...overrides,
  };
}

/** A valid `missed` record for the given due second. */
export function missedTick(reason: NonNullable<PriceTick['reason']>, overrides: Partial<PriceTick> = {}): PriceTick {
  return okTick({ price: null, exchange_time: null, reason, status: 'missed', ...overrides });
}
