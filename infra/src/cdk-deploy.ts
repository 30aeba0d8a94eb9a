import { InfraError } from './infra.errors';

/** `cdk deploy` flags every deploy target passes: synthesis never reaches the network for notices or versions. */
export const CDK_QUIET_FLAGS = ['--no-notices', '--no-version-reporting'] as const;

/** A bad `CDK_APPROVAL`: the value it had. */
export class CdkApprovalError extends InfraError<{ variable: 'CDK_APPROVAL'; value: string }> {
  constructor(value: string) {
    super(
      `CDK_APPROVAL must be unset or "broadening" (cdk asks before IAM or security-group changes that widen access) ` +
        `or "never" (CI, where nobody can answer), got ${JSON.stringify(value)}`,
      { variable: 'CDK_APPROVAL', value },
    );
  }
}

/**
 * The `--require-approval` level: `broadening` unless `CDK_APPROVAL=never` says this is CI. Without a terminal, cdk
 * then fails a broadening change instead of applying it unseen.
 * @throws CdkApprovalError for any other value
 */
export function approvalLevel(env: NodeJS.ProcessEnv): 'broadening' | 'never' {
  const value = env.CDK_APPROVAL ?? '';
  if (value === '' || value === 'broadening') return 'broadening';
  if (value === 'never') return 'never';
  throw new CdkApprovalError(value);
}

/**
 * The arguments of `cdk deploy` for one stack, the caller's own (context `-c key=value`, `--profile`, ...) appended.
 * @example deployArgs('BtcEtlData', process.env, ['-c', 'namePrefix=btc-etl-dev'])
 * // ['deploy', 'BtcEtlData', '--require-approval', 'broadening', '--no-notices', '--no-version-reporting',
 * //  '-c', ...]
 */
export function deployArgs(stackId: string, env: NodeJS.ProcessEnv, extra: readonly string[] = []): string[] {
  if (extra.some((a) => a === '--require-approval' || a.startsWith('--require-approval=')))
    throw new InfraError('pass the approval level through CDK_APPROVAL, not --require-approval');
  return ['deploy', stackId, '--require-approval', approvalLevel(env), ...CDK_QUIET_FLAGS, ...extra];
}
