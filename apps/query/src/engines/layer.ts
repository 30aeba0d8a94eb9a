import type { ScanPlan } from '../queries/query.types';
import { TICK_TIME } from '../queries/tick-values';
import type { ArrivalSlack } from './arrival-window';

/**
 * Which layer answers a query: `auto` reads silver (the compactor's event-time Parquet) for the hours it has
 * compacted and raw NDJSON for the rest (the open hour, anything not compacted yet); `raw` and `silver` force one.
 */
export const LAYERS = ['auto', 'raw', 'silver'] as const;
export type LayerName = (typeof LAYERS)[number];

/**
 * The event-time range whose silver partitions can hold the records a plan asks for. Silver is partitioned by event
 * time (`exchange_time`, else `scheduled_time`): a plan over that time reads exactly its range. A plan over another
 * time (`scheduled_time` alone, `ingest_time`) reads the event hours that time may be away from, with the same
 * assumption the raw layer makes about arrival: a record's other times lie within `[event - skew, event + late]`.
 */
/** Whether a plan ranges over the event time (`exchange_time`, else `scheduled_time`): silver's partition time. */
export function isEventTimePlan(plan: Pick<ScanPlan, 'recordTime'>): boolean {
  const t = plan.recordTime;
  return t !== undefined && t.length === TICK_TIME.length && t.every((c, i) => c === TICK_TIME[i]);
}

export function silverEventRange(
  plan: Pick<ScanPlan, 'fromSec' | 'toSec' | 'recordTime'>,
  slack: ArrivalSlack,
): { fromSec: number; toSec: number } {
  if (isEventTimePlan(plan)) {
    return { fromSec: plan.fromSec, toSec: plan.toSec };
  }
  return { fromSec: plan.fromSec - slack.lateS - slack.skewS, toSec: plan.toSec + slack.skewS };
}
