import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type Row,
} from '@aws-sdk/client-athena';
import { backoffCeilingMs, sleep, spreadMs } from '@btc-etl/resilience';
import { AthenaQueryError, AthenaResultError } from '../query.errors';
import type { AthenaStatement, ColumnSpec, QueryDefinition, ResultRow, ResultValue } from '../queries/query.types';
import { DEFAULT_SLACK, datehourBounds, type ArrivalSlack } from './arrival-window';
import { rawSourceSql, type SilverSqlContext } from './athena-source.sql';

export interface AthenaEngineOptions {
  client: AthenaClient;
  workGroup: string;
  database: string;
  /** Left out when the workgroup enforces its own result location. */
  outputLocation?: string;
  /** The account that must own the `outputLocation` bucket (EXPECTED_BUCKET_OWNER); sent only with that location. */
  expectedBucketOwner?: string;
  catalog?: string;
  rawTable: string;
  backupTable: string;
  slack?: ArrivalSlack;
  /** The silver table and the layer that answers for the raw bucket (see athena-source.sql.ts). Without it: raw. */
  silver?: SilverSqlContext;
  poll?: Partial<PollOptions>;
  /** Injected in tests; defaults to resilience's `sleep` (a timer that keeps the CLI alive while it waits). */
  sleep?: (ms: number) => Promise<unknown>;
}

/** The wait between polls: `initialMs`, growing by `factor` up to `maxMs`, each spread by ±20 %. */
export interface PollOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Give up (and stop the query) after this long. */
  timeoutMs: number;
}

const DEFAULT_POLL: PollOptions = { initialMs: 250, maxMs: 5_000, factor: 1.6, timeoutMs: 10 * 60_000 };

/** What Athena reported about the run, and what it costs. */
export interface AthenaQueryStats {
  engine: 'athena';
  queryExecutionId: string;
  bytesScanned: number;
  /** USD at $5 per TB scanned (TB = 2^40 bytes), bytes rounded up to the MB (2^20), 10 MB minimum. */
  costUsd: number;
  engineMs: number | undefined;
  polls: number;
  /** Every state seen, in order (Athena can go RUNNING -> QUEUED again). */
  states: string[];
  pages: number;
  elapsedMs: number;
}

const MB = 2 ** 20;
const TB = 2 ** 40;
/** Athena's price: $5 per TB scanned, per query at least 10 MB, rounded up to the next MB. */
export function athenaCostUsd(bytesScanned: number): number {
  const billed = Math.max(10 * MB, Math.ceil(bytesScanned / MB) * MB);
  return (billed / TB) * 5;
}

/** One Athena cell to the JS value of its declared column type (Athena hands every value over as a string). */
export function toTypedValue(column: ColumnSpec, cell: string | undefined): ResultValue {
  if (cell === undefined) return null;
  switch (column.type) {
    case 'string':
    case 'timestamp':
      return cell;
    case 'integer': {
      if (!/^-?\d+$/.test(cell)) throw new AthenaResultError(column.name, cell, 'not an integer');
      const n = Number(cell);
      if (!Number.isSafeInteger(n)) throw new AthenaResultError(column.name, cell, 'integer beyond 2^53');
      return n;
    }
    case 'double': {
      const n =
        cell === 'NaN' ? Number.NaN : cell === 'Infinity' ? Infinity : cell === '-Infinity' ? -Infinity : Number(cell);
      if (cell.trim() === '' || (Number.isNaN(n) && cell !== 'NaN'))
        throw new AthenaResultError(column.name, cell, 'not a number');
      return n;
    }
  }
}

function rowValues(row: Row): (string | undefined)[] {
  return (row.Data ?? []).map((d) => d.VarCharValue);
}

/**
 * The statement a definition runs on Athena for these parameters: raw partition bounds from the arrival slack, and
 * the raw bucket's records from the layer `options.silver` names.
 */
export function athenaStatement<P>(
  definition: QueryDefinition<P, ResultRow>,
  params: P,
  options: Pick<AthenaEngineOptions, 'rawTable' | 'backupTable' | 'slack' | 'silver'>,
): AthenaStatement {
  const plan = definition.plan(params);
  const slack = options.slack ?? DEFAULT_SLACK;
  const bounds = datehourBounds(plan.fromSec, plan.toSec, slack);
  return definition.athena(params, {
    rawTable: options.rawTable,
    backupTable: options.backupTable,
    datehourFrom: bounds.from,
    datehourTo: bounds.to,
    rawSource: rawSourceSql(plan, slack, options.rawTable, options.silver),
  });
}

