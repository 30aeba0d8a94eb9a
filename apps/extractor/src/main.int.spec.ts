import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordId } from '@btc-etl/price-schema';
import { startFakeCoinbase, type FakeCoinbase } from '@btc-etl/testing';
import { missingSeconds, readLocalRaw } from '../test/raw-bucket';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
let bundleDir: string;
let bundle: string;

// The real artefact: the bundle `extractor:build` makes, run with plain node, as in the container.
beforeAll(() => {
  bundleDir = mkdtempSync(join(tmpdir(), 'extractor-bundle-'));
  bundle = join(bundleDir, 'main.js');
  execFileSync(process.execPath, ['tools/bundle.mjs', '--entry', 'apps/extractor/src/main.ts', '--outfile', bundle], {
    cwd: root,
    stdio: 'pipe',
  });
}, 60_000);
afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

/** Ticker requests of due ticks (not the warm-up request each run makes before its first tick). */
function scheduled(fake: FakeCoinbase) {
  return fake.requestsTo({ endpoint: 'ticker' }).filter((r) => !String(r.headers['user-agent']).includes('warm-up'));
}

function baseEnv(): NodeJS.ProcessEnv {
  // only what the bundle needs: no inherited DATA_DIR or AWS settings
  return { PATH: process.env.PATH, HOME: process.env.HOME, NODE_NO_WARNINGS: '1' };
}

describe('configuration errors', () => {
  const run = (env: Record<string, string>, args: string[] = []) =>
    spawnSync(process.execPath, [bundle, ...args], {
      env: { ...baseEnv(), ...env },
      encoding: 'utf8',
      timeout: 10_000,
    });

  it.each([
    [{ INTERVAL_MS: 'soon' }, [], /INTERVAL_MS="soon": .*number/],
    [{ SINK: 'kafka' }, [], /SINK="kafka": .*(local|firehose)/],
    [{ PRODUCTS: 'BTCUSD' }, [], /PRODUCTS="BTCUSD": .*product id/],
    [{ COINBASE_EXCHANGE_URL: 'ftp://x' }, [], /COINBASE_EXCHANGE_URL="ftp:\/\/x"/],
    [{}, ['--buffer-size-mb', '500'], /BUFFER_SIZE_MB="500": .*(128|too big)/i],
    [{}, ['--nonsense', '1'], /argv=.*Unknown option '--nonsense'/],
    [
      { PRODUCTS: 'BTC-USD,ETH-USD,SOL-USD', INTERVAL_MS: '250' },
      [],
      /PRODUCTS,INTERVAL_MS.*needs 12 requests\/s.*10\/s/,
    ],
  ])('%j %j exits 2 naming the variable', (env, args, message) => {
    const result = run(env, args);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('the built bundle as a process', () => {
  let dir: string;
  let fake: FakeCoinbase;
  let child: ChildProcess | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'extractor-proc-'));
    fake = await startFakeCoinbase({ seed: 9 });
    fake.setFaults([{ endpoint: 'ticker', delayMs: { min: 10, max: 80 } }]);
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function launch(env: Record<string, string>): {
    child: ChildProcess;
    exited: Promise<{ code: number | null; signal: string | null; at: number }>;
    output: () => string;
  } {
    let output = '';
    const proc = spawn(process.execPath, [bundle], {
      cwd: dir,
      env: {
        ...baseEnv(),
        DATA_DIR: './data',
        COINBASE_EXCHANGE_URL: fake.exchangeUrl,
        COINBASE_API_URL: fake.apiUrl,
        PRODUCTS: 'BTC-USD,ETH-USD',
        INTERVAL_MS: '200',
        METRICS_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child = proc;
    const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((r) =>
      proc.once('exit', (code, signal) => r({ code, signal, at: Date.now() })),
    );
    return { child: proc, exited, output: () => output };
  }

  it('SIGTERM: stops scheduling, flushes everything to the bucket and exits 0 within 10 s', async () => {
    const run = launch({ BUFFER_INTERVAL_S: '900' });
    await fake.waitForRequests(10, { endpoint: 'ticker' }, 15_000);
    const signalledAt = Date.now();
    run.child.kill('SIGTERM');
    const { code, at } = await run.exited;
    expect(code, run.output()).toBe(0);
    expect(at - signalledAt).toBeLessThan(10_000);
    const answered = scheduled(fake).filter((r) => r.status === 200);
    const { records } = await readLocalRaw(join(dir, 'data'));
    // nothing was due to be written for 900 s: all of it came from the shutdown flush
    const ids = new Set(records.map((r) => r.record_id));
    for (const r of answered) {
      const scheduledTime = new Date(Math.floor(r.receivedAt / 200) * 200).toISOString();
      expect(
        ids.has(recordId({ productId: r.productId ?? '', source: 'coinbase-exchange-ticker', scheduledTime })),
      ).toBe(true);
    }
    expect(run.output()).toContain('stopped, everything delivered');
  });

  it('kill -9 and a restart: every tick received before the kill reaches the bucket (counted by record_id)', async () => {
    // first run: objects only every 900 s, so at the kill everything is in the spool and nowhere else
    const first = launch({ BUFFER_INTERVAL_S: '900' });
    await fake.waitForRequests(16, { endpoint: 'ticker' }, 15_000);
    await new Promise((r) => setTimeout(r, 137)); // an arbitrary moment between ticks
    first.child.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    expect((await readLocalRaw(join(dir, 'data'))).records).toEqual([]);
    // answered in time for the process to have received it before the kill
    const received = scheduled(fake).filter((r) => r.status === 200 && (r.answeredAt ?? Infinity) < killed.at - 50);
    expect(received.length).toBeGreaterThanOrEqual(14);

    // second run replays the spool; objects every second
    const second = launch({ BUFFER_INTERVAL_S: '1' });
    await fake.waitForRequests(received.length + 10, { endpoint: 'ticker' }, 15_000);
    second.child.kill('SIGTERM');
    expect((await second.exited).code, second.output()).toBe(0);

    const { records } = await readLocalRaw(join(dir, 'data'));
    const ids = new Set(records.map((r) => r.record_id));
    const lost = received.filter(
      (r) =>
        !ids.has(
          recordId({
            productId: r.productId ?? '',
            source: 'coinbase-exchange-ticker',
            scheduledTime: new Date(Math.floor(r.receivedAt / 200) * 200).toISOString(),
          }),
        ),
    );
    expect(lost).toEqual([]);
    expect(second.output()).toContain('replaying spool from an earlier run');
    // within each run every due second has its record (the gap between the runs is the only hole)
    const firstRunIds = records.filter((r) => Date.parse(r.scheduled_time ?? '') < killed.at);
    for (const product of ['BTC-USD', 'ETH-USD']) {
      expect(
        missingSeconds(
          firstRunIds.filter((r) => r.product_id === product),
          200,
        ),
      ).toEqual([]);
    }
  });
});
