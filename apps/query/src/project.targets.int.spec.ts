import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// query's own Nx targets as a user runs them: serve without the inspector, deploy handing CDK context to cdk.
const workspace = resolve(__dirname, '../../..');
const run = promisify(execFile);

interface Target {
  options?: Record<string, unknown>;
  configurations?: Record<string, Record<string, unknown>>;
  dependsOn?: unknown[];
}
const targets = () =>
  (JSON.parse(readFileSync(join(workspace, 'apps/query/project.json'), 'utf8')) as { targets: Record<string, Target> })
    .targets;

describe('query:serve', () => {
  it('starts without the Node inspector (the @nx/js:node default is localhost:9229); serve:inspect opts in', () => {
    const serve = targets().serve;
    expect(serve?.options).toMatchObject({ inspect: false, args: ['serve'] });
    expect(serve?.configurations?.inspect).toEqual({ inspect: 'inspect' });
  });
});

describe('query:deploy', () => {
  it('calls the deploy CLI itself, after the four builds CDK synthesizes', () => {
    const deploy = targets().deploy;
    expect(deploy?.options?.command).toBe('tsx --tsconfig infra/tsconfig.json infra/src/cdk-deploy.cli.ts BtcEtlQuery');
    expect(deploy?.dependsOn).toEqual(
      ['backup-lambda', 'extractor', 'query', 'compactor'].map((project) => ({ projects: [project], target: 'build' })),
    );
  });

  it(
    'hands `-c key=value` context to cdk (a nested `nx run` took -c for its own ' + '--configuration and lost it)',
    async () => {
      // the Nx run of a user, without the builds (the dry run stops at the hand-over to cdk, before any synth)
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NX_')));
      const { stdout } = await run(
        'npx',
        [
          'nx',
          'run',
          'query:deploy',
          '--exclude-task-dependencies',
          '--skip-nx-cache',
          '--output-style=static',
          '--',
          '--dry-run',
          '-c',
          'namePrefix=btc-etl-dev',
          '-c',
          'queryProbe=1',
        ],
        {
          cwd: workspace,
          env: { ...env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', CDK_APPROVAL: '' },
        },
      );
      expect(stdout).toContain(
        'dry run, would run: cdk deploy BtcEtlQuery --require-approval broadening --no-notices ' +
          '--no-version-reporting -c namePrefix=btc-etl-dev -c queryProbe=1 (in infra/)',
      );
    },
  );
});
