import { MISS_REASONS, type PriceTick } from '@btc-etl/price-schema';
import { z } from 'zod';
import { SqlRaw, athenaSql, int, str } from './athena-sql';
import { PRODUCT_FLAG, ProductParam, RANGE_FLAGS, isoOf, secondsOf, withRange } from './query.params';
import type { Accumulator, AthenaContext, AthenaStatement, QueryDefinition } from './query.types';
import { isoSecond, secondToIso } from './tick-values';

/** Per-second analysis keeps one byte per second: ranges are capped at 31 days. */
export const GAPS_MAX_DAYS = 31;

export const GapsParams = withRange({ product: ProductParam }, GAPS_MAX_DAYS);
export type GapsParams = z.infer<typeof GapsParams>;

/** The reason of a second with no record at all. */
export const NO_RECORD = 'no_record';
const NO_RECORD_SQL = new SqlRaw(`'${NO_RECORD}'`);

export interface GapRow extends Record<string, string | number> {
  start: string;
  /** Exclusive. */
  end: string;
  seconds: number;
  /** The miss reason the extractor recorded, or `no_record` for seconds nothing was written for. */
  reason: string;
}

export interface CompletenessRow extends Record<string, string | number> {
  hour: string;
  expected: number;
  ok: number;
  missed: number;
  missing: number;
  /** ok / expected. */
  completeness: number;
}

// State per due second: 0 nothing, 1 ok, 2.. a miss reason (in alphabetical order, so "the least reason" wins as in
// SQL's min()).
const SORTED_REASONS = [...MISS_REASONS].sort();
const REASON_CODE = new Map<string, number>(SORTED_REASONS.map((r, i) => [r, i + 2]));
const NONE = 0;
const OK = 1;

/** Second-by-second states over [from, to) of the polled feed (records with a scheduled_time). */
function secondStates(params: GapsParams) {
  const states = new Uint8Array(params.to - params.from);
  return {
    states,
    add(tick: PriceTick) {
      if (tick.product_id !== params.product || tick.scheduled_time === null) return;
      const sec = isoSecond(tick.scheduled_time);
      if (sec < params.from || sec >= params.to) return;
      const i = sec - params.from;
      const current = states[i] ?? NONE;
      if (current === OK) return;
      if (tick.status === 'ok') {
        states[i] = OK;
        return;
      }
      const code = REASON_CODE.get(tick.reason ?? '') ?? 255;
      if (current === NONE || code < current) states[i] = code;
    },
  };
}

const reasonOf = (code: number) => (code === NONE ? NO_RECORD : (SORTED_REASONS[code - 2] ?? 'unknown'));

function gapsAccumulator(params: GapsParams): Accumulator<GapRow> {
  const s = secondStates(params);
  return {
    add: s.add,
    finish() {
      const rows: GapRow[] = [];
      const { states } = s;
      let i = 0;
      while (i < states.length) {
        const code = states[i] ?? NONE;
        if (code === OK) {
          i++;
          continue;
        }
        let j = i + 1;
        while (j < states.length && states[j] === code) j++;
        rows.push({
          start: secondToIso(params.from + i),
          end: secondToIso(params.from + j),
          seconds: j - i,
          reason: reasonOf(code),
        });
        i = j;
      }
      return rows;
    },
  };
}

function completenessAccumulator(params: GapsParams): Accumulator<CompletenessRow> {
  const s = secondStates(params);
  return {
    add: s.add,
    finish() {
      const rows: CompletenessRow[] = [];
      const { states } = s;
      let i = 0;
      while (i < states.length) {
        const sec = params.from + i;
        const hourEnd = Math.min(sec - (sec % 3600) + 3600, params.to);
        let ok = 0;
        let missing = 0;
        const n = hourEnd - sec;
        for (let k = i; k < i + n; k++) {
          const code = states[k];
          if (code === OK) ok++;
          else if (code === NONE) missing++;
        }
        rows.push({
          hour: secondToIso(sec - (sec % 3600)),
          expected: n,
          ok,
          missed: n - ok - missing,
          missing,
          completeness: ok / n,
        });
        i += n;
      }
      return rows;
    },
  };
}

/**
 * The shared part of both statements: one state per expected second. Expected seconds are generated as hours x
 * 0..3599 because Athena's sequence() stops at 10,000 elements.
 */
