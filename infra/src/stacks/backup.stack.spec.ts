import { Match } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceAssets } from '../assets';
import { policyStatements, synthInfra, type SynthesizedInfra } from '../test/synth-infra';

let infra: SynthesizedInfra;
beforeAll(() => {
  infra = synthInfra({
    backupBatchSize: '50',
    backupBatchWindowSeconds: '10',
    backupTimeoutSeconds: '30',
    backupMaxConcurrency: '3',
    logRetentionDays: '7',
  });
});
afterAll(() => infra.cleanup());
const backup = () => infra.templates.backup;

/**
 * `{ 'Fn::ImportValue': 'BtcEtlData:ExportsOutputFnGetAttRawBucket...' }` -> true when it imports that Data resource.
 */
const importsFromData = (value: unknown, logicalIdPrefix: string) =>
  JSON.stringify(value).includes(`"Fn::ImportValue":"BtcEtlData:ExportsOutput`) &&
  JSON.stringify(value).includes(logicalIdPrefix);

describe('BackupStack', () => {
  it('runs the backup-lambda build output on Node.js 22, arm64, with the configured timeout', () => {
    backup().hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'btc-etl-backup',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 30,
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('^LogGroup') } },
    });
    // The code is the zip from dist/apps/backup-lambda, staged byte for byte (CDK neither rebuilds nor re-zips it).
    const files = Object.values(infra.assetManifest(infra.stacks.backup.stackName).files);
    const code = files.find((f) => f.displayName === 'Function/Code');
    expect(code?.source.packaging).toBe('file');
    const staged = readFileSync(join(infra.outdir, code?.source.path ?? 'missing'));
    expect(staged.equals(readFileSync(workspaceAssets().backupLambdaZip))).toBe(true);
  });

  it(
    'names both buckets and the account that must own them (RAW_BUCKET scopes events, ' +
      'EXPECTED_BUCKET_OWNER every call)',
    () => {
      const fn = Object.values(backup().findResources('AWS::Lambda::Function'))[0]?.Properties;
      const env = fn.Environment.Variables;
      expect(Object.keys(env).sort()).toEqual(
        ['BACKUP_BUCKET', 'EXPECTED_BUCKET_OWNER', 'POWERTOOLS_SERVICE_NAME', 'RAW_BUCKET'].sort(),
      );
      expect(importsFromData(env.BACKUP_BUCKET, 'BackupBucket')).toBe(true);
      expect(importsFromData(env.RAW_BUCKET, 'RawBucket')).toBe(true);
      expect(env.EXPECTED_BUCKET_OWNER).toEqual({ Ref: 'AWS::AccountId' });
      expect(env.POWERTOOLS_SERVICE_NAME).toBe('backup-lambda');
    },
  );

  it('keeps its logs in its own log group with the configured retention', () => {
    backup().hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/btc-etl-backup',
      RetentionInDays: 7,
    });
  });

  it(
    'consumes the raw-objects queue in batches with a window, ' +
      'at most backupMaxConcurrency at once, reporting per-message failures',
    () => {
      backup().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BatchSize: 50,
        MaximumBatchingWindowInSeconds: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 3 },
      });
      const mapping = Object.values(backup().findResources('AWS::Lambda::EventSourceMapping'))[0]?.Properties;
      expect(importsFromData(mapping.EventSourceArn, 'RawObjectsQueue')).toBe(true);
    },
  );

  it('may read raw/ objects, write backups of them and consume the queue, nothing else', () => {
    const statements = policyStatements(backup()).map((s) => s.statement);
    const byActions = Object.fromEntries(statements.map((s) => [[s.Action].flat().join(','), s.Resource]));
    expect(Object.keys(byActions).sort()).toEqual(
      [
        'logs:CreateLogStream,logs:PutLogEvents',
        's3:GetObject',
        's3:PutObject,s3:AbortMultipartUpload,s3:GetObject',
        's3:ListBucket',
        'sqs:ReceiveMessage,sqs:ChangeMessageVisibility,sqs:GetQueueUrl,sqs:DeleteMessage,sqs:GetQueueAttributes',
      ].sort(),
    );
    expect(importsFromData(byActions['s3:GetObject'], 'RawBucket')).toBe(true);
    expect(JSON.stringify(byActions['s3:GetObject'])).toContain('/raw/*');
    const write = byActions['s3:PutObject,s3:AbortMultipartUpload,s3:GetObject'];
    expect(importsFromData(write, 'BackupBucket')).toBe(true);
    expect(importsFromData(write, 'RawBucket')).toBe(false);
    // The copy into the Object Lock bucket takes its default retention: no retention or legal-hold rights at all.
    expect(JSON.stringify(statements)).not.toMatch(/Retention|LegalHold|BypassGovernance/);
    expect(
      importsFromData(
        byActions[
          'sqs:ReceiveMessage,sqs:ChangeMessageVisibility,sqs:GetQueueUrl,sqs:DeleteMessage,sqs:GetQueueAttributes'
        ],
        'RawObjectsQueue',
      ),
    ).toBe(true);
  });

  it('uses its own role, without the account-wide AWSLambdaBasicExecutionRole', () => {
    const roles = Object.values(backup().findResources('AWS::IAM::Role'));
    expect(roles).toHaveLength(1);
    expect(roles[0]?.Properties.ManagedPolicyArns).toBeUndefined();
  });
});