/**
 * Run a query on Athena: StartQueryExecution with ExecutionParameters, poll GetQueryExecution with capped
 * exponential backoff until SUCCEEDED/FAILED/CANCELLED (any other state, including a step back from RUNNING to
 * QUEUED, just means "not yet"), then every GetQueryResults page (the first row of the first page is the header,
 * checked against the definition), typed by the definition's columns.
 */
export async function runAthenaQuery<P, R extends ResultRow>(
  definition: QueryDefinition<P, R>,
  params: P,
  options: AthenaEngineOptions,
): Promise<{ rows: R[]; stats: AthenaQueryStats }> {
  const started = performance.now();
  const poll = { ...DEFAULT_POLL, ...options.poll };
  const wait = options.sleep ?? sleep;
  const statement = athenaStatement(definition as QueryDefinition<P, ResultRow>, params, options);
  const start = await options.client.send(
    new StartQueryExecutionCommand({
      QueryString: statement.sql,
      ...(statement.parameters.length > 0 ? { ExecutionParameters: statement.parameters } : {}),
      WorkGroup: options.workGroup,
      QueryExecutionContext: { Database: options.database, ...(options.catalog ? { Catalog: options.catalog } : {}) },
      ...(options.outputLocation
        ? {
            ResultConfiguration: {
              OutputLocation: options.outputLocation,
              ...(options.expectedBucketOwner ? { ExpectedBucketOwner: options.expectedBucketOwner } : {}),
            },
          }
        : {}),
    }),
  );
  const id = start.QueryExecutionId;
  if (!id) throw new AthenaQueryError(undefined, undefined, 'StartQueryExecution returned no QueryExecutionId');

  const states: string[] = [];
  let polls = 0;
  let bytesScanned = 0;
  let engineMs: number | undefined;
  for (;;) {
    const { QueryExecution: execution } = await options.client.send(
      new GetQueryExecutionCommand({ QueryExecutionId: id }),
    );
    polls++;
    const state = execution?.Status?.State ?? 'UNKNOWN';
    if (states[states.length - 1] !== state) states.push(state);
    bytesScanned = execution?.Statistics?.DataScannedInBytes ?? bytesScanned;
    engineMs = execution?.Statistics?.EngineExecutionTimeInMillis ?? engineMs;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new AthenaQueryError(
        id,
        state,
        execution?.Status?.StateChangeReason ?? execution?.Status?.AthenaError?.ErrorMessage,
      );
    }
    if (performance.now() - started > poll.timeoutMs) {
      await options.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
      throw new AthenaQueryError(id, 'TIMEOUT', `still ${state} after ${poll.timeoutMs} ms: stopped`);
    }
    // the spread keeps many clients from polling in step
    await wait(
      spreadMs(backoffCeilingMs(polls - 1, { baseMs: poll.initialMs, capMs: poll.maxMs, factor: poll.factor }), 0.2),
    );
  }

  const rows: R[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await options.client.send(
      new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }),
    );
    const resultRows = page.ResultSet?.Rows ?? [];
    let first = 0;
    if (pages === 0) {
      const header = resultRows[0] ? rowValues(resultRows[0]) : [];
      const expected = definition.columns.map((c) => c.name);
      if (header.join(',') !== expected.join(',')) {
        throw new AthenaResultError('(header)', header.join(','), `expected columns ${expected.join(',')}`);
      }
      first = 1;
    }
    for (const row of resultRows.slice(first)) {
      const values = rowValues(row);
      const out: ResultRow = {};
      definition.columns.forEach((column, i) => {
        out[column.name] = toTypedValue(column, values[i]);
      });
      rows.push(out as R);
    }
    pages++;
    token = page.NextToken;
  } while (token);

  return {
    rows,
    stats: {
      engine: 'athena',
      queryExecutionId: id,
      bytesScanned,
      costUsd: athenaCostUsd(bytesScanned),
      engineMs,
      polls,
      states,
      pages,
      elapsedMs: performance.now() - started,
    },
  };
}
