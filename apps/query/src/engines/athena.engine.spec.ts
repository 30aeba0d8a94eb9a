import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type QueryExecutionState,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AthenaQueryError } from '../query.errors';
import { QUERIES } from '../queries/query.registry';
import { athenaCostUsd, runAthenaQuery, type AthenaEngineOptions } from './athena.engine';

// aws-sdk-client-mock only for what moto cannot produce: a state going back from RUNNING to QUEUED, several result
// pages, a FAILED query, a query that never ends, and real byte counts.
const athena = mockClient(AthenaClient);
const waits: number[] = [];
const options = (): AthenaEngineOptions => ({
  client: new AthenaClient({ region: 'us-east-1' }),
  workGroup: 'wg',
  database: 'btc_etl',
  rawTable: 'raw_ticks',
  backupTable: 'backup_ticks',
  poll: { initialMs: 100, maxMs: 400, factor: 2, timeoutMs: 60_000 },
  sleep: async (ms) => {
    waits.push(ms);
  },
});
const execution = (State: QueryExecutionState, bytes = 0, reason?: string) => ({
  QueryExecution: {
    Status: { State, ...(reason ? { StateChangeReason: reason } : {}) },
    Statistics: { DataScannedInBytes: bytes, EngineExecutionTimeInMillis: 1234 },
  },
});
const row = (...values: string[]) => ({ Data: values.map((v) => ({ VarCharValue: v })) });
const params = QUERIES.latest.params.parse({
  from: '2026-11-27T00:00:00Z',
  to: '2026-11-27T01:00:00Z',
  now: '2026-11-27T01:00:00Z',
});

beforeEach(() => {
  athena.reset();
  waits.length = 0;
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
});

describe('runAthenaQuery', () => {
  it('keeps polling when RUNNING falls back to QUEUED, backs off, and reads every page', async () => {
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('QUEUED'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('QUEUED'))
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('SUCCEEDED', 3 * 2 ** 30));
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({
        ResultSet: {
          Rows: [
            row('product_id', 'price', 'tick_time', 'age_s'),
            row('BTC-USD', '97000.01', '2026-11-27T00:59:59.5Z', '1'),
          ],
        },
        NextToken: 't2',
      })
      .resolvesOnce({ ResultSet: { Rows: [row('ETH-USD', '3000.5', '2026-11-27T00:59:58Z', '2')] }, NextToken: 't3' })
      .resolvesOnce({ ResultSet: { Rows: [row('SOL-USD', '150', '2026-11-27T00:59:57Z', '3')] } });

    const { rows, stats } = await runAthenaQuery(QUERIES.latest, params, options());

    expect(rows.map((r) => r.product_id)).toEqual(['BTC-USD', 'ETH-USD', 'SOL-USD']);
    expect(rows[2]).toEqual({ product_id: 'SOL-USD', price: '150', tick_time: '2026-11-27T00:59:57Z', age_s: 3 });
    expect(stats.states).toEqual(['QUEUED', 'RUNNING', 'QUEUED', 'RUNNING', 'SUCCEEDED']);
    expect(stats.pages).toBe(3);
    expect(athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input.NextToken)).toEqual([
      undefined,
      't2',
      't3',
    ]);
    // capped exponential backoff with +-20% jitter: ~100, ~200, ~400, ~400
    expect(waits).toHaveLength(4);
    expect(waits[0]).toBeGreaterThanOrEqual(80);
    expect(waits[0]).toBeLessThanOrEqual(120);
    expect(waits[3]).toBeLessThanOrEqual(480);
    expect(waits[3]).toBeGreaterThanOrEqual(320);
    expect(stats.bytesScanned).toBe(3 * 2 ** 30);
    expect(stats.costUsd).toBeCloseTo((3 / 1024) * 5, 10);
  });

  it('throws the reason of a FAILED query', async () => {
    athena.on(GetQueryExecutionCommand).resolves(execution('FAILED', 0, 'TABLE_NOT_FOUND: raw_ticks'));
    const error = await runAthenaQuery(QUERIES.latest, params, options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AthenaQueryError);
    expect(error).toMatchObject({
      name: 'AthenaQueryError',
      data: { queryExecutionId: 'q-1', state: 'FAILED', reason: 'TABLE_NOT_FOUND: raw_ticks' },
    });
    expect((error as Error).message).toBe('Athena query q-1 FAILED: TABLE_NOT_FOUND: raw_ticks');
  });

  it('stops a query that outlives the timeout', async () => {
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    athena.on(StopQueryExecutionCommand).resolves({});
    const slow = { ...options(), poll: { initialMs: 1, maxMs: 1, timeoutMs: 0 } };
    await expect(runAthenaQuery(QUERIES.latest, params, slow)).rejects.toMatchObject({ data: { state: 'TIMEOUT' } });
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(1);
  });

  it('names the expected owner of the result bucket beside the output location', async () => {
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    athena
      .on(GetQueryResultsCommand)
      .resolves({ ResultSet: { Rows: [row('product_id', 'price', 'tick_time', 'age_s')] } });
    const owned = { ...options(), outputLocation: 's3://results/athena/', expectedBucketOwner: '123456789012' };
    await runAthenaQuery(QUERIES.latest, params, owned);
    await runAthenaQuery(QUERIES.latest, params, { ...owned, outputLocation: undefined });
    const [first, second] = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(first?.ResultConfiguration).toEqual({
      OutputLocation: 's3://results/athena/',
      ExpectedBucketOwner: '123456789012',
    });
    // without a location of its own the workgroup's applies, with the workgroup's owner setting
    expect(second?.ResultConfiguration).toBeUndefined();
  });

  it('rejects a value that does not fit its column', async () => {
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: { Rows: [row('product_id', 'price', 'tick_time', 'age_s'), row('BTC-USD', '1', 't', 'soon')] },
    });
    await expect(runAthenaQuery(QUERIES.latest, params, options())).rejects.toThrow(/age_s: not an integer/);
  });
});

describe('athenaCostUsd', () => {
  it('charges at least 10 MB and rounds up to the MB', () => {
    expect(athenaCostUsd(0)).toBe(athenaCostUsd(10 * 2 ** 20));
    expect(athenaCostUsd(10 * 2 ** 20 + 1)).toBe((11 * 2 ** 20 * 5) / 2 ** 40);
    expect(athenaCostUsd(2 ** 40)).toBe(5);
  });
});
