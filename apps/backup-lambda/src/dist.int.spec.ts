import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createObjectStore } from '@btc-etl/object-store';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { s3NotificationBody, s3TestEventBody, sqsEvent, sqsRecordFactory } from './__fixtures__/event.factories';
import { createMotoPipeline, motoClients, uniqueName } from './__fixtures__/moto-pipeline';

// These tests exercise what `build` produces (the test target depends on it), not the sources.
const root = resolve(import.meta.dirname, '../../..');
const dist = join(root, 'dist/apps/backup-lambda');
const { s3, sqs } = motoClients();
const BACKUP = uniqueName('backup');
const children: ChildProcess[] = [];

let tmp: string;
beforeAll(async () => {
  if (!existsSync(join(dist, 'index.mjs')))
    throw new Error('dist/apps/backup-lambda is missing: run `npx nx run backup-lambda:build` first');
  await s3.send(new CreateBucketCommand({ Bucket: BACKUP }));
  tmp = await mkdtemp(join(tmpdir(), 'backup-dist-'));
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await rm(tmp, { recursive: true, force: true });
});

async function exists(bucket: string, key: string): Promise<boolean> {
  return s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

/** Until `check` holds: the 60 s only catch a hang (a loaded machine is slow, never wrong). */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  await vi.waitFor(async () => expect(await check()).toBe(true), { timeout: 60_000, interval: 100 });
}

function start(script: string, env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [join(dist, script)], {
    env: { ...process.env, ...env, POWERTOOLS_LOG_LEVEL: 'INFO' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolveExit) => {
    child.once('exit', (code) => resolveExit(code));
    child.kill('SIGTERM');
  });
}

describe('the deployable zip', () => {
  it('holds only index.mjs and stays within 500 KiB', () => {
    const zip = join(dist, 'backup-lambda.zip');
    expect(statSync(zip).size).toBeLessThanOrEqual(500 * 1024);
    const listing = execFileSync('python3', ['-m', 'zipfile', '-l', zip], { encoding: 'utf8' });
    const names = listing
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/)[0])
      .filter(Boolean);
    expect(names).toEqual(['index.mjs']);
  });

  it('index.mjs exports a handler that backs up through moto (bundled SDK, ESM, this Node)', async () => {
    const pipeline = await createMotoPipeline(s3, sqs);
    Object.assign(process.env, { BACKUP_BUCKET: BACKUP, S3_FORCE_PATH_STYLE: 'true', POWERTOOLS_LOG_LEVEL: 'SILENT' });
    const mod = (await import(join(dist, 'index.mjs'))) as {
      handler: (e: SQSEvent, c: Context) => Promise<SQSBatchResponse>;
    };
    const key = 'raw/2026/11/27/19/from the bundle.json';
    const put = await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: key, Body: 'bundled' }));
    const poison = sqsRecordFactory('{"nope":true}');
    const response = await mod.handler(
      sqsEvent(
        sqsRecordFactory(s3TestEventBody()),
        sqsRecordFactory(
          s3NotificationBody({ bucket: pipeline.rawBucket, key, size: 7, etag: (put.ETag ?? '').replace(/"/g, '') }),
        ),
        poison,
      ),
      {} as Context,
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: poison.messageId }] });
    expect(await exists(BACKUP, key)).toBe(true);
  });
});

