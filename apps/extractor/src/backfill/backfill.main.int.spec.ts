import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PriceTickSchema } from '@btc-etl/price-schema';
import { startFakeCoinbase, type FakeCoinbase } from '@btc-etl/testing';
import { SpoolLease } from '../delivery/spool.lease';

const root = resolve(import.meta.dirname, '../../../..');
const run = promisify(execFile);
const NOW = Date.parse('2026-11-27T12:00:00.000Z');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

let fake: FakeCoinbase;
let data: string;
beforeEach(async () => {
  fake = await startFakeCoinbase({ clock: () => NOW });
  data = mkdtempSync(join(tmpdir(), 'backfill-cli-'));
});
afterEach(async () => {
  await fake.stop();
  rmSync(data, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const env = {
    ...process.env,
    SINK: 'local',
    DATA_DIR: data,
    COINBASE_EXCHANGE_URL: fake.exchangeUrl,
    BUFFER_INTERVAL_S: '0',
    LOG_LEVEL: 'warn',
  };
  return run(
    'npx',
    ['tsx', '--tsconfig', 'apps/extractor/tsconfig.json', 'apps/extractor/src/backfill/backfill.main.ts', ...args],
    { cwd: root, env },
  ).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('extractor:backfill CLI', () => {
  it('writes every candle of the range through the local sink, riding out a 429 with Retry-After', async () => {
    fake.setFaults([{ endpoint: 'candles', nth: 1, fault: { kind: 'rate-limit', retryAfter: 1 } }]);
    const out = await cli([
      '--product',
      'BTC-USD',
      '--from',
      '2026-11-27T06:00:00Z',
      '--to',
      '2026-11-27T11:00:00Z',
      '--granularity',
      '60',
    ]);
    expect(out.code, out.stderr).toBe(0);
    const raw = files(join(data, 'btc-etl-raw', 'raw'));
    const records = raw.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => PriceTickSchema.parse(JSON.parse(l))),
    );
    expect(new Set(records.map((r) => r.record_id)).size).toBe(300);
    expect(records.every((r) => r.source === 'coinbase-candles' && r.backfilled === true)).toBe(true);
    expect(fake.requestsTo({ endpoint: 'candles' }).map((r) => r.status)).toEqual([429, 200]);
    expect(readdirSync(join(data, '.backfill'))).toEqual([]); // done: no checkpoint left
  }, 60_000);

  it('refuses to run (exit 75) on a backfill spool another process holds, naming it', async () => {
    const held = await SpoolLease.acquire({ dir: join(data, '.spool', 'extractor-backfill'), runId: 'other-backfill' });
    try {
      const out = await cli(['--product', 'BTC-USD', '--from', '2026-11-27T06:00:00Z', '--to', '2026-11-27T07:00:00Z']);
      expect(out.code, out.stderr).toBe(75);
      expect(out.stderr).toContain(`pid ${process.pid} on ${hostname()}, run other-backfill`);
      expect(fake.requestsTo({ endpoint: 'candles' })).toEqual([]);
    } finally {
      held.release();
    }
  }, 60_000);

  it('exits 2 naming the bad flag', async () => {
    const out = await cli(['--product', 'BTC-USD', '--from', 'yesterday', '--to', '2026-11-27T11:00:00Z']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--from');
  }, 60_000);
});
