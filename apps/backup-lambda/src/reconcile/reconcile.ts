import { compareKeys, type ObjectInfo, type ObjectStore } from '@btc-etl/object-store';
import { backupKeyFor, backupObject, type BackupTarget } from '../core/backup-object';
import { ListingOrderError } from '../core/backup.errors';
import { mergeSortedListings } from './listing.merge';

export interface ReconcileOptions {
  sourceBucket: string;
  /**
   * The key prefixes to reconcile, one after another (for example the Firehose hour folders of a time range, or
   * `['raw/2026/11/']`); `['']` for the whole bucket. Each is listed on both sides in key order and merged.
   */
  prefixes: readonly string[];
  target: BackupTarget;
  /** Copies in flight at once. */
  concurrency: number;
  /** List and compare only: count what would be copied, copy nothing. */
  dryRun?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ReconcileProgress) => void;
}

export interface ReconcileCounts {
  /** Source objects under the prefixes. */
  scanned: number;
  upToDate: number;
  /** Missing from the backup or different there (ETag or size). Copied unless dry-run. */
  toCopy: number;
  copied: number;
  /** Changed between listing and copying: the next run (or its own event) copies the new version. */
  superseded: number;
  /** Deleted between listing and copying. */
  sourceMissing: number;
  failed: number;
  /** In the backup with no source any more: reported, never deleted (a backup outlives its source). */
  extraInBackup: number;
  bytesCopied: number;
}

export interface ReconcileProgress extends ReconcileCounts {
  /** Source objects compared or copied so far, out of `scanned` (which grows as the listing streams). */
  done: number;
}

export interface ReconcileReport {
  counts: ReconcileCounts;
  /** The first failures (at most `MAX_FAILURES_KEPT`); `counts.failed` has them all. */
  failures: { key: string; error: Error }[];
}

/** Failures kept with their errors: enough to diagnose, bounded so a broken bucket cannot fill the heap. */
export const MAX_FAILURES_KEPT = 100;
/** Progress is reported at least every this many listed objects (and after every copy). */
const PROGRESS_EVERY = 500;

function newCounts(): ReconcileCounts {
  return {
    scanned: 0,
    upToDate: 0,
    toCopy: 0,
    copied: 0,
    superseded: 0,
    sourceMissing: 0,
    failed: 0,
    extraInBackup: 0,
    bytesCopied: 0,
  };
}

/**
 * One listing, keys relative to `strip` (the backup prefix), checked to come in strictly ascending key order: the
 * merge depends on it, so a store that breaks it fails loudly instead of copying the wrong things.
 */
async function* ordered(
  listing: AsyncIterable<ObjectInfo>,
  bucket: string,
  strip: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<{ key: string; info: ObjectInfo }> {
  let previous: string | undefined;
  for await (const info of listing) {
    signal?.throwIfAborted();
    const key = info.key.slice(strip.length);
    if (previous !== undefined && compareKeys(previous, key) >= 0) {
      throw new ListingOrderError(bucket, previous, info.key);
    }
    previous = key;
    yield { key, info };
  }
}

/**
 * Bring the backup in line with the source under some prefixes: stream both listings in key order, merge them, and
 * copy what is missing or different (by ETag and size) with the same conditional, idempotent copy the Lambda uses.
 * Memory stays flat whatever the bucket's size: one listing page per side, at most `concurrency` copies in flight,
 * and at most `MAX_FAILURES_KEPT` errors kept. Safe to re-run: a second run over an unchanged source copies nothing.
 * Also the repair path for whatever a DLQ held.
 * @example await reconcile(store, { sourceBucket: 'btc-etl-raw', prefixes: ['raw/2026/11/'], target, concurrency: 16 })
 */
export async function reconcile(store: ObjectStore, options: ReconcileOptions): Promise<ReconcileReport> {
  const { sourceBucket, target, signal } = options;
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
    throw new RangeError(`concurrency must be an integer >= 1, got ${options.concurrency}`);
  const counts = newCounts();
  const failures: ReconcileReport['failures'] = [];
  let done = 0;
  const progress = () => options.onProgress?.({ ...counts, done });
  const inFlight = new Set<Promise<void>>();

  const copy = async (source: ObjectInfo): Promise<void> => {
    try {
      const result = await backupObject(
        store,
        { bucket: sourceBucket, key: source.key, size: source.size, etag: source.etag },
        target,
      );
      if (result.outcome === 'copied') {
        counts.copied++;
        counts.bytesCopied += source.size;
      } else if (result.outcome === 'already-backed-up') counts.upToDate++;
      else if (result.outcome === 'superseded') counts.superseded++;
      else if (result.outcome === 'source-missing') counts.sourceMissing++;
    } catch (error) {
      counts.failed++;
      if (failures.length < MAX_FAILURES_KEPT)
        failures.push({ key: source.key, error: error instanceof Error ? error : new Error(String(error)) });
    } finally {
      done++;
      progress();
    }
  };

  // Waits for a free slot first, so the listing never runs ahead of the copies by more than `concurrency`.
  const launch = async (source: ObjectInfo): Promise<void> => {
    while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    const task: Promise<void> = copy(source).finally(() => inFlight.delete(task));
    inFlight.add(task);
  };

  try {
    for (const prefix of options.prefixes) {
      const backupPrefix = backupKeyFor(prefix, target);
      const pairs = mergeSortedListings(
        ordered(store.listAll(sourceBucket, prefix), sourceBucket, '', signal),
        ordered(store.listAll(target.backupBucket, backupPrefix), target.backupBucket, target.backupPrefix, signal),
      );
      for await (const { source, backup } of pairs) {
        signal?.throwIfAborted();
        if (!source) {
          counts.extraInBackup++;
          continue;
        }
        counts.scanned++;
        if (counts.scanned % PROGRESS_EVERY === 0) progress();
        if (sourceBucket === target.backupBucket && target.backupPrefix === '') {
          done++; // the backup is the source itself: nothing to do
        } else if (backup && backup.etag === source.etag && backup.size === source.size) {
          counts.upToDate++;
          done++;
        } else {
          counts.toCopy++;
          if (options.dryRun) done++;
          else await launch(source);
        }
      }
    }
  } finally {
    // An abort or a listing error still lets the copies already started finish (and be counted).
    await Promise.all(inFlight);
  }
  progress();
  return { counts, failures };
}

/** One line for logs and the CLI. */
export function formatReconcileCounts(c: ReconcileCounts, dryRun = false): string {
  const copied = dryRun ? `would copy ${c.toCopy}` : `copied ${c.copied}`;
  return (
    `scanned ${c.scanned}, up to date ${c.upToDate}, ${copied}, superseded ${c.superseded}, ` +
    `source missing ${c.sourceMissing}, failed ${c.failed}, extra in backup ${c.extraInBackup}`
  );
}
