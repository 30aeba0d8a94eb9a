import { hourlyPrefixes, toDatehour } from '@btc-etl/s3-keys';

/**
 * How far a record's own time and the arrival time in its object key can drift apart. Keys carry the time the
 * OLDEST record of the object arrived at Firehose, not the records' time, so:
 * - a record arrives after it happened, by the producer's delay (poll, spool, retries): a tick from 10:59:59 can
 *   sit under hour 11. `lateS` is the longest delay still found; a spool replayed after a longer outage needs more.
 * - an object holds what arrived during one buffering interval after its key time: a record from 10:00:30 can sit
 *   in an object keyed 09:58:00 when Firehose buffers 300 s. `bufferS` is the stream's IntervalInSeconds.
 * - clocks (Coinbase's, the extractor's, Firehose's) disagree by up to `skewS`.
 */
export interface ArrivalSlack {
  lateS: number;
  bufferS: number;
  skewS: number;
}

/** Defaults: 10 min of producer delay, Firehose's default 300 s buffer, 60 s of clock skew. */
export const DEFAULT_SLACK: ArrivalSlack = { lateS: 600, bufferS: 300, skewS: 60 };

/**
 * The arrival times `[lo, hi]` (epoch seconds) an object key may carry and still hold records of `[fromSec, toSec)`.
 */
export function arrivalWindow(fromSec: number, toSec: number, slack: ArrivalSlack): { lo: number; hi: number } {
  return { lo: fromSec - slack.bufferS - slack.skewS, hi: toSec + slack.lateS };
}

/**
 * The hourly key prefixes (Athena: `datehour` partitions) to read for a record-time range; with `arrivalFloorSec`
 * (the silver watermark: earlier arrival hours are all compacted) only the hours from it on, possibly none.
 */
export function prunedPrefixes(
  prefix: string,
  fromSec: number,
  toSec: number,
  slack: ArrivalSlack,
  arrivalFloorSec?: number,
): string[] {
  const { lo, hi } = arrivalWindow(fromSec, toSec, slack);
  const first = Math.max(lo, arrivalFloorSec ?? lo);
  if (first > hi) return [];
  return hourlyPrefixes(prefix, new Date(first * 1000), new Date(hi * 1000), { maxHours: 24 * 800 });
}

/** The inclusive `datehour` bounds for Athena's partition predicate. */
export function datehourBounds(fromSec: number, toSec: number, slack: ArrivalSlack): { from: string; to: string } {
  const { lo, hi } = arrivalWindow(fromSec, toSec, slack);
  return { from: toDatehour(new Date(lo * 1000)), to: toDatehour(new Date(hi * 1000)) };
}
