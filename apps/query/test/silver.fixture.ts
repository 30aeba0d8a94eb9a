import type { ObjectStore } from '@btc-etl/object-store';
import { decodeNdjson, encodeSilverParquet, silverEventMicros, type PriceTick } from '@btc-etl/price-schema';
import {
  SILVER_WATERMARK_KEY,
  parseFirehoseKey,
  silverHourOf,
  silverKey,
  silverManifestKey,
  type SilverManifest,
  type SilverWatermark,
} from '@btc-etl/s3-keys';
import type { GeneratedObject } from './raw-data.generator';

/**
 * A test stand-in for the compactor's output (apps/compactor is the real writer; the e2e suite runs it): silver
 * partitions laid out as its protocol says (a data file per partition named by `_manifest.json`, the watermark in
 * `_state/compactor/watermark.json`), written from records, so the query engine's silver reader is tested on its own.
 */

/** The valid records of generated NDJSON objects, bad lines left out (the compactor quarantines them). */
export function recordsOf(objects: Iterable<GeneratedObject>): PriceTick[] {
  const out: PriceTick[] = [];
  for (const o of objects) {
    if (typeof o.body !== 'string') throw new TypeError(`recordsOf: ${o.key} is not NDJSON`);
    out.push(...decodeNdjson(o.body, { onBadLine: () => undefined }));
  }
  return out;
}

/** The arrival hour (epoch seconds) of a raw object's key. */
export const arrivalHourOf = (key: string) => silverHourOf(parseFirehoseKey(key).arrival).getTime() / 1000;

/**
 * Write one partition per (product, event hour) of `ticks` (first copy of a record id wins), each with its manifest
 * (generation 1), and the watermark when `rawCompleteBefore` is given.
 * @returns the data file keys written
 */
export async function writeSilver(
  store: ObjectStore,
  bucket: string,
  ticks: Iterable<PriceTick>,
  options: { rawCompleteBefore?: Date; fileName?: string } = {},
): Promise<string[]> {
  const partitions = new Map<string, { productId: string; hour: Date; ticks: Map<string, PriceTick> }>();
  for (const tick of ticks) {
    const hour = silverHourOf(Number(silverEventMicros(tick) / 1000n));
    const id = `${tick.product_id}|${hour.getTime()}`;
    let p = partitions.get(id);
    if (p === undefined) partitions.set(id, (p = { productId: tick.product_id, hour, ticks: new Map() }));
    if (!p.ticks.has(tick.record_id)) p.ticks.set(tick.record_id, tick);
  }
  const keys: string[] = [];
  const name = options.fileName ?? 'g000001-test.parquet';
  for (const p of partitions.values()) {
    const bytes = encodeSilverParquet([...p.ticks.values()], { productId: p.productId });
    const key = silverKey({ productId: p.productId, hour: p.hour, name });
    await store.put(bucket, key, bytes);
    keys.push(key);
    const manifest: SilverManifest = {
      format: 'btc-etl-silver-manifest/1',
      productId: p.productId,
      hour: p.hour.toISOString(),
      generation: 1,
      files: [{ name, rows: p.ticks.size, bytes: bytes.byteLength }],
      rows: p.ticks.size,
      writtenAt: new Date().toISOString(),
    };
    await store.put(bucket, silverManifestKey(p), JSON.stringify(manifest));
  }
  if (options.rawCompleteBefore !== undefined) await writeWatermark(store, bucket, options.rawCompleteBefore);
  return keys;
}

export async function writeWatermark(store: ObjectStore, bucket: string, rawCompleteBefore: Date): Promise<void> {
  const watermark: SilverWatermark = {
    format: 'btc-etl-silver-watermark/1',
    rawCompleteBefore: rawCompleteBefore.toISOString(),
    updatedAt: new Date().toISOString(),
  };
  await store.put(bucket, SILVER_WATERMARK_KEY, JSON.stringify(watermark));
}
