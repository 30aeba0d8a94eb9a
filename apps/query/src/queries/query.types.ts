import type { PriceTick } from '@btc-etl/price-schema';
import type { z } from 'zod';

/** Which bucket a record was read from: the raw bucket Firehose writes, or the backup copy. */
export type StoreName = 'raw' | 'backup';

/** How a result column is typed, so Athena's strings become the same JS values the local engine returns. */
export type ColumnType = 'string' | 'timestamp' | 'integer' | 'double';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
}

export type ResultValue = string | number | null;
export type ResultRow = Record<string, ResultValue>;

/** A record time column a query can filter on. */
export type TimeColumn = 'exchange_time' | 'scheduled_time' | 'ingest_time';

/**
 * What a query needs read: from which buckets, for which products, and the window of record time it asks about,
 * `[fromSec, toSec)` in epoch seconds. Engines turn the window into the partitions to read (with an arrival slack).
 */
export interface ScanPlan {
  stores: readonly StoreName[];
  fromSec: number;
  toSec: number;
  /** Undefined reads every product. */
  productIds?: readonly string[];
  /**
   * The time `[fromSec, toSec)` is about: the first non-null of these columns, whose whole second the accumulator
   * compares (a record without one is dropped). Engines may then skip data whose statistics show no such time in
   * the range. Undefined: the accumulator filters otherwise, and nothing is skipped by statistics.
   */
  recordTime?: readonly TimeColumn[];
}

/**
 * The local evaluation of a query: fed every record of the plan once (duplicates by `record_id` already dropped by
 * the engine, per bucket), then asked for its rows. Must not keep records, only aggregates.
 */
export interface Accumulator<R extends ResultRow = ResultRow> {
  add(tick: PriceTick, store: StoreName): void;
  /**
   * The typed path (optional): consecutive records of one product as typed columns, from the silver reader. An
   * accumulator that has it must answer exactly as if each counted row had come through `add` as its PriceTick.
   */
  addColumns?(columns: TickColumns, store: StoreName): void;
  finish(): R[];
}

/**
 * Consecutive records of one product as typed columns (silver's DECIMAL and TIMESTAMP values, not strings), valid
 * only during the `addColumns` call. Row `i` counts only where `ok[i]` is 1: an `ok` record (so it has a price and an
 * event time) that the engine has not dropped as a duplicate; the other rows are records too (`missed` ones), which
 * OHLC-style accumulators skip as `add` would.
 */
export interface TickColumns {
  readonly productId: string;
  readonly rows: number;
  readonly ok: Uint8Array;
  /** The record's time as every query but freshness reads it, `exchange_time ?? scheduled_time`, epoch microseconds. */
  readonly eventMicros: Float64Array;
  /**
   * The price's unscaled value at scale {@link TICK_PRICE_SCALE} in three exact limbs (bits 86-127, 43-85, 0-42), so
   * prices compare exactly limb by limb, most significant first.
   */
  readonly priceHi: Float64Array;
  readonly priceMid: Float64Array;
  readonly priceLo: Float64Array;
  /** Row `i`'s price as the record wrote it (the raw string, every digit and trailing zero). */
  priceText(i: number): string;
  /**
   * What orders rows of equal time, as `record_id` does: the record id, or (when the engine did not read ids) a
   * string that orders the rows of equal event time exactly as their ids would (their place in the file).
   */
  tieBreak(i: number): string;
}

/** The scale of {@link TickColumns} prices: unscaled = value x 10^18 (silver's DECIMAL(38,18)). */
export const TICK_PRICE_SCALE = 18;

/** Table names and the partition range an Athena statement reads. */
export interface AthenaContext {
  rawTable: string;
  backupTable: string;
  /** `yyyy/MM/dd/HH` bounds of the `datehour` partitions to read (inclusive), widened by the arrival slack. */
  datehourFrom: string;
  datehourTo: string;
  /**
   * The raw bucket's records as a relation (`FROM ${rawSource}`) with raw's string columns, pruned to the partitions
   * needed, from raw, silver or both as the layer says (engines/athena-source.sql.ts). Queries read the raw bucket
   * through it; only the backup is read from `backupTable` directly.
   */
  rawSource: AthenaStatement;
}

export interface AthenaStatement {
  /** SQL with `?` placeholders; user input only ever travels in `parameters`. */
  sql: string;
  /** Athena `ExecutionParameters`: SQL literals (strings quoted), in placeholder order. */
  parameters: string[];
}

/**
 * A command-line flag of a query: `--<name> VALUE` fills the parameter `<name>` (a string; the parameter schema
 * validates it). What is really required is the schema's call; `required` only shapes the `--help` line.
 */
export interface QueryFlag {
  name: string;
  /** How the value looks in `--help`, e.g. `BTC-USD`, `1m|5m|15m|1h|1d`, `ISO`. */
  value: string;
  required?: boolean;
  /**
   * What a left-out flag becomes: `now`, the current whole second (ISO); `span`, the `to` flag's time minus the
   * query's {@link QueryDefinition.defaultSpanS}. Undefined: left out, so the schema's own default (or error) holds.
   */
  default?: 'now' | 'span';
}

/**
 * One query, defined once: its parameters and the CLI flags that fill them, result columns, what to scan, its
 * Athena SQL and its local evaluation. The CLI (`cli/cli.args.ts`), `--help` and the Athena named queries are
 * derived from these fields, so adding a query touches its own file and the registry only. The two engines must
 * give the same rows; `engines/local-engine.oracle.int.spec.ts` holds them to it.
 */
export interface QueryDefinition<P = unknown, R extends ResultRow = ResultRow> {
  name: string;
  description: string;
  /** One line for `--help`: what the query answers, shorter than the description. */
  usage: string;
  params: z.ZodType<P>;
  /** The flags the CLI takes for this query, in `--help` order; any other query flag is refused. */
  flags: readonly QueryFlag[];
  /** How far back `--from` goes when it is left out, in seconds. */
  defaultSpanS: number;
  /**
   * Parameters as a user writes them (flag name -> value): shown in `--help`, and the sample ExecutionParameters
   * of the Athena named queries. `queries/query.registry.spec.ts` parses each through its own flags.
   */
  example: Readonly<Record<string, string>>;
  columns: readonly ColumnSpec[];
  plan(params: P): ScanPlan;
  athena(params: P, context: AthenaContext): AthenaStatement;
  local(params: P): Accumulator<R>;
}
