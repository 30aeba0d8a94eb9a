import { catchError } from '@btc-etl/testing';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKSPACE_ROOT } from './assets';
import { CdkApprovalError, approvalLevel, deployArgs } from './cdk-deploy';
import { InfraError } from './infra.errors';

describe('deployArgs', () => {
  it.each([
    ['unset', {}, 'broadening'],
    ['empty', { CDK_APPROVAL: '' }, 'broadening'],
    ['broadening', { CDK_APPROVAL: 'broadening' }, 'broadening'],
    ['never (CI)', { CDK_APPROVAL: 'never' }, 'never'],
  ])('asks for approval level %s -> %s', (_case, env, level) => {
    expect(deployArgs('BtcEtlData', env, ['-c', 'namePrefix=btc-etl-dev'])).toEqual([
      'deploy',
      'BtcEtlData',
      '--require-approval',
      level,
      '--no-notices',
      '--no-version-reporting',
      '-c',
      'namePrefix=btc-etl-dev',
    ]);
  });

  it('refuses any other CDK_APPROVAL, naming the variable and the value', () => {
    const error = catchError(() => approvalLevel({ CDK_APPROVAL: 'any-change' }), CdkApprovalError);
    expect(error.data).toEqual({ variable: 'CDK_APPROVAL', value: 'any-change' });
    expect(error.message).toMatch(/CDK_APPROVAL.*"any-change"/);
  });

  it('refuses a --require-approval of its own (the level has one switch)', () => {
    expect(catchError(() => deployArgs('BtcEtlData', {}, ['--require-approval=never']), InfraError).message).toMatch(
      /CDK_APPROVAL/,
    );
  });
});

describe('infra deploy targets', () => {
  const project = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'infra/project.json'), 'utf8')) as {
    targets: Record<string, { options?: { command?: string } }>;
  };
  const deployTargets = Object.entries(project.targets).filter(([name]) => name.startsWith('deploy-'));

  it('every one goes through the approval-asking CLI, none passes --require-approval itself', () => {
    expect(deployTargets.map(([name]) => name).sort()).toEqual(
      [
        'deploy-backup',
        'deploy-backup-replica',
        'deploy-data',
        'deploy-extractor',
        'deploy-ops',
        'deploy-query',
      ].sort(),
    );
    for (const [name, target] of deployTargets) {
      expect(target.options?.command, name).toMatch(
        /^tsx --tsconfig infra\/tsconfig\.json infra\/src\/cdk-deploy\.cli\.ts BtcEtl[A-Za-z]+$/,
      );
    }
  });

  it(
    "the extractor's deploy target calls the same CLI directly (a " +
      'nested `nx run` would take `-c` for its own --configuration)',
    () => {
      const extractor = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'apps/extractor/project.json'), 'utf8')) as {
        targets: Record<string, { options?: { command?: string } }>;
      };
      expect(extractor.targets.deploy?.options?.command).toBe(
        'tsx --tsconfig infra/tsconfig.json infra/src/cdk-deploy.cli.ts BtcEtlExtractor',
      );
    },
  );

  // the dry run through the CLI as the targets call it (tsx in a child process)
  const dryRun = (env: NodeJS.ProcessEnv, ...args: string[]) =>
    spawnSync(
      'npx',
      ['tsx', '--tsconfig', 'infra/tsconfig.json', 'infra/src/cdk-deploy.cli.ts', 'BtcEtlOps', '--dry-run', ...args],
      {
        cwd: WORKSPACE_ROOT,
        encoding: 'utf8',
        env: { ...process.env, CDK_APPROVAL: undefined, ...env },
      },
    );

  it('--dry-run prints the cdk command with --require-approval broadening, or never under CDK_APPROVAL=never', () => {
    const asked = dryRun({}, '-c', 'alarmEmail=oncall@example.com');
    expect(asked.status).toBe(0);
    expect(asked.stdout).toContain(
      'dry run, would run: cdk deploy BtcEtlOps --require-approval broadening --no-notices --no-version-reporting -c ' +
        'alarmEmail=oncall@example.com',
    );
    const ci = dryRun({ CDK_APPROVAL: 'never' });
    expect(ci.stdout).toContain('cdk deploy BtcEtlOps --require-approval never');
  });

  it('exits 2 naming CDK_APPROVAL when it holds anything else', () => {
    const bad = dryRun({ CDK_APPROVAL: 'yes' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/CDK_APPROVAL must be .*got "yes"/);
  });
});
