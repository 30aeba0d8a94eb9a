import type { ObjectStore } from '@btc-etl/object-store';
import { parseFirehoseKey } from '@btc-etl/s3-keys';
import { arrivalWindow, prunedPrefixes, type ArrivalSlack } from './arrival-window';
import type { LocalQueryStats } from './local-query.stats';

/** One object to read, as the listing gave it (the ETag pins the version ranged reads fetch). */
export interface Listed {
  bucket: string;
  key: string;
  size: number;
  etag: string;
}

/**
 * The raw objects that can hold records of `[fromSec, toSec)`: those under the hourly arrival prefixes the slack
 * widens the range to, whose key time falls in the arrival window, in key order. Counts what it listed and skipped.
 * `arrivalFloorSec` (an hour start: the silver watermark) leaves out the arrival hours before it.
 */
export async function listRawObjects(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  fromSec: number,
  toSec: number,
  slack: ArrivalSlack,
  stats: LocalQueryStats,
  arrivalFloorSec?: number,
): Promise<Listed[]> {
  const prefixes = prunedPrefixes(prefix, fromSec, toSec, slack, arrivalFloorSec);
  const { lo, hi } = arrivalWindow(fromSec, toSec, slack);
  stats.prefixes.push(...prefixes.map((p) => `${bucket}/${p}`));
  const out: Listed[] = [];
  for (const hourPrefix of prefixes) {
    for await (const info of store.listAll(bucket, hourPrefix)) {
      stats.objectsListed++;
      let arrival: number | undefined;
      try {
        arrival = parseFirehoseKey(info.key).arrival.getTime() / 1000;
      } catch {
        arrival = undefined; // not Firehose's name: its hour folder is all we know, so it is read
      }
      if (arrival !== undefined && (arrival < lo || arrival > hi)) {
        stats.objectsSkipped++;
        continue;
      }
      out.push({ bucket, key: info.key, size: info.size, etag: info.etag });
    }
  }
  return out;
}