function statesSql(p: GapsParams, ctx: AthenaContext, tail: AthenaStatement): AthenaStatement {
  const head = athenaSql`
WITH src AS (
  SELECT record_id, status, reason, scheduled_time,
         row_number() OVER (PARTITION BY record_id ORDER BY ingest_time) AS copy
  FROM ${ctx.rawSource} AS raw_records
  WHERE product_id = ${str(p.product)}
    AND scheduled_time IS NOT NULL
), per_second AS (
  SELECT ${secondsOf('scheduled_time')} AS sec,
         max(CASE WHEN status = 'ok' THEN 1 ELSE 0 END) AS has_ok,
         min(CASE WHEN status <> 'ok' THEN reason END) AS reason
  FROM src
  WHERE copy = 1
  GROUP BY 1
), expected AS (
  SELECT h * 3600 + s AS sec
  FROM UNNEST(sequence(${int(Math.floor(p.from / 3600))}, ${int(Math.floor((p.to - 1) / 3600))})) AS hours (h)
  CROSS JOIN UNNEST(sequence(0, 3599)) AS secs (s)
), states AS (
  SELECT e.sec, CASE WHEN ps.has_ok = 1 THEN 'ok' WHEN ps.sec IS NULL THEN ${NO_RECORD_SQL} ELSE ps.reason END AS state
  FROM expected e
  LEFT JOIN per_second ps ON ps.sec = e.sec
  WHERE e.sec >= ${int(p.from)} AND e.sec < ${int(p.to)}
)`;
  return { sql: `${head.sql}\n${tail.sql.replace(/^\n/, '')}`, parameters: [...head.parameters, ...tail.parameters] };
}

export const gapsQuery: QueryDefinition<GapsParams, GapRow> = {
  name: 'gaps',
  description:
    'Runs of due seconds of one product without an ok record: missed ticks with their reason, ' +
    'and missing seconds (no_record)',
  usage: 'runs of due seconds without an ok record (missed with reason, or no_record)',
  params: GapsParams,
  flags: [PRODUCT_FLAG, ...RANGE_FLAGS],
  defaultSpanS: 3600,
  example: { product: 'BTC-USD', from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z' },
  columns: [
    { name: 'start', type: 'timestamp' },
    { name: 'end', type: 'timestamp' },
    { name: 'seconds', type: 'integer' },
    { name: 'reason', type: 'string' },
  ],
  plan: (p) => ({
    stores: ['raw'],
    fromSec: p.from,
    toSec: p.to,
    productIds: [p.product],
    recordTime: ['scheduled_time'],
  }),
  athena: (p, ctx) =>
    statesSql(
      p,
      ctx,
      athenaSql`
, islands AS (
  SELECT sec, state, sec - row_number() OVER (PARTITION BY state ORDER BY sec) AS grp
  FROM states
  WHERE state <> 'ok'
)
SELECT ${isoOf('min(sec)')} AS start, ${isoOf('max(sec) + 1')} AS "end", count(*) AS seconds, state AS reason
FROM islands
GROUP BY state, grp
ORDER BY min(sec)`,
    ),
  local: gapsAccumulator,
};

export const completenessQuery: QueryDefinition<GapsParams, CompletenessRow> = {
  name: 'completeness',
  description:
    'Per UTC hour of one product: expected due seconds, ok, missed and missing seconds, and ' +
    'completeness (ok / expected)',
  usage: 'per hour: expected, ok, missed and missing seconds',
  params: GapsParams,
  flags: gapsQuery.flags,
  defaultSpanS: 86_400,
  example: gapsQuery.example,
  columns: [
    { name: 'hour', type: 'timestamp' },
    { name: 'expected', type: 'integer' },
    { name: 'ok', type: 'integer' },
    { name: 'missed', type: 'integer' },
    { name: 'missing', type: 'integer' },
    { name: 'completeness', type: 'double' },
  ],
  plan: gapsQuery.plan,
  athena: (p, ctx) =>
    statesSql(
      p,
      ctx,
      athenaSql`
SELECT ${isoOf('sec - sec % 3600')} AS hour, count(*) AS expected,
       count_if(state = 'ok') AS ok,
       count_if(state NOT IN ('ok', ${NO_RECORD_SQL})) AS missed,
       count_if(state = ${NO_RECORD_SQL}) AS missing,
       CAST(count_if(state = 'ok') AS DOUBLE) / count(*) AS completeness
FROM states
GROUP BY sec - sec % 3600
ORDER BY sec - sec % 3600`,
    ),
  local: completenessAccumulator,
};
