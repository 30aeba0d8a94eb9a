import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { recordId } from '@btc-etl/price-schema';
import { startFakeCoinbase, type FakeCoinbase } from '@btc-etl/testing';
import { missingSeconds, readLocalRaw } from '../test/raw-bucket';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// The real artefact: the bundle `extractor:build` makes (the test target depends on build, so it is built once per
// run, not again here), run with plain node, as in the container.
const bundle = join(root, 'dist/apps/extractor/main.js');
beforeAll(() => {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npx nx run extractor:build\` first`);
});

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
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'extractor-proc-'));
    fake = await startFakeCoinbase({ seed: 9 });
    fake.setFaults([{ endpoint: 'ticker', delayMs: { min: 10, max: 80 } }]);
  });
  afterEach(async () => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function launch(env: Record<string, string> = {}): {
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
    children.push(proc);
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

  it(
    'kill -9 and a restart: ' + 'every tick received before the kill reaches the bucket (counted by record_id)',
    async () => {
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
    },
  );

  describe('one writer per spool directory', { timeout: 90_000 }, () => {
    /** The JSON log line of an event, once it has been written. */
    const logLine = async (run: { output: () => string }, msg: string) =>
      vi.waitFor(
        () => {
          const line = run
            .output()
            .split('\n')
            .find((l) => l.includes(`"msg":"${msg}"`));
          if (!line) throw new Error(`no "${msg}" yet`);
          return JSON.parse(line) as Record<string, unknown> & { lease?: { runId: string; pid: number } };
        },
        { timeout: 30_000, interval: 20 },
      );

    it(
      'a second extractor on the same spool refuses to start (exit 75), ' + 'naming the holder; the first runs on',
      async () => {
        const first = launch();
        const taken = await logLine(first, 'spool lease taken: this process is its only writer');
        await logLine(first, 'extractor started');
        const second = launch();
        const refused = await second.exited;
        expect(refused.code, second.output()).toBe(75);
        expect(second.output()).toMatch(
          new RegExp(
            `in use by another extractor: pid ${first.child.pid} on ${hostname()}, ` +
              `run ${taken.lease?.runId}, since \\d{4}-`,
          ),
        );
        expect(second.output()).not.toContain('extractor started');
        // the holder is unaffected: it keeps polling and still delivers everything at SIGTERM
        const before = scheduled(fake).length;
        await fake.waitForRequests(before + 4, { endpoint: 'ticker' }, 15_000);
        first.child.kill('SIGTERM');
        expect((await first.exited).code, first.output()).toBe(0);
        expect(first.output()).toContain('stopped, everything delivered');
      },
    );

    it('with SPOOL_LOCK_WAIT_S the second waits for the holder to stop, then takes the spool over', async () => {
      const first = launch({ BUFFER_INTERVAL_S: '900' });
      await logLine(first, 'extractor started');
      const second = launch({ SPOOL_LOCK_WAIT_S: '60', BUFFER_INTERVAL_S: '1' });
      await fake.waitForRequests(6, { endpoint: 'ticker' }, 15_000);
      expect(second.output()).not.toContain('spool lease taken');
      first.child.kill('SIGTERM');
      expect((await first.exited).code, first.output()).toBe(0);
      const taken = await logLine(second, 'extractor started');
      expect(taken).toMatchObject({ spoolDir: expect.stringContaining('.spool') });
      second.child.kill('SIGTERM');
      expect((await second.exited).code, second.output()).toBe(0);
    });

    it(
      'kill -9 of the holder does not block the next start: ' + 'it takes the lease over and replays the spool',
      async () => {
        const first = launch({ BUFFER_INTERVAL_S: '900' });
        await logLine(first, 'spool lease taken: this process is its only writer');
        await fake.waitForRequests(6, { endpoint: 'ticker' }, 15_000);
        first.child.kill('SIGKILL');
        expect((await first.exited).signal).toBe('SIGKILL');
        const second = launch({ BUFFER_INTERVAL_S: '1' });
        const taken = await logLine(second, 'spool lease taken: this process is its only writer');
        expect(taken.lease?.pid).toBe(second.child.pid);
        await logLine(second, 'replaying spool from an earlier run');
        await logLine(second, 'extractor started'); // signal handlers are in place from here
        second.child.kill('SIGTERM');
        expect((await second.exited).code, second.output()).toBe(0);
        expect((await readLocalRaw(join(dir, 'data'))).records.length).toBeGreaterThan(0);
      },
    );
  });
});
