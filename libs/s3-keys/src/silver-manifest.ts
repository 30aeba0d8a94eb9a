import { z } from 'zod';
import { S3KeyError } from './s3-keys.errors';

/**
 * The manifest of one silver partition (`<partition>/_manifest.json`): the only list of its live data files. Readers
 * read the manifest, never list the folder: a folder can also hold a file a crashed or losing run left behind, which
 * holds valid records but is not (yet) part of the partition. Athena, which reads the folder, skips `_`-prefixed files,
 * and every query there dedups by `record_id`, so such a leftover never changes an answer either.
 */
export const SilverManifestSchema = z.strictObject({
  format: z.literal('btc-etl-silver-manifest/1'),
  productId: z.string(),
  /** ISO start of the UTC event hour. */
  hour: z.string(),
  /** Bumped by one on every rewrite of the partition; 1 for the first. */
  generation: z.number().int().positive(),
  files: z.array(
    z.strictObject({
      /** File name inside the partition folder. */
      name: z.string().min(1),
      rows: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
    }),
  ),
  /** Rows over all files: distinct record ids of the partition. */
  rows: z.number().int().nonnegative(),
  writtenAt: z.string(),
});
export type SilverManifest = z.infer<typeof SilverManifestSchema>;

/** Parse a manifest's bytes or text; throws S3KeyError naming the key and what was wrong. */
export function parseSilverManifest(key: string, body: Uint8Array | string): SilverManifest {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new S3KeyError(key, `silver manifest is not JSON (${(cause as Error).message})`, { cause });
  }
  const result = SilverManifestSchema.safeParse(value);
  if (!result.success) {
    const what = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new S3KeyError(key, `not a silver manifest (${what})`);
  }
  return result.data;
}

/** Where the compactor publishes how far raw has been compacted (in SILVER_BUCKET). */
export const SILVER_WATERMARK_KEY = '_state/compactor/watermark.json';

/**
 * How far raw is compacted: every raw object under an arrival hour before `rawCompleteBefore` is in silver. A reader
 * that wants every record of an event range reads silver for it, plus raw arrival hours from `rawCompleteBefore` on
 * (dedup by record_id: a raw object past the watermark may already be compacted too).
 */
export const SilverWatermarkSchema = z.strictObject({
  format: z.literal('btc-etl-silver-watermark/1'),
  /** ISO start of the first arrival hour (UTC) not known to be complete in silver. */
  rawCompleteBefore: z.string(),
  updatedAt: z.string(),
});
export type SilverWatermark = z.infer<typeof SilverWatermarkSchema>;

/** Parse the watermark object; throws S3KeyError naming the key and what was wrong. */
export function parseSilverWatermark(key: string, body: Uint8Array | string): SilverWatermark {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new S3KeyError(key, `silver watermark is not JSON (${(cause as Error).message})`, { cause });
  }
  const result = SilverWatermarkSchema.safeParse(value);
  if (!result.success || Number.isNaN(Date.parse(result.data.rawCompleteBefore))) {
    throw new S3KeyError(key, 'not a silver watermark');
  }
  return result.data;
}
