import {
  ObjectNotFoundError,
  PreconditionFailedError,
  type ObjectInfo,
  type ObjectRef,
  type ObjectStore,
} from '@btc-etl/object-store';
import { BackupCopyError } from './backup.errors';

/** Where backups go: the same key under an optional prefix in the backup bucket. */
export interface BackupTarget {
  backupBucket: string;
  /** Empty, or ending in `/`. */
  backupPrefix: string;
}

/** What the event says was created: the object and the bytes it had then. */
export interface BackupRequest {
  bucket: string;
  key: string;
  size: number;
  /** Unquoted ETag from the event. */
  etag: string;
}

/**
 * - `copied`: the backup now holds the event's bytes.
 * - `already-backed-up`: the backup already held them (duplicate delivery, or reconcile got there first).
 * - `superseded`: the source changed after the event; the newer object's own event copies it.
 * - `source-missing`: the source was deleted before the copy; nothing to copy, not worth retrying.
 * - `same-object`: source and destination are the same object (notifications on the backup bucket itself).
 */
export type BackupOutcome = 'copied' | 'already-backed-up' | 'superseded' | 'source-missing' | 'same-object';

export interface BackupResult {
  outcome: BackupOutcome;
  source: ObjectRef;
  destination: ObjectRef;
  /** The backup's ETag after a copy. */
  etag?: string;
  /** For `superseded`: the source's ETag now, when known. */
  currentEtag?: string;
}

/** The backup key for a source key. */
export function backupKeyFor(key: string, target: BackupTarget): string {
  return `${target.backupPrefix}${key}`;
}

const MULTIPART_ETAG = /-\d+$/;

/**
 * A multipart upload or copy gives an ETag (`<md5>-<parts>`) that never equals the plain MD5 of the same bytes, so
 * ETag equality alone cannot recognise a backup made by multipart copy (or a plain copy of a multipart upload).
 * Then the backup counts as current when the source still has the event's ETag and the backup was written strictly
 * after that source version was (conditional copies cannot have written an older version after a newer one existed;
 * strictly, because Last-Modified has whole-second resolution).
 */
async function heldViaMultipart(
  store: ObjectStore,
  request: BackupRequest,
  existing: ObjectInfo,
): Promise<BackupResult['outcome'] | undefined> {
  if (!MULTIPART_ETAG.test(existing.etag) && !MULTIPART_ETAG.test(request.etag)) return undefined;
  const current = await store.head(request.bucket, request.key);
  if (!current) return 'source-missing';
  if (current.etag !== request.etag) return 'superseded';
  return existing.lastModified.getTime() > current.lastModified.getTime() ? 'already-backed-up' : undefined;
}

/**
 * Back up one created object: skip when the backup already holds the same bytes (ETag and size), otherwise copy
 * conditionally on the event's ETag (content type and metadata travel with the copy; the store goes multipart above
 * its threshold). Outcomes that retrying cannot change are returned; anything else throws `BackupCopyError`, so the
 * message is redelivered.
 * @example await backupObject(store, { bucket: 'btc-etl-raw', key, size, etag },
 *   { backupBucket: 'btc-etl-backup', backupPrefix: '' })
 */
export async function backupObject(
  store: ObjectStore,
  request: BackupRequest,
  target: BackupTarget,
): Promise<BackupResult> {
  const source: ObjectRef = { bucket: request.bucket, key: request.key };
  const destination: ObjectRef = { bucket: target.backupBucket, key: backupKeyFor(request.key, target) };
  const result = (outcome: BackupOutcome, extra: Partial<BackupResult> = {}): BackupResult => ({
    outcome,
    source,
    destination,
    ...extra,
  });

  // Copying an object onto itself would re-notify forever if the backup bucket also sent events here.
  if (source.bucket === destination.bucket && source.key === destination.key) return result('same-object');

  try {
    const existing = await store.head(destination.bucket, destination.key);
    if (existing && existing.size === request.size) {
      if (existing.etag === request.etag) return result('already-backed-up', { etag: existing.etag });
      const held = await heldViaMultipart(store, request, existing);
      if (held) return result(held, held === 'already-backed-up' ? { etag: existing.etag } : {});
    }

    // The event's size belongs to the version its ETag names: a store that trusts S3 to check the ETag can then
    // copy a small object without reading the source first.
    const { etag } = await store.copy(source, destination, { ifSourceEtag: request.etag, sourceSize: request.size });
    // A store that ignores the precondition (moto does) copies whatever is there now. Two plain MD5s that differ
    // prove the bytes were not the event's: the backup holds the newer version, whose own event follows.
    if (etag !== request.etag && !MULTIPART_ETAG.test(etag) && !MULTIPART_ETAG.test(request.etag)) {
      return result('superseded', { etag, currentEtag: etag });
    }
    return result('copied', { etag });
  } catch (error) {
    if (error instanceof PreconditionFailedError) {
      return result('superseded', error.actualEtag ? { currentEtag: error.actualEtag } : {});
    }
    if (error instanceof ObjectNotFoundError && (await isGone(store, source))) return result('source-missing');
    throw new BackupCopyError(source, destination, { cause: error });
  }
}

/** Confirms a not-found is about the source object, not the destination or a bucket (those must fail loudly). */
async function isGone(store: ObjectStore, source: ObjectRef): Promise<boolean> {
  try {
    return (await store.head(source.bucket, source.key)) === undefined;
  } catch {
    return false;
  }
}
