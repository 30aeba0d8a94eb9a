import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { InfraError } from './infra.errors';

/**
 * Checks cfn-lint skips, each with its reason. Everything else fails the run, warnings included.
 * - W3005 (redundant DependsOn): CDK's Lambda Function always adds a DependsOn on its role next to the role's
 *   GetAtt, so every CDK Lambda trips it; it is harmless and not ours to remove.
 */
export const CFN_LINT_IGNORED_CHECKS = ['W3005'] as const;

/** How to start cfn-lint: a program and the arguments that come before the template paths. */
export interface CfnLintCommand {
  file: string;
  args: string[];
}

export interface CfnLintResult {
  /** cfn-lint's exit code: 0 clean; bit 2 errors, 4 warnings, 8 informational, 1 a crash. */
  exitCode: number;
  output: string;
  templates: string[];
}

const works = (file: string, args: string[]) => {
  try {
    execFileSync(file, args, { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
};

/**
 * Finds cfn-lint. It lives in the machine image's Python (pyenv), and Nx puts /usr/bin first on PATH, where Debian's
 * python3 has no cfn-lint: so every `cfn-lint` on PATH and pyenv's shim are tried, then every python3 that can
 * import `cfnlint`. `CFN_LINT` (a cfn-lint executable) overrides the search.
 * @throws InfraError saying how to install it
 */
export function findCfnLint(env: NodeJS.ProcessEnv = process.env): CfnLintCommand {
  // Each probe starts a Python (about a second through a pyenv shim): search once per distinct environment.
  const key = JSON.stringify([env.CFN_LINT, env.PATH, env.PYENV_ROOT]);
  const known = found.get(key);
  if (known) return known;
  const command = searchCfnLint(env);
  found.set(key, command);
  return command;
}

const found = new Map<string, CfnLintCommand>();

function searchCfnLint(env: NodeJS.ProcessEnv): CfnLintCommand {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  const shims = join(env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'shims');
  const scripts = [env.CFN_LINT, ...dirs.map((d) => join(d, 'cfn-lint')), join(shims, 'cfn-lint')];
  for (const file of new Set(scripts)) {
    if (file && existsSync(file) && works(file, ['--version'])) return { file, args: [] };
  }
  const runner = 'import sys; from cfnlint.runner import main; sys.argv[0] = "cfn-lint"; sys.exit(main())';
  for (const python of new Set([...dirs.map((d) => join(d, 'python3')), join(shims, 'python3')])) {
    if (existsSync(python) && works(python, ['-c', 'import cfnlint'])) return { file: python, args: ['-c', runner] };
  }
  throw new InfraError(
    "cfn-lint not found on PATH, in pyenv's shims or in any python3: install it with `python3 -m pip install " +
      "'cfn-lint==1.51.*'` (or set CFN_LINT)",
  );
}

/**
 * Lint CloudFormation templates with cfn-lint (all checks but `CFN_LINT_IGNORED_CHECKS`).
 * @example const { exitCode, output } =
 *   runCfnLint(['dist/infra/BtcEtlData.template.json'], { regions: ['us-east-1'] });
 */
export function runCfnLint(
  templates: string[],
  options: { regions?: string[]; command?: CfnLintCommand } = {},
): CfnLintResult {
  if (templates.length === 0) throw new InfraError('runCfnLint: no templates given');
  const command = options.command ?? findCfnLint();
  const args = [
    ...command.args,
    '--format',
    'parseable',
    '--regions',
    ...(options.regions ?? ['us-east-1']),
    '--ignore-checks',
    ...CFN_LINT_IGNORED_CHECKS,
    '--',
    ...templates,
  ];
  const run = spawnSync(command.file, args, { encoding: 'utf8', timeout: 120_000 });
  if (run.error)
    throw new InfraError(
      `cfn-lint could not run (${command.file}): ${run.error.message}`,
      { command: command.file },
      { cause: run.error },
    );
  return { exitCode: run.status ?? 1, output: `${run.stdout}${run.stderr}`.trim(), templates };
}
