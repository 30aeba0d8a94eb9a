import { SILVER_LEXICAL_COLUMNS } from '@btc-etl/price-schema';
import { toDatehour } from '@btc-etl/s3-keys';
import { SqlRaw, athenaSql, ident, int, str } from '../queries/athena-sql';
import type { AthenaStatement, ScanPlan } from '../queries/query.types';
import { datehourBounds, type ArrivalSlack } from './arrival-window';
import { isEventTimePlan, silverEventRange, type LayerName } from './layer';

/**
 * The raw bucket's records as one SQL relation with raw's string columns (`record_id, product_id, status, price,
 * exchange_time, scheduled_time, ingest_time, reason`), already pruned to the partitions the plan needs. Every query's
 * SQL reads this relation, so the same statement answers from raw, from silver, or from both:
 * - `raw`: the `datehour` (arrival hour) partitions the arrival slack gives.
 * - `silver`: the `silver_ticks` partitions (product, `dt`, `hour` of event time) of the plan's event range, typed
 *   columns turned back into the strings raw holds (decimals to the digits `lexical_forms` says; times likewise, but
 *   Athena reads Parquet TIMESTAMPs to the millisecond, so digits below it come back as 0).
 * - `auto`: silver `UNION ALL` raw arrival hours from the compactor's watermark on (a parameter: the first arrival hour
 *   not known to be compacted). A record in both is the same record: the queries keep one copy per `record_id`.
 */

export interface SilverSqlContext {
  silverTable: string;
  layer: LayerName;
  /**
   * `auto`: the compactor's watermark (epoch seconds, an hour start); raw arrival hours before it are left out.
   * Undefined: no watermark yet, every raw hour of the window is read.
   */
  rawCompleteBefore?: number;
}

const RAW_COLUMNS = 'record_id, product_id, status, price, exchange_time, scheduled_time, ingest_time, reason';
/** `datehour` below every real one: the floor when the compactor has published no watermark. */
export const NO_WATERMARK = '0000/00/00/00';

const form = (field: string) => {
  const i = (SILVER_LEXICAL_COLUMNS as readonly string[]).indexOf(field);
  if (i < 0) throw new Error(`silver codec has no lexical form for ${field}`);
  return `from_base(substr(lexical_forms, ${i + 1}, 1), 36)`;
};

/** A DECIMAL(38,18) column as the decimal string it was written as (Trino prints all 18 fraction digits). */
function decimalText(column: string): string {
  const full = `CAST(${column} AS varchar)`;
  return (
    `CASE WHEN ${column} IS NULL THEN NULL WHEN ${form(column)} = 0 THEN split_part(${full}, '.', 1) ` +
    `ELSE rpad(${full}, length(split_part(${full}, '.', 1)) + 1 + ${form(column)}, '0') END`
  );
}

/** A TIMESTAMP column as the ISO string it was written as, to the millisecond Athena reads. */
function timeText(column: string): string {
  return (
    `CASE WHEN ${column} IS NULL THEN NULL ELSE format_datetime(${column}, 'yyyy-MM-dd''T''HH:mm:ss') || ` +
    `CASE WHEN ${form(column)} = 0 THEN '' ELSE '.' || rpad(format_datetime(${column}, 'SSS'), ${form(column)}, '0') ` +
    `END || 'Z' END`
  );
}

const SILVER_AS_RAW = new SqlRaw(
  [
    'record_id',
    'product_id',
    'status',
    `${decimalText('price')} AS price`,
    `${timeText('exchange_time')} AS exchange_time`,
    `${timeText('scheduled_time')} AS scheduled_time`,
    `${timeText('ingest_time')} AS ingest_time`,
    'reason',
  ].join(',\n         '),
);

/** The silver partitions of the plan's event range: `dt` for pruning, `hour` at both ends, and the product. */
function silverSelect(plan: ScanPlan, slack: ArrivalSlack, table: string): AthenaStatement {
  const range = silverEventRange(plan, slack);
  const first = new Date(Math.floor(range.fromSec / 3600) * 3_600_000);
  const last = new Date(Math.floor((range.toSec - 1) / 3600) * 3_600_000);
  const dt = (d: Date) => str(d.toISOString().slice(0, 10));
  const nl = new SqlRaw('\n    ');
  const product =
    plan.productIds?.length === 1 ? athenaSql`${nl}AND product_id = ${str(plan.productIds[0] as string)}` : athenaSql``;
  // event-time plans: the row groups' event_time statistics prune inside the edge hours too
  const at = (sec: number) => athenaSql`CAST(from_unixtime(${int(sec)}) AS timestamp)`;
  const eventTime = isEventTimePlan(plan)
    ? athenaSql`${nl}AND event_time >= ${at(plan.fromSec)} AND event_time < ${at(plan.toSec)}`
    : athenaSql``;
  const fromHour = athenaSql`(dt <> ${dt(first)} OR hour >= ${int(first.getUTCHours())})`;
  const toHour = athenaSql`(dt <> ${dt(last)} OR hour <= ${int(last.getUTCHours())})`;
  return athenaSql`SELECT ${SILVER_AS_RAW}
  FROM ${ident(table)}
  WHERE dt BETWEEN ${dt(first)} AND ${dt(last)}
    AND ${fromHour} AND ${toHour}${product}${eventTime}`;
}

/**
 * The relation the queries read for the raw bucket, per layer (see the module comment), wrapped in parentheses so a
 * query writes `FROM ${source}`.
 */
export function rawSourceSql(
  plan: ScanPlan,
  slack: ArrivalSlack,
  rawTable: string,
  silver: SilverSqlContext | undefined,
): AthenaStatement {
  const bounds = datehourBounds(plan.fromSec, plan.toSec, slack);
  const raw = (floor: AthenaStatement) => athenaSql`SELECT ${new SqlRaw(RAW_COLUMNS)}
  FROM ${ident(rawTable)}
  WHERE datehour BETWEEN ${floor} AND ${str(bounds.to)}`;
  if (silver === undefined || silver.layer === 'raw') return athenaSql`(${raw(athenaSql`${str(bounds.from)}`)})`;
  const fromSilver = silverSelect(plan, slack, silver.silverTable);
  if (silver.layer === 'silver') return athenaSql`(${fromSilver})`;
  const watermark =
    silver.rawCompleteBefore === undefined ? NO_WATERMARK : toDatehour(new Date(silver.rawCompleteBefore * 1000));
  return athenaSql`(
  ${fromSilver}
  UNION ALL
  ${raw(athenaSql`greatest(${str(watermark)}, ${str(bounds.from)})`)}
)`;
}
