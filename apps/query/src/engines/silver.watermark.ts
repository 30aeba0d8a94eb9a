import { ObjectNotFoundError, type ObjectStore } from '@btc-etl/object-store';
import { SILVER_WATERMARK_KEY, parseSilverWatermark } from '@btc-etl/s3-keys';

/**
 * How far the compactor has got: every raw object under an arrival hour before this (epoch seconds) is in silver.
 * Undefined when the compactor has published nothing yet (then `auto` reads raw for everything silver lacks).
 */
export async function readRawCompleteBefore(store: ObjectStore, silverBucket: string): Promise<number | undefined> {
  let body: Uint8Array;
  try {
    body = (await store.get(silverBucket, SILVER_WATERMARK_KEY)).body;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
  const watermark = parseSilverWatermark(SILVER_WATERMARK_KEY, body);
  return Math.floor(Date.parse(watermark.rawCompleteBefore) / 1000);
}
