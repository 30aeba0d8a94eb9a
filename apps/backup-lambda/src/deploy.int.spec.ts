import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'backup-deploy-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface DryRunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<number>();
afterEach(() => {
  for (const pid of running) process.kill(-pid, 'SIGKILL');
  running.clear();
});

/**
 * The deploy script's dry run, with a chosen zip (the zip checks run before anything reaches CDK). Asynchronous, so
 * vitest's timeout can catch a hang. With `until`, the run stops (its whole process group, cdk included) once stdout
 * holds that text: a check of what is printed before the synth does not pay for a full `cdk synth`.
 */
function dryRun(zip: string, env: Record<string, string> = {}, until?: string): Promise<DryRunResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'apps/backup-lambda/scripts/deploy.ts', '--dry-run', '--zip', zip],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CDK_APPROVAL: '', TSX_TSCONFIG_PATH: 'apps/backup-lambda/tsconfig.json', ...env },
    },
  );
  const pid = child.pid as number;
  running.add(pid);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (until && stdout.includes(until) && running.delete(pid)) process.kill(-pid, 'SIGKILL');
  });
  return new Promise((resolveRun, reject) => {
    child.once('error', reject);
    child.once('close', (status) => {
      running.delete(pid);
      resolveRun({ status, stdout, stderr });
    });
  });
}

describe('deploy --dry-run: zip checks', () => {
  it('refuses a zip without index.mjs at its root, naming what it holds', async () => {
    await writeFile(join(tmp, 'handler.js'), 'export const handler = 1;');
    const zip = join(tmp, 'wrong.zip');
    execFileSync('python3', ['-m', 'zipfile', '-c', zip, join(tmp, 'handler.js')]);
    const result = await dryRun(zip);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('has no index.mjs at its root (entries: handler.js)');
  });

  it('refuses an index.mjs that does not export handler', async () => {
    const dir = join(tmp, 'nohandler');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    await writeFile(join(dir, 'index.mjs'), 'export const main = () => 1;');
    const zip = join(tmp, 'nohandler.zip');
    execFileSync('python3', ['-m', 'zipfile', '-c', zip, 'index.mjs'], { cwd: dir });
    const result = await dryRun(zip);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('does not load or export `handler`');
  });

  it('refuses a missing zip with the build command', async () => {
    const result = await dryRun(join(tmp, 'absent.zip'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('npx nx run backup-lambda:build');
  });

  it(
    'accepts the built zip (index.mjs exporting handler, ' + 'within 500 KiB) before handing over to cdk synth',
    async () => {
      // Stops at the hand-over: the synth after it needs every app's build (infra's assets), which this project's
      // test target does not build, and infra's own suite synthesizes BtcEtlBackup already.
      const line = 'deploy command: cdk deploy BtcEtlBackup --require-approval broadening (in infra/)';
      const result = await dryRun(join(root, 'dist/apps/backup-lambda/backup-lambda.zip'), {}, line);
      expect(result.stdout).toMatch(
        /zip ok: .*backup-lambda\.zip \(\d+\.\d KiB, sha256 [0-9a-f]{16}…, entries index\.mjs, exports handler\)/,
      );
      // cdk asks before security-broadening changes unless CI says otherwise
      expect(result.stdout).toContain(line);
    },
  );
});

describe('deploy --dry-run: approval of security-broadening changes', () => {
  const builtZip = () => join(root, 'dist/apps/backup-lambda/backup-lambda.zip');

  it('CDK_APPROVAL=never (the CI flag) deploys without asking', async () => {
    const line = 'deploy command: cdk deploy BtcEtlBackup --require-approval never (in infra/)';
    const result = await dryRun(builtZip(), { CDK_APPROVAL: 'never' }, line);
    expect(result.stdout).toContain(line);
  });

  it('refuses any other CDK_APPROVAL value with exit 2, naming it', async () => {
    const result = await dryRun(builtZip(), { CDK_APPROVAL: 'yes' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('CDK_APPROVAL must be "never"');
    expect(result.stdout).not.toContain('deploy command');
  });
});
