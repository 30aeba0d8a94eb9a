import type { ObjectStore } from '@btc-etl/object-store';
import { encodeNdjson, recordId, type PriceTick } from '@btc-etl/price-schema';
import { okTick } from '@btc-etl/price-schema/testing';
import { buildFirehoseKey } from '@btc-etl/s3-keys';

/** A polled record due at `second` (epoch seconds), with a price that keeps trailing zeros now and then. */
export function polledTick(second: number, overrides: Partial<PriceTick> = {}): PriceTick {
  const scheduled = new Date(second * 1000).toISOString();
  const exchange = new Date(second * 1000 + 123).toISOString().replace('Z', '456Z');
  const price = `${97000 + (second % 500)}.${String(second % 100).padStart(2, '0')}`;
  return okTick({
    record_id: recordId({
      productId: overrides.product_id ?? 'BTC-USD',
      source: 'coinbase-exchange-ticker',
      scheduledTime: scheduled,
    }),
    scheduled_time: scheduled,
    exchange_time: exchange,
    ingest_time: new Date(second * 1000 + 400).toISOString(),
    price,
    ...overrides,
  });
}

/** Put one raw object holding these lines, keyed by its arrival time as Firehose would. */
export async function putRaw(
  store: ObjectStore,
  bucket: string,
  arrival: Date,
  lines: readonly (PriceTick | string)[],
  uuid?: string,
): Promise<string> {
  const key = buildFirehoseKey({ streamName: 'btc-etl-ticks', arrival, ...(uuid ? { uuid } : {}) });
  const body = lines.map((l) => (typeof l === 'string' ? `${l}\n` : encodeNdjson([l]))).join('');
  await store.put(bucket, key, body);
  return key;
}

/** The canonical form of records for set comparisons: sorted by record_id, null optional fields left out. */
export function canonical(ticks: Iterable<PriceTick>): PriceTick[] {
  return [...ticks]
    .map((t) => JSON.parse(encodeNdjson([t])) as PriceTick)
    .sort((a, b) => (a.record_id < b.record_id ? -1 : a.record_id > b.record_id ? 1 : 0));
}
