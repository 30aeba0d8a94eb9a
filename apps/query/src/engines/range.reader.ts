import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LocalObjectStore, S3ObjectStore, type ObjectStore } from '@btc-etl/object-store';
import { localObjectPath } from '@btc-etl/s3-keys';
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Reads bytes `[start, end)` of one object. `etag` (from the listing) pins the version where the store can check it,
 * so a footer and the data pages it points at come from the same bytes. `into`, when given, is a buffer of the
 * caller's that a reader may fill and return a view of (when it holds `end - start` bytes), instead of allocating:
 * fresh buffers of tens of KiB cost page faults, file after file.
 */
export type RangeReader = (
  bucket: string,
  key: string,
  start: number,
  end: number,
  etag?: string,
  into?: Uint8Array,
) => Promise<Uint8Array>;

function checkRange(bucket: string, key: string, start: number, end: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) {
    throw new RangeError(`bad byte range [${start}, ${end}) of ${bucket}/${key}`);
  }
}

/**
 * Ranges up to this size are read from local files synchronously: a silver file's tail (~70 KiB) comes from the page
 * cache in microseconds, less than the three round trips to the thread pool (open, read, close) cost in CPU. Larger
 * ranges keep the asynchronous path, so the event loop never waits long.
 */
export const LOCAL_SYNC_READ_BYTES = 256 * 1024;

/** Ranged reads of the local adapter's files (`<root>/<bucket>/<key>`, the same mapping the adapter uses). */
export function localRangeReader(root: string): RangeReader {
  return async (bucket, key, start, end, _etag, into) => {
    checkRange(bucket, key, start, end);
    const path = localObjectPath(root, bucket, key);
    const bytes =
      into !== undefined && into.byteLength >= end - start
        ? into.subarray(0, end - start)
        : new Uint8Array(end - start);
    const short = () => new RangeError(`${bucket}/${key} ends before byte ${end} (read ${start + filled})`);
    let filled = 0;
    if (bytes.byteLength <= LOCAL_SYNC_READ_BYTES) {
      const fd = openSync(path, 'r');
      try {
        while (filled < bytes.byteLength) {
          const bytesRead = readSync(fd, bytes, filled, bytes.byteLength - filled, start + filled);
          if (bytesRead === 0) throw short();
          filled += bytesRead;
        }
      } finally {
        closeSync(fd);
      }
      return bytes;
    }
    const handle = await open(path, 'r');
    try {
      while (filled < bytes.byteLength) {
        const { bytesRead } = await handle.read(bytes, filled, bytes.byteLength - filled, start + filled);
        if (bytesRead === 0) throw short();
        filled += bytesRead;
      }
      return bytes;
    } finally {
      await handle.close();
    }
  };
}

/**
 * Ranged `GetObject` (`Range: bytes=start-(end-1)`, `If-Match` the listed ETag), with `ExpectedBucketOwner` when an
 * owner is given (the store's other requests carry it too: see `S3ObjectStoreOptions.expectedBucketOwner`).
 */
export function s3RangeReader(client: S3Client, expectedBucketOwner?: string): RangeReader {
  return async (bucket, key, start, end, etag) => {
    checkRange(bucket, key, start, end);
    if (end === start) return new Uint8Array(0);
    const res = await client.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        Range: `bytes=${start}-${end - 1}`,
        ...(etag ? { IfMatch: `"${etag}"` } : {}),
        ...(expectedBucketOwner ? { ExpectedBucketOwner: expectedBucketOwner } : {}),
      }),
    );
    if (!res.Body) throw new Error(`GetObject ${bucket}/${key} answered without a body`);
    const bytes = await res.Body.transformToByteArray();
    // a server that ignored Range (200 with the whole object) would make the bytes-read count a lie: refuse it
    if (bytes.byteLength !== end - start) {
      throw new RangeError(`GetObject ${bucket}/${key} bytes ${start}-${end - 1} returned ${bytes.byteLength} bytes`);
    }
    return bytes;
  };
}

/**
 * The ranged reader for one of the ObjectStore adapters (the port has no ranged get; both adapters expose what one
 * needs: the local root and the S3 client). `undefined` for any other store: Parquet objects are then read whole.
 * `expectedBucketOwner` is the one the S3 store was built with (the adapter keeps it private).
 */
export function rangeReaderFor(store: ObjectStore, expectedBucketOwner?: string): RangeReader | undefined {
  if (store instanceof LocalObjectStore) return localRangeReader(store.root);
  if (store instanceof S3ObjectStore) return s3RangeReader(store.client, expectedBucketOwner);
  return undefined;
}