describe('serve', () => {
  it('with SQS_QUEUE_URL: polls the queue, backs up, and stops cleanly on SIGTERM', async () => {
    const pipeline = await createMotoPipeline(s3, sqs);
    const { child, output } = start('serve.mjs', {
      SQS_QUEUE_URL: pipeline.queueUrl,
      RAW_BUCKET: pipeline.rawBucket,
      BACKUP_BUCKET: BACKUP,
      S3_FORCE_PATH_STYLE: 'true',
      SQS_WAIT_TIME_SECONDS: '1',
    });
    const key = 'raw/2026/11/27/19/served.json';
    await s3.send(new PutObjectCommand({ Bucket: pipeline.rawBucket, Key: key, Body: 'served' }));
    await waitFor(() => exists(BACKUP, key));
    expect(await stop(child)).toBe(0);
    expect(output()).toContain('"message":"batch done"');
  });

  it('without SQS_QUEUE_URL: keeps DATA_DIR/<backup> in step with DATA_DIR/<raw>', async () => {
    const dataDir = join(tmp, 'serve-local');
    const store = createObjectStore({ kind: 'local', root: dataDir });
    const { child } = start('serve.mjs', {
      DATA_DIR: dataDir,
      RECONCILE_INTERVAL_MS: '100',
      SQS_QUEUE_URL: '',
      RAW_BUCKET: '',
      BACKUP_BUCKET: '',
    });
    await store.put('btc-etl-raw', 'raw/2026/11/27/19/local.json', 'local');
    await waitFor(async () => (await store.head('btc-etl-backup', 'raw/2026/11/27/19/local.json')) !== undefined);
    expect(await stop(child)).toBe(0);
  });

  it('exits 2 naming a bad variable', () => {
    const result = spawnSync(process.execPath, [join(dist, 'serve.mjs')], {
      env: { ...process.env, RECONCILE_INTERVAL_MS: 'soon' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('RECONCILE_INTERVAL_MS');
  });
});

describe('reconcile CLI', () => {
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, [join(dist, 'reconcile.mjs'), ...args], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });

  it('on the local store: copies what is missing, prints counts, and a re-run copies nothing', async () => {
    const dataDir = join(tmp, 'reconcile-local');
    const store = createObjectStore({ kind: 'local', root: dataDir });
    await store.put('btc-etl-raw', 'raw/2026/11/27/19/a.json', 'a');
    await store.put('btc-etl-raw', 'raw/2026/11/27/20/b c.json', 'b');
    await store.put('btc-etl-raw', 'raw/2026/12/01/00/outside.json', 'c');
    const env = { DATA_DIR: dataDir, OBJECT_STORE: '', RAW_BUCKET: '', BACKUP_BUCKET: '' };

    const first = run(['--prefix', 'raw/2026/11/'], env);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('scanned 2, up to date 0, copied 2');
    expect(first.stderr).not.toContain('['); // no progress bar without a TTY

    const again = run(['--prefix', 'raw/2026/11/'], env);
    expect(again.stdout).toContain('scanned 2, up to date 2, copied 0');
    expect(await store.head('btc-etl-backup', 'raw/2026/12/01/00/outside.json')).toBeUndefined();
  });

  it('on S3 (moto): lists both buckets and copies the difference', async () => {
    const raw = uniqueName('raw');
    const backup = uniqueName('backup');
    await s3.send(new CreateBucketCommand({ Bucket: raw }));
    await s3.send(new CreateBucketCommand({ Bucket: backup }));
    for (const key of ['raw/2026/11/27/19/x.json', 'raw/2026/11/27/19/ü +.json', 'raw/2026/10/31/23/old.json']) {
      await s3.send(new PutObjectCommand({ Bucket: raw, Key: key, Body: key }));
    }
    await s3.send(new PutObjectCommand({ Bucket: backup, Key: 'raw/2026/11/27/19/x.json', Body: 'stale bytes' }));
    const env = { RAW_BUCKET: raw, BACKUP_BUCKET: backup, S3_FORCE_PATH_STYLE: 'true' };

    const result = run(['--store', 's3', '--prefix', 'raw/2026/11/'], env);
    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain('failed');
    expect(result.stdout).toContain(
      `reconcile s3://${raw}/raw/2026/11/ -> s3://${backup}/raw/2026/11/: scanned 2, up to date 0, copied 2`,
    );
    expect(await exists(backup, 'raw/2026/11/27/19/ü +.json')).toBe(true);
    expect(await exists(backup, 'raw/2026/10/31/23/old.json')).toBe(false);
    expect(run(['--store', 's3', '--prefix', 'raw/2026/11/'], env).stdout).toContain('up to date 2, copied 0');
  });

  it('exits 2 and names the flag for a bad value', () => {
    const result = run(['--store', 'gcs'], {});
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('OBJECT_STORE/--store');
    expect(run(['--bogus'], {}).status).toBe(2);
  });

  it.each(['../../secret/', 'raw/../../', 'raw//', '%2e%2e/', '/etc/'])(
    'exits 2 for a --prefix that could only name unsafe keys: %j',
    (prefix) => {
      const result = run(['--prefix', prefix], { DATA_DIR: join(tmp, 'reconcile-escape') });
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('--prefix');
      expect(result.stdout).toBe('');
    },
  );
});
