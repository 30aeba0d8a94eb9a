import { AthenaClient, CreateWorkGroupCommand, GetQueryExecutionCommand } from '@aws-sdk/client-athena';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { QUERIES } from '../queries/query.registry';
import { athenaCostUsd, runAthenaQuery, type AthenaEngineOptions } from './athena.engine';

// moto does not run SQL: it hands seeded result sets to the next queries (REFERENCE.md). What is real here is the
// client flow: StartQueryExecution with ExecutionParameters, QUEUED -> RUNNING -> SUCCEEDED polling, results
// with a header row, typing, and the statistics.
const endpoint = process.env.AWS_ENDPOINT_URL ?? '';
const athena = new AthenaClient({ endpoint, region: 'us-east-1' });
const workGroup = `wg-${randomUUID().slice(0, 8)}`;
const resultsBucket = `results-${randomUUID().slice(0, 8)}`;

const cell = (v: string | null) => (v === null ? {} : { VarCharValue: v });
async function seedResults(rows: (string | null)[][]): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/static/athena/query-results`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      region: 'us-east-1',
      results: [{ rows: rows.map((r) => ({ Data: r.map(cell) })), column_info: [] }],
    }),
  });
  expect(res.status).toBe(201);
}

/** Executions stay QUEUED and RUNNING for two polls each before they succeed, as real ones do. */
async function slowExecutions(): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    body: JSON.stringify({ model_name: 'athena::execution', transition: { progression: 'manual', times: 2 } }),
  });
  expect(res.status).toBeLessThan(300);
}

function options(): AthenaEngineOptions {
  return {
    client: athena,
    workGroup,
    database: 'btc_etl',
    outputLocation: `s3://${resultsBucket}/athena/`,
    rawTable: 'raw_ticks',
    backupTable: 'backup_ticks',
    poll: { initialMs: 5, maxMs: 20 },
  };
}

beforeAll(async () => {
  expect(endpoint, 'moto global setup sets AWS_ENDPOINT_URL').toMatch(/^http:\/\/127\.0\.0\.1:/);
  await new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true }).send(
    new CreateBucketCommand({ Bucket: resultsBucket }),
  );
  await athena.send(
    new CreateWorkGroupCommand({
      Name: workGroup,
      Configuration: { ResultConfiguration: { OutputLocation: `s3://${resultsBucket}/athena/` } },
    }),
  );
  await slowExecutions();
});

describe('Athena engine on moto', () => {
  it('runs ohlc with ExecutionParameters and returns typed candles, bytes and cost', async () => {
    await seedResults([
      ['bucket_start', 'open', 'high', 'low', 'close', 'ticks'],
      ['2026-11-27T00:00:00.000Z', '97000.10', '97010.00', '96990.5', '97005.00', '60'],
      ['2026-11-27T00:01:00.000Z', '97005.00', '97006.00', '97001.00', '97002.25', '58'],
    ]);
    const params = QUERIES.ohlc.params.parse({
      product: 'BTC-USD',
      interval: '1m',
      from: '2026-11-27T00:00:00Z',
      to: '2026-11-27T01:00:00Z',
    });

    const { rows, stats } = await runAthenaQuery(QUERIES.ohlc, params, options());

    expect(rows).toEqual([
      {
        bucket_start: '2026-11-27T00:00:00.000Z',
        open: '97000.10',
        high: '97010.00',
        low: '96990.5',
        close: '97005.00',
        ticks: 60,
      },
      {
        bucket_start: '2026-11-27T00:01:00.000Z',
        open: '97005.00',
        high: '97006.00',
        low: '97001.00',
        close: '97002.25',
        ticks: 58,
      },
    ]);
    expect(stats.states).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
    expect(stats.polls).toBeGreaterThanOrEqual(3);
    // moto scans nothing: the 10 MB minimum is what a query costs at least
    expect(stats.bytesScanned).toBe(0);
    expect(stats.costUsd).toBeCloseTo(athenaCostUsd(10 * 2 ** 20), 12);

    const { QueryExecution: sent } = await athena.send(
      new GetQueryExecutionCommand({ QueryExecutionId: stats.queryExecutionId }),
    );
    expect(sent?.Query).toContain('FROM "raw_ticks"');
    expect(sent?.Query).not.toContain('BTC-USD');
    expect(sent?.ExecutionParameters).toEqual([
      "'2026/11/26/23'",
      "'2026/11/27/01'",
      "'BTC-USD'",
      "'BTC-USD'",
      '60',
      String(params.from),
      String(params.to),
    ]);
    expect(sent?.Query?.split('?').length).toBe((sent?.ExecutionParameters?.length ?? 0) + 1);
    expect(sent?.QueryExecutionContext?.Database).toBe('btc_etl');
  });

  it('types nulls and doubles of the summary', async () => {
    await seedResults([
      ['day', 'ticks', 'min', 'max', 'mean', 'stddev', 'open', 'close', 'return'],
      ['2026-11-27T00:00:00.000Z', '1', '97000.10', '97000.10', '97000.1', null, '97000.10', '97000.10', '0.0'],
    ]);
    const params = QUERIES.summary.params.parse({ product: 'BTC-USD', from: '2026-11-27', to: '2026-11-28' });
    const { rows } = await runAthenaQuery(QUERIES.summary, params, options());
    expect(rows).toEqual([
      {
        day: '2026-11-27T00:00:00.000Z',
        ticks: 1,
        min: '97000.10',
        max: '97000.10',
        mean: 97000.1,
        stddev: null,
        open: '97000.10',
        close: '97000.10',
        return: 0,
      },
    ]);
  });

  it('refuses a result whose header is not the query columns', async () => {
    await seedResults([['something_else'], ['1']]);
    const params = QUERIES.ohlc.params.parse({
      product: 'BTC-USD',
      interval: '1h',
      from: '2026-11-27T00:00:00Z',
      to: '2026-11-27T01:00:00Z',
    });
    await expect(runAthenaQuery(QUERIES.ohlc, params, options())).rejects.toThrow(/expected columns bucket_start,open/);
  });
});
