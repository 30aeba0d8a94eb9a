import type { ObjectStore } from '@btc-etl/object-store';
import type { PriceTick } from '@btc-etl/price-schema';
import { parseSilverKey, parseSilverManifest, SILVER_MANIFEST_NAME, SILVER_PREFIX } from '@btc-etl/s3-keys';
import { readPartition } from '../src/compaction/partition.commit';

/**
 * Every record silver holds, read the way readers must: manifest first, then the files it names (or each to
 * onTick).
 */
export async function readSilver(
  store: ObjectStore,
  bucket: string,
  onTick?: (tick: PriceTick) => void,
): Promise<PriceTick[]> {
  const out: PriceTick[] = [];
  const each = onTick ?? ((t: PriceTick) => out.push(t));
  for await (const object of store.listAll(bucket, SILVER_PREFIX)) {
    const parsed = parseSilverKey(object.key);
    if (parsed.name !== SILVER_MANIFEST_NAME) continue;
    const { body } = await store.get(bucket, object.key);
    await readPartition(store, bucket, parsed, parseSilverManifest(object.key, body), each);
  }
  return out;
}

/** Data files in the silver folders (what Athena would read), manifest or not. */
export async function silverDataFiles(store: ObjectStore, bucket: string): Promise<string[]> {
  const out: string[] = [];
  for await (const object of store.listAll(bucket, SILVER_PREFIX)) {
    if (!object.key.endsWith(SILVER_MANIFEST_NAME)) out.push(object.key);
  }
  return out;
}
