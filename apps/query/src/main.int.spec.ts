import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateObjects, writeObjectsToDir } from '../test/raw-data.generator';

// The CLI as a user runs it: a process, env for config, stdout for rows, stderr for stats and errors, exit codes.
const run = promisify(execFile);
const workspace = resolve(__dirname, '../../..');
const tsx = join(workspace, 'node_modules/.bin/tsx');
let dataDir: string;

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(tsx, [join(workspace, 'apps/query/src/main.ts'), ...args], {
      cwd: dataDir,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: join(workspace, 'apps/query/tsconfig.json'),
        DATA_DIR: dataDir,
        ...env,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'query-cli-'));
  writeObjectsToDir(
    dataDir,
    'btc-etl-raw',
    generateObjects({ start: new Date('2026-11-27T00:00:00Z'), seconds: 2 * 3600, seed: 5, badObjectRate: 0.3 }),
  );
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('query CLI', () => {
  it('writes candles as JSON to --out and reports what it read on stderr', async () => {
    const r = await cli([
      'ohlc',
      '--product',
      'BTC-USD',
      '--interval',
      '1m',
      '--from',
      '2026-11-27T00:00:00Z',
      '--to',
      '2026-11-27T01:00:00Z',
      '--engine',
      'local',
      '--format',
      'json',
      '--out',
      'candles.json',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const candles = JSON.parse(readFileSync(join(dataDir, 'candles.json'), 'utf8')) as {
      bucket_start: string;
      ticks: number;
    }[];
    expect(candles).toHaveLength(60);
    expect(candles[0]?.bucket_start).toBe('2026-11-27T00:00:00.000Z');
    expect(candles.every((c) => c.ticks > 0)).toBe(true);
    expect(candles.reduce((n, c) => n + c.ticks, 0)).toBeGreaterThan(3400);
    expect(r.stderr).toMatch(
      new RegExp(
        String.raw`^local [^:\n]*: \d+ objects read .* skipped \d+ bad records \(first: ` +
          String.raw`btc-etl-raw/raw/2026/11/27/0\d/btc-etl-ticks-1-`,
        'm',
      ),
    );
  });

  it('prints CSV on stdout without --out', async () => {
    const r = await cli([
      'completeness',
      '--product',
      'BTC-USD',
      '--from',
      '2026-11-27T00:00:00Z',
      '--to',
      '2026-11-27T02:00:00Z',
      '--format',
      'csv',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('hour,expected,ok,missed,missing,completeness');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual([
      '2026-11-27T00:00:00.000Z,3600',
      '2026-11-27T01:00:00.000Z,3600',
    ]);
  });

  it('exits 2 with a clear message on bad input, and on a bad environment variable', async () => {
    const bad = await cli(['ohlc', '--product', 'BTC-USD', '--interval', '7m']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: --interval: expected one of 1m, 5m, 15m, 1h, 1d');
    const env = await cli(['latest'], { RAW_BUCKET: 'Not_A_Bucket' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('error: RAW_BUCKET: not a valid S3 bucket name');
  });

  it.each([['latest'], ['serve'], ['ohlc', '--product', 'BTC-USD', '--interval', '1m', '--engine', 'athena']])(
    'with OBJECT_STORE=s3 guesses no bucket name: %s exits 2 naming each missing variable',
    async (...args) => {
      const r = await cli(args, { OBJECT_STORE: 's3', BACKUP_BUCKET: 'acme-backup', PORT: '0' });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('error: RAW_BUCKET: is required with OBJECT_STORE=s3');
      expect(r.stderr).toContain('; SILVER_BUCKET: is required with OBJECT_STORE=s3');
      expect(r.stderr).not.toContain('BACKUP_BUCKET');
    },
  );
});
