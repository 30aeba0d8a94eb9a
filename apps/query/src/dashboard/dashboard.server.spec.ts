import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { QueryName } from '../queries/query.registry';
import type { RunNamed } from './dashboard.api';
import { createDashboardServer, type DashboardServerOptions } from './dashboard.server';

const publicDir = mkdtempSync(join(tmpdir(), 'dashboard-server-'));
afterAll(() => rmSync(publicDir, { recursive: true, force: true }));
const NOW = Date.parse('2026-11-27T12:00:30Z');
const QUERIES_PER_ANSWER = 5; // ohlc, latest, completeness, gaps, freshness

/** A query runner that counts calls per product and can hold them until released. */
function runner() {
  const calls = new Map<string, number>();
  let gate: Promise<void> = Promise.resolve();
  let open = () => undefined as void;
  const run: RunNamed = async (_name: QueryName, params: unknown) => {
    const product = (params as { product: string }).product;
    calls.set(product, (calls.get(product) ?? 0) + 1);
    await gate;
    return { rows: [], badRecords: 0 };
  };
  return {
    run,
    calls: (product: string) => calls.get(product) ?? 0,
    hold() {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    release: () => open(),
  };
}

let server: Server | undefined;
afterEach(async () => {
  // a failed test may leave requests held: close their connections too rather than wait for them
  server?.closeAllConnections();
  await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  server = undefined;
});
async function start(options: Partial<DashboardServerOptions> & { run: RunNamed }): Promise<string> {
  server = createDashboardServer({ publicDir, refreshS: 1, now: () => NOW, ...options });
  await new Promise<void>((ok) => server?.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const get = (base: string, product: string, interval = '1m') =>
  fetch(`${base}/api/dashboard?product=${product}&interval=${interval}`);

describe('dashboard server: cache and single flight', () => {
  it('computes identical concurrent requests once and serves them all the same answer', async () => {
    const r = runner();
    const base = await start({ run: r.run });
    r.hold();
    const responses = Promise.all(Array.from({ length: 6 }, () => get(base, 'BTC-USD')));
    await expect.poll(() => r.calls('BTC-USD')).toBe(QUERIES_PER_ANSWER);
    r.release();
    const bodies = await Promise.all((await responses).map((res) => res.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(r.calls('BTC-USD')).toBe(QUERIES_PER_ANSWER);
  });

  it('serves an answer again within the TTL and computes it anew after', async () => {
    const r = runner();
    let clock = 0;
    const base = await start({ run: r.run, cache: { ttlMs: 2_000, now: () => clock } });
    expect((await get(base, 'BTC-USD')).status).toBe(200);
    clock = 1_999;
    expect((await get(base, 'BTC-USD')).status).toBe(200);
    expect(r.calls('BTC-USD')).toBe(QUERIES_PER_ANSWER);
    // another interval is another answer
    await get(base, 'BTC-USD', '5m');
    expect(r.calls('BTC-USD')).toBe(2 * QUERIES_PER_ANSWER);
    clock = 2_000 + 1_999;
    await get(base, 'BTC-USD');
    expect(r.calls('BTC-USD')).toBe(3 * QUERIES_PER_ANSWER);
  });

  it('keeps at most maxEntries answers, dropping the least recently used', async () => {
    const r = runner();
    const base = await start({ run: r.run, cache: { maxEntries: 2, now: () => 0 } });
    for (const p of ['AA-USD', 'BB-USD', 'AA-USD', 'CC-USD']) await get(base, p); // BB is the least recently used
    expect([r.calls('AA-USD'), r.calls('BB-USD'), r.calls('CC-USD')]).toEqual([5, 5, 5]);
    await get(base, 'AA-USD');
    await get(base, 'CC-USD');
    await get(base, 'BB-USD');
    expect([r.calls('AA-USD'), r.calls('BB-USD'), r.calls('CC-USD')]).toEqual([5, 10, 5]);
  });
});

describe('dashboard server: bounded work', () => {
  it('runs maxRunning answers, queues maxQueued, and refuses the next with 503 and Retry-After', async () => {
    const r = runner();
    const base = await start({ run: r.run, limits: { maxRunning: 1, maxQueued: 1, retryAfterS: 3 } });
    r.hold();
    const first = get(base, 'AA-USD');
    await expect.poll(() => r.calls('AA-USD')).toBe(QUERIES_PER_ANSWER);
    const second = get(base, 'BB-USD'); // waits for the slot
    const refused = await get(base, 'CC-USD');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(await refused.json()).toEqual({ error: 'the dashboard is busy: try again shortly' });
    expect(r.calls('BB-USD')).toBe(0);
    r.release();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(r.calls('BB-USD')).toBe(QUERIES_PER_ANSWER);
    expect(r.calls('CC-USD')).toBe(0);
    // the refusal is not cached: asked again, it is answered
    expect((await get(base, 'CC-USD')).status).toBe(200);
  });
});

describe('dashboard server: errors', () => {
  it('answers 500 with a request id only, and logs the detail under that id', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const base = await start({
      run: () => Promise.reject(new Error('EACCES: permission denied, open /srv/secret/raw/2026/x')),
      logger,
    });
    const res = await get(base, 'BTC-USD');
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; requestId: string };
    expect(body).toEqual({ error: 'internal error', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(JSON.stringify(body)).not.toContain('secret');
    const logged = lines.map((l) => JSON.parse(l) as { requestId: string; err: { message: string } });
    expect(logged).toHaveLength(1);
    expect(logged[0]?.requestId).toBe(body.requestId);
    expect(logged[0]?.err.message).toContain('/srv/secret');
  });
});
