// `npx nx run compactor:deploy [-- --dry-run]`: deploy the compactor's own stack (infra's BtcEtlCompactor) from the
// built zip, with `--require-approval broadening` unless CDK_APPROVAL=never (CI). The dry run works offline: it
// checks that the zip loads and exports `handler`, then synthesizes the stack.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const STACK_ID = 'BtcEtlCompactor';
const root = resolve(import.meta.dirname, '../../..');
const zip = join(root, 'dist/apps/compactor/compactor-lambda.zip');
const infraDir = join(root, 'infra');

function fail(message: string, code = 1): never {
  process.stderr.write(`compactor:deploy: ${message}\n`);
  process.exit(code);
}

function checkZip(): void {
  if (!existsSync(zip)) fail(`${zip} is missing: run \`npx nx run compactor:build\``);
  const scratch = mkdtempSync(join(tmpdir(), 'compactor-zip-'));
  try {
    execFileSync('python3', ['-m', 'zipfile', '-e', zip, scratch]);
    const probe = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(join(scratch, 'index.mjs'))}); ` +
          `if (typeof m.handler !== 'function') process.exit(3);`,
      ],
      {
        encoding: 'utf8',
        // the handler validates its config at import, as at a cold start: give it what Lambda would
        env: {
          ...process.env,
          AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
          AWS_LAMBDA_FUNCTION_NAME: 'deploy-probe',
          RAW_BUCKET: 'deploy-probe-raw',
          SILVER_BUCKET: 'deploy-probe-silver',
        },
      },
    );
    if (probe.status !== 0) fail(`index.mjs in ${zip} does not load or export handler: ${probe.stderr.trim()}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function cdk(args: string[]): void {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TSX_')));
  const result = spawnSync('npx', ['cdk', ...args, '--no-notices', '--no-version-reporting'], {
    cwd: infraDir,
    stdio: 'inherit',
    env: { ...env, CDK_DISABLE_VERSION_CHECK: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });
  if (result.status !== 0) fail(`cdk ${args[0]} failed (exit ${result.status})`, result.status ?? 1);
}

const { values } = parseArgs({ options: { 'dry-run': { type: 'boolean', default: false } }, strict: true });
checkZip();
if (values['dry-run']) {
  cdk(['synth', STACK_ID, '--quiet']);
  process.stdout.write(`dry run: ${STACK_ID} synthesized from ${zip}; nothing deployed\n`);
} else {
  const approval = process.env.CDK_APPROVAL === 'never' ? 'never' : 'broadening';
  cdk(['deploy', STACK_ID, '--require-approval', approval]);
}
