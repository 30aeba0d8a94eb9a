import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// The built runner (the test target depends on build), started as `backup-lambda:serve` starts it.
const root = resolve(import.meta.dirname, '../../../..');
const dist = join(root, 'dist/apps/backup-lambda');

beforeAll(() => {
  if (!existsSync(join(dist, 'serve.mjs'))) throw new Error('run `npx nx run backup-lambda:build` first');
});

function serve(env: Record<string, string>) {
  return spawnSync(process.execPath, [join(dist, 'serve.mjs')], {
    env: { ...process.env, RAW_BUCKET: '', BACKUP_BUCKET: '', SQS_QUEUE_URL: '', OBJECT_STORE: '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('serve: no default bucket names against S3', () => {
  it('with a queue and neither bucket set, exits 2 naming RAW_BUCKET and BACKUP_BUCKET', () => {
    const result = serve({ SQS_QUEUE_URL: 'http://127.0.0.1:1/123456789012/events' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('RAW_BUCKET: is required against S3');
    expect(result.stderr).toContain('BACKUP_BUCKET: is required against S3');
  });

  it('with a queue and only BACKUP_BUCKET set, exits 2 naming RAW_BUCKET alone', () => {
    const result = serve({ SQS_QUEUE_URL: 'http://127.0.0.1:1/123456789012/events', BACKUP_BUCKET: 'my-backup' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('RAW_BUCKET: is required against S3');
    expect(result.stderr).not.toContain('BACKUP_BUCKET');
  });

  it('exits 2 naming EXPECTED_BUCKET_OWNER when it is not an account id', () => {
    const result = serve({ EXPECTED_BUCKET_OWNER: 'me' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('EXPECTED_BUCKET_OWNER: must be a 12-digit AWS account id');
  });
});

describe('backup-lambda:serve', () => {
  it('starts plain node, with no inspector unless asked for (NODE_OPTIONS=--inspect=127.0.0.1:9229)', () => {
    const project = JSON.parse(readFileSync(join(root, 'apps/backup-lambda/project.json'), 'utf8')) as {
      targets: { serve: { executor: string; options: { command: string } } };
    };
    const { executor, options } = project.targets.serve;
    expect(executor).toBe('nx:run-commands'); // @nx/js:node would start Node with --inspect on 9229
    expect(options.command).toBe('node dist/apps/backup-lambda/serve.mjs');
  });
});
