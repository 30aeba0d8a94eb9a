import { describe, expect, it } from 'vitest';
import { catchError } from '@btc-etl/testing';
import { parseConfig } from './extractor.config';
import { ConfigError } from './extractor.errors';

describe('parseConfig', () => {
  it('has working defaults: BTC-USD exchange ticker every second into the local bucket under ./data', () => {
    const c = parseConfig([], {}, '/work/repo');
    expect(c).toMatchObject({
      PRODUCTS: ['BTC-USD'],
      SOURCE: 'exchange-ticker',
      INTERVAL_MS: 1000,
      SINK: 'local',
      DATA_DIR: '/work/repo/data',
      RAW_BUCKET: 'btc-etl-raw',
      FIREHOSE_STREAM_NAME: 'btc-etl-ticks',
      COINBASE_EXCHANGE_URL: 'https://api.exchange.coinbase.com',
      COINBASE_API_URL: 'https://api.coinbase.com',
      SPOOL_DIR: '/work/repo/data/.spool/extractor',
      RATE_LIMIT_RPS: 10,
      RATE_LIMIT_BURST: 15,
      FIREHOSE_MAX_LATENCY_MS: 1000,
      HOST: '127.0.0.1',
      SPOOL_LOCK_WAIT_S: 0,
      SPOOL_LOCK_STALE_S: 30,
    });
  });

  it.each([
    { SHUTDOWN_TIMEOUT_MS: '90000', ok: true }, // the Fargate stack's drain deadline (stop timeout 120 s)
    { SHUTDOWN_TIMEOUT_MS: '115000', ok: true },
    { SHUTDOWN_TIMEOUT_MS: '120000', ok: false }, // would outlast ECS's longest stop timeout
  ])('SHUTDOWN_TIMEOUT_MS=$SHUTDOWN_TIMEOUT_MS accepted: $ok', ({ SHUTDOWN_TIMEOUT_MS, ok }) => {
    if (ok) expect(parseConfig([], { SHUTDOWN_TIMEOUT_MS }).SHUTDOWN_TIMEOUT_MS).toBe(Number(SHUTDOWN_TIMEOUT_MS));
    else
      expect(catchError(() => parseConfig([], { SHUTDOWN_TIMEOUT_MS }), ConfigError).variable).toBe(
        'SHUTDOWN_TIMEOUT_MS',
      );
  });

  it('has no default stream name against AWS: SINK=firehose needs FIREHOSE_STREAM_NAME', () => {
    const error = catchError(() => parseConfig([], { SINK: 'firehose' }), ConfigError);
    expect(error.variable).toBe('FIREHOSE_STREAM_NAME');
    expect(error.message).toMatch(/required with SINK=firehose/);
    expect(parseConfig([], { SINK: 'firehose', FIREHOSE_STREAM_NAME: 'prod-ticks' }).FIREHOSE_STREAM_NAME).toBe(
      'prod-ticks',
    );
  });

  it.each([
    { HOST: '0.0.0.0', ok: true },
    { HOST: '::', ok: true },
    { HOST: '10.0.0.5', ok: true },
    { HOST: 'example.com', ok: false },
    { HOST: '0.0.0.0:9464', ok: false },
  ])('HOST=$HOST for the ops server: accepted $ok', ({ HOST, ok }) => {
    if (ok) expect(parseConfig([], { HOST }).HOST).toBe(HOST);
    else expect(catchError(() => parseConfig([], { HOST }), ConfigError).variable).toBe('HOST');
  });

  it('reads env and lets matching kebab-case flags win', () => {
    const c = parseConfig(
      ['--products', 'ETH-USD, BTC-USD', '--sink=firehose'],
      { PRODUCTS: 'SOL-USD', SINK: 'local', INTERVAL_MS: '2000', SPOOL_DIR: '/var/spool/x', FIREHOSE_STREAM_NAME: 's' },
      '/w',
    );
    expect(c.PRODUCTS).toEqual(['ETH-USD', 'BTC-USD']);
    expect(c.SINK).toBe('firehose');
    expect(c.INTERVAL_MS).toBe(2000);
    expect(c.SPOOL_DIR).toBe('/var/spool/x');
  });

  it('names the variable, the value and the flag of a bad value', () => {
    expect(() => parseConfig([], { METRICS_PORT: '70000' })).toThrowError(
      /^METRICS_PORT="70000": .*\(flag --metrics-port\)/,
    );
    expect(() => parseConfig([], { PRODUCTS: 'BTC-USD,BTC-USD' })).toThrowError(/PRODUCTS=.*listed twice/);
    expect(() => parseConfig([], { RAW_BUCKET: 'Bad_Bucket' })).toThrowError(/RAW_BUCKET=.*bucket name/);
  });

  it('refuses a product count and rate that the Coinbase limit cannot serve, and says why', () => {
    expect(() => parseConfig([], { PRODUCTS: 'BTC-USD,ETH-USD,SOL-USD', SOURCE: 'spot' })).toThrowError(
      /needs 3 requests\/s but the spot source may make 2.78\/s .* raise INTERVAL_MS to at least 1080/,
    );
    // 16 products every 2 s fit 10 req/s on average, but they all go at the same instant: more than a burst of 15
    const sixteen = Array.from({ length: 16 }, (_, i) => `C${String.fromCharCode(65 + i)}X-USD`).join(',');
    expect(() => parseConfig([], { PRODUCTS: sixteen, INTERVAL_MS: '2000' })).toThrowError(/bursts of 15/);
    expect(parseConfig([], { PRODUCTS: 'BTC-USD,ETH-USD', INTERVAL_MS: '200' }).INTERVAL_MS).toBe(200);
  });
});
