import { LocalObjectStore } from '@btc-etl/object-store';
import { parseFirehoseKey } from '@btc-etl/s3-keys';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM build script without types
import { buildDashboard } from '../../tools/build-dashboard.mjs';
import { generateObjects, writeObjectsToDir } from '../../test/raw-data.generator';
import { runLocalQuery } from '../engines/local.engine';
import { QUERIES, type QueryName } from '../queries/query.registry';
import type { QueryDefinition, ResultRow } from '../queries/query.types';
import { createDashboardServer } from './dashboard.server';

// A fixed clock three hours into generated data: the page must show what the engine computes from the files.
const START = new Date('2026-11-27T09:00:00Z');
const NOW = Date.parse('2026-11-27T11:59:30Z');
const ARTIFACTS = resolve(__dirname, '../../../../test-results/query');
const CHROMIUM = '/usr/bin/chromium';

let root: string;
let server: Server;
let browser: BrowserContext;
let base: string;
const buckets = { raw: 'btc-etl-raw', backup: 'btc-etl-backup' };

async function run(name: QueryName, params: unknown) {
  const definition = QUERIES[name] as unknown as QueryDefinition<unknown, ResultRow>;
  const { rows, stats } = await runLocalQuery(definition, params, { store: new LocalObjectStore({ root }), buckets });
  return { rows, badRecords: stats.badRecords };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'query-e2e-'));
  const objects = [
    ...generateObjects({
      start: START,
      seconds: 3 * 3600 - 30,
      seed: 3,
      missRate: 0.01,
      holeRate: 0.001,
      badObjectRate: 0.05,
    }),
  ];
  writeObjectsToDir(root, buckets.raw, objects);
  // the backup is 20 minutes behind
  writeObjectsToDir(
    root,
    buckets.backup,
    objects.filter((o) => parseFirehoseKey(o.key).arrival.getTime() < NOW - 20 * 60_000),
  );
  const publicDir = join(root, 'public');
  await buildDashboard(publicDir);
  server = createDashboardServer({ publicDir, run, refreshS: 1, now: () => NOW });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  // a fresh profile per run (playwright passes it as --user-data-dir)
  browser = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
  });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('dashboard in headless Chromium', () => {
  it('shows the candles, latest price, completeness and freshness the engine computes', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    page.on('pageerror', (e) => failed.push(e.message));
    await page.goto(`${base}/`);
    await page.waitForSelector('[data-testid="status"][data-updated]');

    const api = (await (await fetch(`${base}/api/dashboard?product=BTC-USD&interval=1m`)).json()) as {
      from: string;
      to: string;
    };
    const candles = await run(
      'ohlc',
      QUERIES.ohlc.params.parse({ product: 'BTC-USD', interval: '1m', from: api.from, to: api.to }),
    );
    const last = candles.rows[candles.rows.length - 1] as Record<string, string | number>;
    expect(candles.rows.length).toBeGreaterThan(170);
    expect(await page.getAttribute('#chart', 'data-candles')).toBe(String(candles.rows.length));
    expect(await page.getAttribute('[data-testid="legend"]', 'data-bucket')).toBe(last.bucket_start);
    for (const field of ['O', 'H', 'L', 'C'] as const) {
      const want = last[{ O: 'open', H: 'high', L: 'low', C: 'close' }[field]];
      expect(await page.textContent(`[data-testid="legend"] b[data-field="${field}"]`)).toBe(want);
    }
    // the chart really drew something: its canvas is there and sized
    const canvas = await page.$('#chart canvas');
    expect((await canvas?.boundingBox())?.width ?? 0).toBeGreaterThan(800);

    const latest = await run(
      'latest',
      QUERIES.latest.params.parse({
        product: 'BTC-USD',
        from: '2026-11-26T12:00:00Z',
        to: '2026-11-27T12:00:00Z',
        now: new Date(NOW),
      }),
    );
    expect(await page.textContent('[data-testid="latest-price"]')).toBe(latest.rows[0]?.price);

    const cells = await page.$$eval('[data-testid="completeness-strip"] .cell', (els) =>
      els.map((e) => Number((e as HTMLElement).dataset.completeness)),
    );
    expect(cells.length).toBe(3);
    expect(cells.every((c) => c > 0.9 && c < 1)).toBe(true);
    expect(await page.$$eval('[data-testid="gaps"] tbody tr', (rows) => rows.length)).toBeGreaterThan(0);
    const gaps = await run(
      'gaps',
      QUERIES.gaps.params.parse({ product: 'BTC-USD', from: '2026-11-27T09:00:00Z', to: api.to }),
    );
    const settled = gaps.rows.filter((g) => Date.parse(g.start as string) < NOW - 5_000);
    expect(await page.textContent('[data-testid="gap-count"]')).toContain(`${settled.length} gaps`);

    const rawAge = Number(await page.getAttribute('[data-testid="freshness-raw"]', 'data-age-s'));
    const backupAge = Number(await page.getAttribute('[data-testid="freshness-backup"]', 'data-age-s'));
    expect(rawAge).toBeLessThan(60);
    expect(backupAge).toBeGreaterThan(20 * 60 - 60);
    expect(await page.getAttribute('[data-testid="freshness-raw"]', 'class')).toContain('ok');
    expect(await page.getAttribute('[data-testid="freshness-backup"]', 'class')).toContain('bad');

    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-1m.png'), fullPage: true });

    // switching the interval redraws with 5m candles
    await page.click('[data-interval="5m"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="legend"]')?.textContent?.startsWith('5m'));
    const api5 = (await (await fetch(`${base}/api/dashboard?product=BTC-USD&interval=5m`)).json()) as {
      from: string;
      to: string;
    };
    const candles5 = await run(
      'ohlc',
      QUERIES.ohlc.params.parse({ product: 'BTC-USD', interval: '5m', from: api5.from, to: api5.to }),
    );
    expect(await page.getAttribute('#chart', 'data-candles')).toBe(String(candles5.rows.length));
    expect(await page.getAttribute('[data-interval="5m"]', 'aria-pressed')).toBe('true');

    // it refreshes by itself (every second here): wait for the next request itself, not a 2.2 s window a loaded
    // machine may not fit a refresh into (the 60 s only catches a dashboard that never refreshes)
    const first = await page.getAttribute('[data-testid="status"]', 'data-updated');
    const refresh = await page.waitForRequest((r) => r.url().includes('/api/dashboard'), { timeout: 60_000 });
    expect(new URL(refresh.url()).searchParams.get('interval')).toBe('5m');
    expect(first).toBe(new Date(NOW).toISOString().replace(/\.\d{3}Z$/, '.000Z'));
    expect(failed).toEqual([]);
    await page.close();
  }, 120_000);

  it('never draws a refresh answered for the interval it switched away from', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('[data-testid="status"][data-updated]');
    const five = ((await (await fetch(`${base}/api/dashboard?product=BTC-USD&interval=5m`)).json()) as { candles: [] })
      .candles.length;
    // hold the timer's next 1m refresh in flight until the switch to 5m has been drawn
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const oneMinuteInFlight = new Promise<void>((r) => (held = r));
    await page.route(
      (url) => url.pathname === '/api/dashboard' && url.searchParams.get('interval') === '1m',
      async (route) => {
        held();
        await released;
        await route.continue();
      },
    );
    await oneMinuteInFlight;
    // every value the chart shows from now on
    await page.evaluate(() => {
      const chart = document.querySelector<HTMLElement>('#chart') as HTMLElement;
      const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
      new MutationObserver(() => seen.push(chart.dataset.candles ?? '')).observe(chart, {
        attributes: true,
        attributeFilter: ['data-candles'],
      });
    });
    // the click lands while the 1m refresh is in flight: the page runs the 5m refresh once that one has answered
    await page.click('[data-interval="5m"]');
    release();
    await page.waitForFunction(
      (n) => document.querySelector<HTMLElement>('#chart')?.dataset.candles === String(n),
      five,
      { timeout: 60_000 },
    );
    expect(Number(await page.getAttribute('#chart', 'data-stale-dropped'))).toBeGreaterThan(0);
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen.filter((v) => v !== String(five))).toEqual([]);
    expect(await page.getAttribute('#chart', 'data-candles')).toBe(String(five));
    expect(await page.textContent('[data-testid="legend"]')).toMatch(/^5m/);
    await page.close();
  });
  it('waits for its previous refresh before starting the next', async () => {
    // a server that answers the first refresh and holds every later one until released; no cache, so every refresh
    // asks it
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let answered = 0;
    const slow = createDashboardServer({
      publicDir: join(root, 'public'),
      refreshS: 1,
      now: () => NOW,
      cache: { ttlMs: 0 },
      limits: { maxRunning: 100, maxQueued: 100 },
      run: async (name, params) => {
        if (answered >= 5) await gate; // five queries make one answer
        answered++;
        return run(name, params);
      },
    });
    await new Promise<void>((ok) => slow.listen(0, '127.0.0.1', ok));
    const address = slow.address();
    const slowBase = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const page = await browser.newPage();
    try {
      // the page's own count of dashboard fetches, and its timers on a clock the test moves
      await page.addInitScript(() => {
        const w = window as unknown as { dashboardFetches: number };
        w.dashboardFetches = 0;
        const original = window.fetch.bind(window);
        window.fetch = (input, init) => {
          if (String(input).includes('/api/dashboard')) w.dashboardFetches++;
          return original(input, init);
        };
      });
      await page.clock.install({ time: NOW });
      await page.clock.pauseAt(NOW + 1_000);
      const fetches = () => page.evaluate(() => (window as unknown as { dashboardFetches: number }).dashboardFetches);
      const isDashboard = (r: { url(): string }) => r.url().includes('/api/dashboard');

      await page.goto(`${slowBase}/`);
      await page.waitForSelector('[data-testid="status"][data-updated]', { state: 'attached', timeout: 20_000 });
      await page.waitForSelector('body[data-refresh="waiting"]', { state: 'attached', timeout: 20_000 });
      // one refresh period: the second refresh starts, and the server holds it
      const second = page.waitForRequest(isDashboard);
      await page.clock.runFor(1_000);
      await second;
      // ten more periods pass while it is unanswered: no third request
      await page.clock.runFor(10_000);
      expect(await fetches()).toBe(2);

      release();
      await page.waitForSelector('body[data-refresh="waiting"]', { state: 'attached', timeout: 20_000 });
      const third = page.waitForRequest(isDashboard);
      await page.clock.runFor(1_000);
      await third;
      expect(await fetches()).toBe(3);
    } finally {
      release();
      await page.close();
      slow.closeAllConnections();
      await new Promise((ok) => slow.close(ok));
    }
  }, 60_000);

  it('answers bad parameters with 400 naming the parameter', async () => {
    const res = await fetch(`${base}/api/dashboard?interval=2m`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'interval' });
  });
});
