import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCoinbaseClient, TokenBucket } from '@btc-etl/coinbase';
import { LocalObjectStore } from '@btc-etl/object-store';
import { startFakeCoinbase, type FakeCoinbase } from '@btc-etl/testing';
import { missingSeconds, readLocalRaw } from '../test/raw-bucket';
import { coinbasePollingSource } from './sources/coinbase-polling.source';
import { parseConfig } from './extractor.config';
import { startExtractor, type RunningExtractor } from './extractor.app';
import { createSinkFactory } from './sinks/sink.factory';
import { silentLogger } from './ops/logger';
import { ExtractorMetrics } from './ops/extractor.metrics';

describe('extractor against a fake Coinbase, local delivery stream', () => {
  let dir: string;
  let fake: FakeCoinbase;
  let running: RunningExtractor | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'extractor-int-'));
    fake = await startFakeCoinbase({ seed: 3 });
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string>) {
    const config = parseConfig([], {
      DATA_DIR: join(dir, 'data'),
      COINBASE_EXCHANGE_URL: fake.exchangeUrl,
      COINBASE_API_URL: fake.apiUrl,
      INTERVAL_MS: '200',
      REQUEST_TIMEOUT_MS: '180',
      METRICS_PORT: '0',
      BUFFER_INTERVAL_S: '900',
      ...env,
    });
    const metrics = new ExtractorMetrics();
    const client = createCoinbaseClient({
      exchangeUrl: config.COINBASE_EXCHANGE_URL,
      apiUrl: config.COINBASE_API_URL,
      timeoutMs: config.REQUEST_TIMEOUT_MS,
      rateLimiter: new TokenBucket({ ratePerSecond: config.RATE_LIMIT_RPS, burst: config.RATE_LIMIT_BURST }),
    });
    running = await startExtractor({
      config,
      logger: silentLogger,
      metrics,
      source: coinbasePollingSource(client, config.SOURCE === 'spot' ? 'spot' : 'exchange-ticker'),
      sink: createSinkFactory(
        config,
        { kind: 'local', store: new LocalObjectStore({ root: config.DATA_DIR }) },
        {
          logger: silentLogger,
        },
      ),
    });
    return { config, metrics, running };
  }

  it('turns every due tick into one record, failures as missed with their reason, under Firehose keys', async () => {
    fake.setFaults([
      { endpoint: 'ticker', nth: 3, fault: { kind: 'rate-limit' } },
      { endpoint: 'ticker', nth: 5, fault: { kind: 'server-error', status: 503 } },
      { endpoint: 'ticker', nth: 7, fault: { kind: 'truncated-json' } },
      { endpoint: 'ticker', nth: 9, fault: { kind: 'hang' } },
      { endpoint: 'ticker', nth: 11, fault: { kind: 'reset' } },
      { endpoint: 'ticker', delayMs: { min: 20, max: 120 } },
    ]);
    const { running: extractor } = await start({ PRODUCTS: 'BTC-USD,ETH-USD' });
    await fake.waitForRequests(30, { endpoint: 'ticker', productId: 'BTC-USD' }, 15_000);
    await extractor.stop();
    running = undefined;

    const { keys, records } = await readLocalRaw(join(dir, 'data'));
    expect(keys.length).toBeGreaterThan(0);
    for (const product of ['BTC-USD', 'ETH-USD']) {
      const mine = records.filter((r) => r.product_id === product);
      // one record per due second, none missing, none twice
      expect(missingSeconds(mine, 200)).toEqual([]);
      expect(new Set(mine.map((r) => r.record_id)).size).toBe(mine.length);
      for (const r of mine) expect(Date.parse(r.scheduled_time ?? '') % 200).toBe(0);
    }
    const reasons = records.filter((r) => r.status === 'missed').map((r) => r.reason);
    expect(new Set(reasons)).toEqual(new Set(['http_429', 'http_5xx', 'parse_error', 'timeout', 'network']));
    expect(records.filter((r) => r.status === 'ok').length).toBeGreaterThan(40);
  });

  it('records ticks that cannot start as overrun when every slot of a product is busy', async () => {
    fake.setFaults([{ endpoint: 'ticker', delayMs: 150 }]);
    const { running: extractor, metrics } = await start({
      MAX_IN_FLIGHT: '1',
      INTERVAL_MS: '100',
      REQUEST_TIMEOUT_MS: '1000',
    });
    await fake.waitForRequests(6, { endpoint: 'ticker' }, 10_000);
    await extractor.stop();
    running = undefined;
    const { records } = await readLocalRaw(join(dir, 'data'));
    expect(missingSeconds(records, 100)).toEqual([]);
    expect(records.filter((r) => r.reason === 'overrun').length).toBeGreaterThanOrEqual(4);
    expect(records.filter((r) => r.status === 'ok').length).toBeGreaterThanOrEqual(5);
    expect(await metrics.registry.getSingleMetricAsString('extractor_ticks_total')).toMatch(/reason="overrun"/);
  });

  it('serves /healthz and Prometheus /metrics', async () => {
    const { running: extractor } = await start({});
    await fake.waitForRequests(3, { endpoint: 'ticker' }, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    const health = await fetch(`http://127.0.0.1:${extractor.opsPort}/healthz`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as {
      status: string;
      spoolDepth: number;
      lastSuccessAgeS: Record<string, number>;
    };
    expect(body.status).toBe('ok');
    expect(body.spoolDepth).toBeGreaterThan(0); // BUFFER_INTERVAL_S=900: nothing delivered yet, all in the spool
    expect(body.lastSuccessAgeS['BTC-USD']).toBeLessThan(5);
    const metrics = await (await fetch(`http://127.0.0.1:${extractor.opsPort}/metrics`)).text();
    for (const name of [
      'extractor_ticks_due_total',
      'extractor_ticks_total',
      'extractor_spool_depth',
      'extractor_spool_bytes',
      'extractor_poll_latency_seconds_bucket',
      'extractor_delivery_latency_seconds',
      'extractor_last_success_age_seconds',
      'extractor_sink_records_put_total',
    ]) {
      expect(metrics).toContain(name);
    }
    expect((await fetch(`http://127.0.0.1:${extractor.opsPort}/nope`)).status).toBe(404);
  });
});
