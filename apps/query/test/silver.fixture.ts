import type { ObjectStore } from '@btc-etl/object-store';
import {
  compareSilverOrder,
  decodeNdjson,
  encodeSilverParquet,
  SilverParquetEncoder,
  silverEventMicros,
  type PriceTick,
} from '@btc-etl/price-schema';
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
  options: { rawCompleteBefore?: Date; fileName?: string; rowGroupSize?: number } = {},
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
    const bytes = silverBytes([...p.ticks.values()], p.productId, options.rowGroupSize);
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

/** One partition's file; with `rowGroupSize`, in row groups of that many rows (the compactor's default otherwise). */
function silverBytes(ticks: PriceTick[], productId: string, rowGroupSize?: number): Uint8Array {
  if (rowGroupSize === undefined) return encodeSilverParquet(ticks, { productId });
  const encoder = new SilverParquetEncoder({ productId });
  encoder.write([...ticks].sort(compareSilverOrder), rowGroupSize);
  return Buffer.concat(encoder.finish());
}

export async function writeWatermark(store: ObjectStore, bucket: string, rawCompleteBefore: Date): Promise<void> {
  const watermark: SilverWatermark = {
    format: 'btc-etl-silver-watermark/1',
    rawCompleteBefore: rawCompleteBefore.toISOString(),
    updatedAt: new Date().toISOString(),
  };
  await store.put(bucket, SILVER_WATERMARK_KEY, JSON.stringify(watermark));
}

/** The 16 big-endian bytes of a DECIMAL(38,18) column value, from its unscaled value (a reference for decoders). */
export function decimalBytesOf(unscaled: bigint): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, (unscaled >> 64n) & ((1n << 64n) - 1n));
  view.setBigUint64(8, unscaled & ((1n << 64n) - 1n));
  return bytes;
}
