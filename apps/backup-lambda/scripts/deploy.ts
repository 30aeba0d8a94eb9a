// `npx nx run backup-lambda:deploy [-- --dry-run]`: deploy this function's own stack (infra's BtcEtlBackup) from the
// built zip. The dry run works offline: it checks the zip, synthesizes the stack and prints what would be deployed.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const STACK_ID = 'BtcEtlBackup';
const MAX_ZIP_BYTES = 500 * 1024;
const root = resolve(import.meta.dirname, '../../..');
const distDir = join(root, 'dist/apps/backup-lambda');
const infraDir = join(root, 'infra');

class DeployError extends Error {
  override name = 'DeployError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The zip must hold `index.mjs` at its root, fit the size budget, and that file must export `handler`. */
function validateZip(zipPath: string): { bytes: number; sha256: string; entries: string[] } {
  if (!existsSync(zipPath)) throw new DeployError(`${zipPath} is missing: run \`npx nx run backup-lambda:build\``);
  const bytes = statSync(zipPath).size;
  if (bytes > MAX_ZIP_BYTES)
    throw new DeployError(
      `${zipPath} is ${(bytes / 1024).toFixed(1)} KiB, over the ${MAX_ZIP_BYTES / 1024} KiB budget`,
    );
  const listing = execFileSync('python3', ['-m', 'zipfile', '-l', zipPath], { encoding: 'utf8' });
  const entries = listing
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
  if (!entries.includes('index.mjs'))
    throw new DeployError(`${zipPath} has no index.mjs at its root (entries: ${entries.join(', ')})`);
  // Import the very bytes in the zip (extracted to a scratch folder) in a fresh Node, as Lambda's runtime would.
  const scratch = mkdtempSync(join(tmpdir(), 'backup-lambda-zip-'));
  try {
    execFileSync('python3', ['-m', 'zipfile', '-e', zipPath, scratch]);
    const probe = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(join(scratch, 'index.mjs'))}); if (typeof m.handler !== 'function') ` +
          `{ console.error('no handler export'); process.exit(3); }`,
      ],
      {
        encoding: 'utf8',
        // The handler validates its config at import, as at a cold start: give it the one required name (the probe
        // only loads the module; it never calls S3).
        env: {
          ...process.env,
          AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
          BACKUP_BUCKET: process.env.BACKUP_BUCKET || 'deploy-probe-backup',
        },
      },
    );
    if (probe.status !== 0)
      throw new DeployError(
        `index.mjs in the zip does not load or export ` +
          `\`handler\`: ${probe.stderr.trim().split('\n').slice(-3).join(' ')}`,
      );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { bytes, sha256: createHash('sha256').update(readFileSync(zipPath)).digest('hex'), entries };
}

function cdk(args: string[]): void {
  if (!existsSync(join(infraDir, 'cdk.json')))
    throw new DeployError(`no CDK app at ${infraDir} (infra/cdk.json): the ${STACK_ID} stack lives there`);
  // tsx hands its --tsconfig to children through TSX_* variables; infra's own tsx must find infra's tsconfig instead.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TSX_')));
  const result = spawnSync('npx', ['cdk', ...args, '--no-notices', '--no-version-reporting'], {
    cwd: infraDir,
    stdio: 'inherit',
    env,
  });
  if (result.status !== 0)
    throw new DeployError(`cdk ${args[0]} ${STACK_ID} failed (exit ${result.status ?? result.signal})`);
}

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/** What the synthesized stack would create for this function, in a few lines. */
function describeTemplate(templatePath: string): string[] {
  const template = JSON.parse(readFileSync(templatePath, 'utf8')) as { Resources?: Record<string, CfnResource> };
  const resources = Object.values(template.Resources ?? {});
  const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function')?.Properties ?? {};
  const mapping = resources.find((r) => r.Type === 'AWS::Lambda::EventSourceMapping')?.Properties ?? {};
  const env = (fn.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.Type, (counts.get(r.Type) ?? 0) + 1);
  return [
    `function: runtime ${String(fn.Runtime)}, handler ${String(fn.Handler)}, ${String(fn.MemorySize)} MB, ` +
      `timeout ${String(fn.Timeout)} s, ${JSON.stringify(fn.Architectures ?? ['x86_64'])}`,
    `environment: ${Object.keys(env).join(', ') || '(none)'}`,
    `event source: batch size ${String(mapping.BatchSize)}, response ` +
      `types ${JSON.stringify(mapping.FunctionResponseTypes ?? [])}`,
    `resources: ${[...counts.entries()].map(([t, n]) => `${n} ${t}`).join(', ')}`,
  ];
}

/**
 * `--require-approval broadening` (cdk asks before IAM or security-group changes that widen access) unless
 * CDK_APPROVAL=never, the flag for CI, which has no one to ask.
 */
function approvalArgs(env: NodeJS.ProcessEnv): string[] {
  const value = env.CDK_APPROVAL ?? '';
  if (value === '' || value === 'broadening') return ['--require-approval', 'broadening'];
  if (value === 'never') return ['--require-approval', 'never'];
  throw new DeployError(
    `CDK_APPROVAL must be "never" (CI) or unset/"broadening" (ask before security-broadening changes), ` +
      `got ${JSON.stringify(value)}`,
    2,
  );
}

function main(): void {
  const { values } = parseArgs({
    options: {
      'dry-run': { type: 'boolean', default: false },
      zip: { type: 'string', default: join(distDir, 'backup-lambda.zip') },
    },
  });
  const deployArgs = ['deploy', STACK_ID, ...approvalArgs(process.env)];
  const zipPath = resolve(values.zip);
  if (!values['dry-run'] && zipPath !== join(distDir, 'backup-lambda.zip')) {
    throw new DeployError('--zip is for dry runs only: the stack deploys dist/apps/backup-lambda/backup-lambda.zip');
  }
  const zip = validateZip(zipPath);
  console.log(
    `zip ok: ${zipPath} (${(zip.bytes / 1024).toFixed(1)} KiB, sha256 ${zip.sha256.slice(0, 16)}…, ` +
      `entries ${zip.entries.join(', ')}, exports handler)`,
  );
  console.log(`deploy command: cdk ${deployArgs.join(' ')} (in infra/)`);
  if (!values['dry-run']) {
    cdk(deployArgs);
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'backup-lambda-synth-'));
  try {
    cdk(['synth', STACK_ID, '--quiet', '--output', out]);
    const template = join(out, `${STACK_ID}.template.json`);
    if (!existsSync(template)) throw new DeployError(`cdk synth wrote no ${STACK_ID}.template.json`);
    console.log(`dry run: would deploy stack ${STACK_ID} (cdk ${deployArgs.join(' ')} in infra/)`);
    for (const line of describeTemplate(template)) console.log(`  ${line}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  if (!(error instanceof DeployError)) throw error;
  console.error(`deploy: ${error.message}`);
  process.exit(error.exitCode);
}
