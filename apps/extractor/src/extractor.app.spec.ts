import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '@btc-etl/object-store';
import { type PriceTick } from '@btc-etl/price-schema';
import { okTick } from '@btc-etl/price-schema/testing';
import { parseConfig } from './extractor.config';
import { startExtractor, type RunningExtractor } from './extractor.app';
import { createSinkFactory } from './sinks/sink.factory';
import { silentLogger } from './ops/logger';
import { ExtractorMetrics } from './ops/extractor.metrics';
import type { StreamingSource } from './sources/tick-source.port';

describe('startExtractor with a streaming source', () => {
  let dir: string | undefined;
  let running: RunningExtractor | undefined;
  afterEach(async () => {
    await running?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function start(source: StreamingSource) {
    dir = mkdtempSync(join(tmpdir(), 'extractor-app-'));
    const config = parseConfig([], { SOURCE: 'ws-ticker', DATA_DIR: join(dir, 'data'), METRICS_PORT: '0' });
    running = await startExtractor({
      config,
      logger: silentLogger,
      metrics: new ExtractorMetrics(),
      source,
      sink: createSinkFactory(
        config,
        { kind: 'local', store: new LocalObjectStore({ root: config.DATA_DIR }) },
        {
          logger: silentLogger,
        },
      ),
    });
    return running;
  }

  it('reports a source that dies, so the service never runs on silently without data', async () => {
    const boom = new Error('feed consumer crashed');
    const emitted: PriceTick[] = [];
    const app = await start({
      kind: 'stream',
      source: 'coinbase-ws-ticker',
      run: async (emit) => {
        const tick = okTick({ source: 'coinbase-ws-ticker', scheduled_time: null, sequence: 1 });
        emit(tick);
        emitted.push(tick);
        throw boom;
      },
    });
    await expect(app.failed).resolves.toBe(boom);
    // What the source emitted before it died is still accepted and delivered on stop.
    expect(emitted).toHaveLength(1);
    await expect(app.stop()).resolves.toEqual({ delivered: true });
  });

  it('binds the ops server to loopback unless HOST says otherwise', async () => {
    const app = await start({
      kind: 'stream',
      source: 'coinbase-ws-ticker',
      run: (_emit, signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
    });
    expect(app.opsHost).toBe('127.0.0.1');
    const health = await fetch(`http://127.0.0.1:${app.opsPort}/healthz`);
    expect(health.status).toBe(200);
  });

  it('does not report a source that ends because it was stopped', async () => {
    const app = await start({
      kind: 'stream',
      source: 'coinbase-ws-ticker',
      run: (_emit, signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
    });
    let failed: unknown;
    void app.failed.then((e) => (failed = e));
    await app.stop();
    await new Promise((r) => setTimeout(r, 20));
    expect(failed).toBeUndefined();
  });
});
