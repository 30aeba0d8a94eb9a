import { catchError } from '@btc-etl/testing';
import { describe, expect, it } from 'vitest';
import { CompactorConfigError } from '../compactor.errors';
import { parseCli } from './cli.args';
import { loadCompactorConfig } from './compactor.config';

describe('compactor configuration', () => {
  it('defaults to the local store with local bucket folders', () => {
    expect(loadCompactorConfig({})).toMatchObject({
      objectStore: 'local',
      rawBucket: 'btc-etl-raw',
      silverBucket: 'btc-etl-silver',
      intervalMs: 300_000,
      lateSlackMs: 1_200_000,
      lookbackHours: 26,
      metricsEmf: false,
    });
  });

  it('in Lambda: S3, EMF on, and bucket names required', () => {
    const env = { AWS_LAMBDA_FUNCTION_NAME: 'f', RAW_BUCKET: 'my-raw', SILVER_BUCKET: 'my-silver' };
    expect(loadCompactorConfig(env)).toMatchObject({ objectStore: 's3', metricsEmf: true, rawBucket: 'my-raw' });
    const error = catchError(() => loadCompactorConfig({ AWS_LAMBDA_FUNCTION_NAME: 'f' }), CompactorConfigError);
    expect(error.data.issues.map((i) => i.variable)).toEqual(['RAW_BUCKET', 'SILVER_BUCKET']);
  });

  it.each([
    ['COMPACT_INTERVAL_S', '0'],
    ['COMPACT_LATE_SLACK_S', 'x'],
    ['COMPACT_LOOKBACK_H', '-1'],
    ['COMPACT_LOOKBACK_H', '1.5'],
    ['COMPACT_LOOKBACK_H', '100000'],
    ['SILVER_BUCKET', 'Not_A_Bucket'],
    ['RAW_PREFIX', 'raw'],
    ['METRICS_EMF', 'maybe'],
  ])('names %s when it is %j', (variable, value) => {
    const error = catchError(() => loadCompactorConfig({ [variable]: value }), CompactorConfigError);
    expect(error.data.issues[0]?.variable).toBe(variable);
  });
});

describe('compactor CLI arguments', () => {
  it('parses run with a range and dry-run, and serve', () => {
    expect(parseCli(['run', '--from', '2026-11-27T19:00:00Z', '--to', '2026-11-27T21:00:00Z', '--dry-run'])).toEqual({
      command: 'run',
      dryRun: true,
      from: new Date('2026-11-27T19:00:00Z'),
      to: new Date('2026-11-27T21:00:00Z'),
    });
    expect(parseCli(['serve'])).toEqual({ command: 'serve' });
  });

  it.each([
    [['run', '--to', '2026-11-27T19:00:00Z'], '--from'],
    [['run', '--from', '2026-11-27T21:00:00Z', '--to', '2026-11-27T19:00:00Z'], '--to'],
    [['run', '--from', 'yesterday', '--to', '2026-11-27T19:00:00Z'], '--from'],
    [['serve', '--dry-run'], 'argv'],
    [[], 'argv'],
  ])('refuses %j naming %s', (argv, variable) => {
    expect(catchError(() => parseCli(argv), CompactorConfigError).data.issues[0]?.variable).toBe(variable);
  });
});
