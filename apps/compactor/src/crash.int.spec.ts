import { LocalObjectStore } from '@btc-etl/object-store';
import type { PriceTick } from '@btc-etl/price-schema';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonical, polledTick, putRaw } from '../test/raw.fixtures';
import { readSilver, silverDataFiles } from '../test/silver.reader';

// The built CLI (the test target depends on build), killed with SIGKILL by its own test hook at each step of the
// protocol, then run again: silver must hold exactly the valid records, and the folders only live files.
const MAIN = resolve(__dirname, '../../../dist/apps/compactor/main.js');
const RAW = 'btc-etl-raw';
const SILVER = 'btc-etl-silver';
// event hours just behind the wall clock: the CLI runs with the real clock
const H = Math.floor(Date.now() / 3_600_000) * 3600 - 2 * 3600;

function cli(dataDir: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, SILVER_GC_GRACE_S: '0', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('compactor CLI killed at every step', () => {
  const dirs: string[] = [];
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: run npx nx run compactor:build`);
  });
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it.each(['batch-read', 'data-written', 'manifest-swung', 'quarantine-written', 'state-recorded'])(
    'SIGKILL at %s, then a rerun: the exact set, nothing partial, nothing doubled',
    async (step) => {
      const dir = mkdtempSync(join(tmpdir(), 'compactor-crash-'));
      dirs.push(dir);
      const store = new LocalObjectStore({ root: dir });
      // hour 19 already compacted once, then new and duplicate records for hours 19 and 20 plus a bad line
      const first = Array.from({ length: 40 }, (_, i) => polledTick(H + i * 30));
      await putRaw(store, RAW, new Date((H + 1300) * 1000), first);
      expect(cli(dir, ['run']).status).toBe(0);
      const second = Array.from({ length: 40 }, (_, i) => polledTick(H + 3000 + i * 30)); // H:50 .. H+1:09:30
      // late data: it arrives now (the current arrival hour, after the first run), for event hours H and H+1
      await putRaw(store, RAW, new Date(), [...second, first[0] as PriceTick, 'garbage']);

      const killed = cli(dir, ['run'], { COMPACTOR_CRASH_AT: step });
      expect(killed.signal).toBe('SIGKILL');
      // whatever a reader sees between the crash and the rerun is a complete generation
      const between = canonical(await readSilver(store, SILVER));
      const ids = new Set(between.map((t) => t.record_id));
      expect(ids.size).toBe(between.length);
      expect(first.every((t) => ids.has(t.record_id))).toBe(true);

      const rerun = cli(dir, ['run']);
      expect(rerun.status, rerun.stderr).toBe(0);
      const expected = canonical(new Map([...first, ...second].map((t) => [t.record_id, t])).values());
      expect(canonical(await readSilver(store, SILVER))).toEqual(expected);
      // one live file per partition (a leftover from the killed run is collected on the rerun)
      expect((await silverDataFiles(store, SILVER)).length).toBe(2);
      const report = JSON.parse(rerun.stdout.trim().split('\n').at(-1) ?? '{}').report;
      // a rerun after the state was recorded has nothing to do; before, it redoes the object (dedup keeps it exact)
      expect(report.objectsRead).toBe(step === 'state-recorded' ? 0 : 1);
    },
  );

  it.each([
    [['frobnicate'], 'argv'],
    [['run', '--from', '2026-11-27T19:00:00Z'], '--to'],
    [['run', '--from', '2026-11-27T19:30:00Z', '--to', '2026-11-27T21:00:00Z'], '--from'],
    [['run', '--bogus'], 'argv'],
  ])('bad flags %j exit 2 naming %s', (args, named) => {
    const result = cli(tmpdir(), args);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(named);
  });

  it('a bad environment variable exits 2 naming it; S3 without bucket names too', () => {
    const interval = cli(tmpdir(), ['run'], { COMPACT_INTERVAL_S: 'soon' });
    expect(interval.status).toBe(2);
    expect(interval.stderr).toContain('COMPACT_INTERVAL_S');
    const s3 = cli(tmpdir(), ['run'], { OBJECT_STORE: 's3', RAW_BUCKET: 'some-raw' });
    expect(s3.status).toBe(2);
    expect(s3.stderr).toContain('SILVER_BUCKET');
  });
});
