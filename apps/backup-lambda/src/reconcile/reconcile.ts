import type { ObjectInfo, ObjectStore } from '@btc-etl/object-store';
import { backupKeyFor, backupObject, type BackupTarget } from '../core/backup-object';
import { createLimiter } from '../core/limiter';

export interface ReconcileOptions {
  sourceBucket: string;
  /** Only keys under this prefix (e.g. `raw/2026/11/`); empty for the whole bucket. */
  prefix: string;
  target: BackupTarget;
  /** Copies in flight at once. */
  concurrency: number;
  /** List and compare only: count what would be copied, copy nothing. */
  dryRun?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ReconcileProgress) => void;
}

export interface ReconcileCounts {
  /** Source objects under the prefix. */
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
  /** Source objects compared or copied so far, out of `scanned`. */
  done: number;
}

export interface ReconcileReport {
  counts: ReconcileCounts;
  failures: { key: string; error: Error }[];
}

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

async function collect(iterable: AsyncIterable<ObjectInfo>, signal?: AbortSignal): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iterable) {
    signal?.throwIfAborted();
    out.push(info);
  }
  return out;
}

/**
 * Bring the backup in line with the source under a prefix: list both sides, copy what is missing or different (by
 * ETag and size) with the same conditional, idempotent copy the Lambda uses. Safe to re-run: a second run over an
 * unchanged source copies nothing. Also the repair path for whatever a DLQ held.
 * @example await reconcile(store, { sourceBucket: 'btc-etl-raw', prefix: 'raw/2026/11/', target, concurrency: 16 })
 */
export async function reconcile(store: ObjectStore, options: ReconcileOptions): Promise<ReconcileReport> {
  const { sourceBucket, prefix, target, signal } = options;
  const counts = newCounts();
  const failures: ReconcileReport['failures'] = [];
  let done = 0;
  const progress = () => options.onProgress?.({ ...counts, done });

  const backupPrefix = backupKeyFor(prefix, target);
  const [sources, backups] = await Promise.all([
    collect(store.listAll(sourceBucket, prefix), signal),
    collect(store.listAll(target.backupBucket, backupPrefix), signal),
  ]);
  const backupByKey = new Map(backups.map((b) => [b.key, b]));
  counts.scanned = sources.length;
  progress();

  const limit = createLimiter(options.concurrency);
  const pending: Promise<void>[] = [];
  for (const source of sources) {
    signal?.throwIfAborted();
    const destinationKey = backupKeyFor(source.key, target);
    const backup = backupByKey.get(destinationKey);
    backupByKey.delete(destinationKey);
    if (sourceBucket === target.backupBucket && destinationKey === source.key) {
      done++;
      continue;
    }
    if (backup && backup.etag === source.etag && backup.size === source.size) {
      counts.upToDate++;
      done++;
      continue;
    }
    counts.toCopy++;
    if (options.dryRun) {
      done++;
      continue;
    }
    pending.push(
      limit(async () => {
        signal?.throwIfAborted();
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
          failures.push({ key: source.key, error: error instanceof Error ? error : new Error(String(error)) });
        } finally {
          done++;
          progress();
        }
      }),
    );
  }
  // Objects left in the map have no source under the prefix (keys outside `<backupPrefix><prefix>` were never listed).
  counts.extraInBackup = backupByKey.size;
  await Promise.all(pending);
  progress();
  return { counts, failures };
}

/** One line for logs and the CLI. */
export function formatReconcileCounts(c: ReconcileCounts, dryRun = false): string {
  const copied = dryRun ? `would copy ${c.toCopy}` : `copied ${c.copied}`;
  return `scanned ${c.scanned}, up to date ${c.upToDate}, ${copied}, superseded ${c.superseded}, source missing ${c.sourceMissing}, failed ${c.failed}, extra in backup ${c.extraInBackup}`;
}
