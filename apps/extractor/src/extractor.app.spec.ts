import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalObjectStore } from '@btc-etl/object-store';
import { type PriceTick } from '@btc-etl/price-schema';
import { missedTick, okTick } from '@btc-etl/price-schema/testing';
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

  async function start(source: StreamingSource, env: Record<string, string> = {}, emfWrite?: (line: string) => void) {
    dir = mkdtempSync(join(tmpdir(), 'extractor-app-'));
    const config = parseConfig([], { SOURCE: 'ws-ticker', DATA_DIR: join(dir, 'data'), METRICS_PORT: '0', ...env });
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
      ...(emfWrite ? { emfWrite } : {}),
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

  it(
    'METRICS_EMF=true: health lines every interval as EMF, ' + 'counts per interval, delivery lag while undelivered',
    async () => {
      const lines: string[] = [];
      const app = await start(
        {
          kind: 'stream',
          source: 'coinbase-ws-ticker',
          run: (emit, signal) => {
            emit(okTick({ source: 'coinbase-ws-ticker', scheduled_time: null, sequence: 1 }));
            emit(okTick({ source: 'coinbase-ws-ticker', scheduled_time: null, sequence: 2 }));
            emit(missedTick('sequence_gap', { source: 'coinbase-ws-ticker' }));
            return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
          },
        },
        { METRICS_EMF: 'true', METRICS_EMF_INTERVAL_S: '1', BUFFER_INTERVAL_S: '900' },
        (line) => lines.push(line),
      );
      // the first interval's line: the local sink holds everything for 900 s, so the oldest tick is undelivered
      const first = await vi.waitFor(
        () => {
          const doc = lines.map((l) => JSON.parse(l) as Record<string, number | string>).find((d) => !d.Reason);
          if (!doc) throw new Error('no EMF line yet');
          return doc;
        },
        { timeout: 10_000, interval: 20 },
      );
      expect(first).toMatchObject({
        Service: 'extractor',
        TicksDue: 3,
        TicksOk: 2,
        TicksMissed: 1,
        MissedRatio: 1 / 3,
      });
      expect(first.DeliveryLagMs).toBeGreaterThan(0);
      expect(first.SpoolBytes).toBeGreaterThan(0);
      await app.stop();
      const docs = lines.map((l) => JSON.parse(l) as Record<string, number | string>);
      expect(docs.find((d) => d.Reason === 'sequence_gap')).toMatchObject({ TicksMissed: 1 });
      // the last line, written after the drain: everything delivered
      expect(docs.at(-1)).toMatchObject({ DeliveryLagMs: 0, SpoolBytes: 0 });
      expect(docs.filter((d) => !d.Reason).reduce((n, d) => n + Number(d.TicksDue), 0)).toBe(3);
    },
  );
});
