import { ObjectNotFoundError, type ObjectStore } from '@btc-etl/object-store';
import {
  SILVER_MANIFEST_NAME,
  SILVER_PREFIX,
  parseSilverKey,
  parseSilverManifest,
  silverManifestKey,
} from '@btc-etl/s3-keys';
import type { LocalQueryStats } from './local-query.stats';
import type { Listed } from './raw.listing';

const HOUR_S = 3600;
const DAY_S = 86_400;
const PRODUCT_FOLDER = `${SILVER_PREFIX}product_id=`;

/** A silver data file to read, named by its partition's manifest. */
export interface SilverListed extends Listed {
  productId: string;
  /** Start of the partition's UTC event hour, epoch seconds. */
  hourSec: number;
}

/**
 * The products silver holds, one LIST call each: ask for the first key after the last product's folder (S3 and the
 * local store list in key order and honour `startAfter`), so discovery never lists the data itself.
 */
export async function silverProducts(store: ObjectStore, bucket: string): Promise<string[]> {
  const products: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.list(bucket, {
      prefix: PRODUCT_FOLDER,
      maxKeys: 1,
      ...(after !== undefined ? { startAfter: after } : {}),
    });
    const key = page.objects[0]?.key;
    if (key === undefined) return products;
    const product = key.slice(PRODUCT_FOLDER.length).split('/', 1)[0] ?? '';
    if (product === '') return products;
    products.push(product);
    // '/' + U+FFFF sorts after every key of the product's folder
    after = `${PRODUCT_FOLDER}${product}/\uffff`;
  }
}

/** The UTC days (epoch seconds of their start) that overlap the hours `[fromHour, toHour)`. */
function daysOf(fromHourSec: number, toHourSec: number): number[] {
  const days: number[] = [];
  for (let d = fromHourSec - (fromHourSec % DAY_S); d < toHourSec; d += DAY_S) days.push(d);
  return days;
}

const dtOf = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 10);

/**
 * The live data files of the silver partitions of `products` whose event hour overlaps `[fromSec, toSec)`: one LIST
 * per product and UTC day (`silver/ticks/product_id=<p>/dt=<day>/`) finds the hours that have a manifest, one GET per
 * such hour reads it (a day's GETs at once). Only files a manifest names are read (a folder may also hold a file a
 * crashed or losing compactor run left behind, or one the next run has not named yet); a manifest naming a file the
 * listing did not show (written after the listing) is read with the size the manifest gives.
 * @returns the files in partition order, and the hours (epoch seconds, per product) that have a manifest
 */
export async function listSilverObjects(
  store: ObjectStore,
  bucket: string,
  products: readonly string[],
  fromSec: number,
  toSec: number,
  stats: LocalQueryStats,
): Promise<{ files: SilverListed[]; hours: Map<string, Set<number>> }> {
  const fromHour = fromSec - (((fromSec % HOUR_S) + HOUR_S) % HOUR_S);
  const files: SilverListed[] = [];
  const hours = new Map<string, Set<number>>();
  for (const productId of products) {
    const compacted = new Set<number>();
    hours.set(productId, compacted);
    for (const day of daysOf(fromHour, toSec)) {
      const prefix = `${PRODUCT_FOLDER}${productId}/dt=${dtOf(day)}/`;
      stats.prefixes.push(`${bucket}/${prefix}`);
      const listed = new Map<string, { size: number; etag: string }>();
      const manifests: number[] = [];
      for await (const info of store.listAll(bucket, prefix)) {
        stats.objectsListed++;
        let parsed;
        try {
          parsed = parseSilverKey(info.key);
        } catch {
          continue; // not a partition file (nothing else is expected under a partition folder)
        }
        const hourSec = parsed.hour.getTime() / 1000;
        if (hourSec < fromHour || hourSec >= toSec) continue;
        if (parsed.name === SILVER_MANIFEST_NAME) manifests.push(hourSec);
        else listed.set(info.key, { size: info.size, etag: info.etag });
      }
      // the day's manifests read together (S3 round trips overlap), their files taken in hour order
      const bodies = await Promise.all(
        manifests.map(async (hourSec) => {
          const manifestKey = silverManifestKey({ productId, hour: new Date(hourSec * 1000) });
          try {
            return { hourSec, manifestKey, body: (await store.get(bucket, manifestKey)).body };
          } catch (error) {
            if (error instanceof ObjectNotFoundError) return undefined; // listed, then gone: no partition
            throw error;
          }
        }),
      );
      for (const read of bodies) {
        if (read === undefined) continue;
        const { hourSec, manifestKey, body } = read;
        stats.bytesRead += body.byteLength;
        const manifest = parseSilverManifest(manifestKey, body);
        compacted.add(hourSec);
        const folder = manifestKey.slice(0, manifestKey.length - SILVER_MANIFEST_NAME.length);
        for (const file of manifest.files) {
          const key = `${folder}${file.name}`;
          const seen = listed.get(key);
          files.push({ bucket, key, size: seen?.size ?? file.bytes, etag: seen?.etag ?? '', productId, hourSec });
        }
      }
    }
  }
  return { files, hours };
}
