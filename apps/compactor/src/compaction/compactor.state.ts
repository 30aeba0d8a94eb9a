import { PreconditionFailedError, type ObjectStore } from '@btc-etl/object-store';
import { backoffMs, retry } from '@btc-etl/resilience';
import { parseSilverWatermark, SILVER_WATERMARK_KEY, type SilverWatermark } from '@btc-etl/s3-keys';
import { z } from 'zod';
import { CompactorStateError } from '../compactor.errors';

/**
 * The compactor's memory, beside the data in SILVER_BUCKET, so a fresh machine or Lambda container continues where
 * the last run stopped:
 * - `_state/compactor/raw/YYYY/MM/dd/HH.json`: per raw ARRIVAL hour, the raw objects (key -> ETag) already in silver.
 *   A run reads only the hours it lists, so reads never grow with history;
 * - `_state/compactor/watermark.json`: every arrival hour before it is complete (see SilverWatermarkSchema).
 * Both are written with conditional puts (If-Match / If-None-Match *); a run that loses re-reads and merges.
 */
const STATE_PREFIX = '_state/compactor/';

const RawHourStateSchema = z.strictObject({
  format: z.literal('btc-etl-compactor-raw-hour/1'),
  datehour: z.string(),
  objects: z.record(z.string(), z.string()),
});
type RawHourState = z.infer<typeof RawHourStateSchema>;

export function rawStateKey(datehour: string): string {
  return `${STATE_PREFIX}raw/${datehour}.json`;
}

async function getJson(store: ObjectStore, bucket: string, key: string) {
  try {
    const { body, info } = await store.get(bucket, key);
    return { text: new TextDecoder().decode(body), etag: info.etag };
  } catch (error) {
    if ((error as { name?: string }).name === 'ObjectNotFoundError') return undefined;
    throw error;
  }
}

/** Raw objects (key -> ETag) of one arrival hour already compacted, and the state object's ETag. */
export async function readRawHourState(
  store: ObjectStore,
  bucket: string,
  datehour: string,
): Promise<{ objects: Map<string, string>; etag?: string }> {
  const key = rawStateKey(datehour);
  const got = await getJson(store, bucket, key);
  if (!got) return { objects: new Map() };
  let state: RawHourState;
  try {
    state = RawHourStateSchema.parse(JSON.parse(got.text));
  } catch (cause) {
    throw new CompactorStateError(key, 'not a raw-hour state object', { cause });
  }
  return { objects: new Map(Object.entries(state.objects)), etag: got.etag };
}

const onConflict = (attempt: number, error: unknown) =>
  error instanceof PreconditionFailedError && attempt < 20 ? backoffMs(attempt, { baseMs: 50, capMs: 2_000 }) : null;

/** Add processed raw objects to an hour's state: read, merge, conditional put; re-read on a lost race. */
export async function recordProcessed(
  store: ObjectStore,
  bucket: string,
  datehour: string,
  processed: ReadonlyMap<string, string>,
): Promise<void> {
  await retry(
    async () => {
      const current = await readRawHourState(store, bucket, datehour);
      const objects = new Map(current.objects);
      for (const [key, etag] of processed) objects.set(key, etag);
      const state: RawHourState = {
        format: 'btc-etl-compactor-raw-hour/1',
        datehour,
        objects: Object.fromEntries([...objects].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
      };
      await store.put(bucket, rawStateKey(datehour), JSON.stringify(state), {
        contentType: 'application/json',
        ...(current.etag ? { ifMatch: current.etag } : { ifNoneMatch: '*' as const }),
      });
    },
    { delayMs: onConflict },
  );
}

export async function readWatermark(store: ObjectStore, bucket: string): Promise<SilverWatermark | undefined> {
  const got = await getJson(store, bucket, SILVER_WATERMARK_KEY);
  return got ? parseSilverWatermark(SILVER_WATERMARK_KEY, got.text) : undefined;
}

/** Move the watermark forward to `before` (never back: a slower concurrent run cannot undo a faster one). */
export async function advanceWatermark(store: ObjectStore, bucket: string, before: Date, now: Date): Promise<void> {
  await retry(
    async () => {
      const got = await getJson(store, bucket, SILVER_WATERMARK_KEY);
      const current = got ? parseSilverWatermark(SILVER_WATERMARK_KEY, got.text) : undefined;
      if (current && Date.parse(current.rawCompleteBefore) >= before.getTime()) return;
      const watermark: SilverWatermark = {
        format: 'btc-etl-silver-watermark/1',
        rawCompleteBefore: before.toISOString(),
        updatedAt: now.toISOString(),
      };
      await store.put(bucket, SILVER_WATERMARK_KEY, JSON.stringify(watermark), {
        contentType: 'application/json',
        ...(got ? { ifMatch: got.etag } : { ifNoneMatch: '*' as const }),
      });
    },
    { delayMs: onConflict },
  );
}
