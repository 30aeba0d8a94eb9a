import { createObjectStore } from '@btc-etl/object-store';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The built CLI (the test target depends on build), as `backup-lambda:reconcile` runs it.
const dist = join(resolve(import.meta.dirname, '../../../..'), 'dist/apps/backup-lambda');
let tmp: string;

beforeAll(async () => {
  if (!existsSync(join(dist, 'reconcile.mjs'))) throw new Error('run `npx nx run backup-lambda:build` first');
  tmp = await mkdtemp(join(tmpdir(), 'reconcile-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [join(dist, 'reconcile.mjs'), ...args], {
    env: { ...process.env, RAW_BUCKET: '', BACKUP_BUCKET: '', OBJECT_STORE: '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('reconcile CLI: scope by time', () => {
  it('--from/--to copies only the Firehose hour folders of [from, to)', async () => {
    const dataDir = join(tmp, 'by-time');
    const store = createObjectStore({ kind: 'local', root: dataDir });
    for (const hour of ['18', '19', '20', '21']) await store.put('btc-etl-raw', `raw/2026/11/27/${hour}/a.json`, hour);

    const result = run(['--from', '2026-11-27T19:15:00Z', '--to', '2026-11-27T21:00:00Z'], { DATA_DIR: dataDir });

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      `reconcile ${dataDir}/btc-etl-raw/raw/2026/11/27/19/ .. raw/2026/11/27/20/ (2 hours) ` +
        `-> ${dataDir}/btc-etl-backup/(same hours): scanned 2, up to date 0, copied 2`,
    );
    const backedUp = [];
    for await (const o of store.listAll('btc-etl-backup')) backedUp.push(o.key);
    expect(backedUp).toEqual(['raw/2026/11/27/19/a.json', 'raw/2026/11/27/20/a.json']);
  });

  it.each([
    [['--prefix', 'raw/', '--from', '2026-11-27T00:00:00Z', '--to', '2026-11-28T00:00:00Z'], /cannot be combined/],
    [['--from', '2026-11-27T00:00:00Z'], /--from needs --to/],
    [['--from', 'last tuesday', '--to', '2026-11-28T00:00:00Z'], /--from "last tuesday" is not an ISO date/],
  ])('exits 2 for %j, naming the flag, before touching any store', (args, message) => {
    const result = run(args, { DATA_DIR: join(tmp, 'never-created') });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(existsSync(join(tmp, 'never-created'))).toBe(false);
  });
});

describe('reconcile CLI: no default bucket names against S3', () => {
  it('--store s3 without RAW_BUCKET and BACKUP_BUCKET exits 2 naming both', () => {
    const result = run(['--store', 's3', '--prefix', 'raw/'], {});
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('RAW_BUCKET: is required against S3');
    expect(result.stderr).toContain('BACKUP_BUCKET: is required against S3');
  });
});
