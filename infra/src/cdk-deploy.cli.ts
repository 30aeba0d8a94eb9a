import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from './assets';
import { deployArgs } from './cdk-deploy';
import { STACK_IDS } from './infra.app';
import { InfraError } from './infra.errors';

// `npx nx run infra:deploy-<stack> [-- --dry-run] [-- -c key=value ...]`: cdk deploy of one stack, asking before
// security-broadening changes unless CDK_APPROVAL=never (CI). --dry-run prints the command and deploys nothing.
const [stackId, ...rest] = process.argv.slice(2);
const dryRun = rest.includes('--dry-run');
const extra = rest.filter((a) => a !== '--dry-run');
try {
  const known: readonly string[] = Object.values(STACK_IDS);
  if (!stackId || !known.includes(stackId))
    throw new InfraError(
      `usage: cdk-deploy.cli.ts <stack> [--dry-run] [cdk args]; <stack> is one of ${known.join(', ')}`,
    );
  const args = deployArgs(stackId, process.env, extra);
  console.log(`${dryRun ? 'dry run, would run' : 'running'}: cdk ${args.join(' ')} (in infra/)`);
  if (!dryRun) {
    const run = spawnSync('npx', ['cdk', ...args], {
      cwd: join(WORKSPACE_ROOT, 'infra'),
      stdio: 'inherit',
      // tsx hands its --tsconfig to children through TSX_* variables: cdk's own tsx (cdk.json) must find infra's
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TSX_'))),
        CDK_DISABLE_VERSION_CHECK: 'true',
        CDK_DISABLE_CLI_TELEMETRY: 'true',
      },
    });
    process.exit(run.status ?? 1);
  }
} catch (error) {
  if (!(error instanceof InfraError)) throw error;
  console.error(`deploy: ${error.message}`);
  process.exit(2);
}
