import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCfnLint, runCfnLint } from '../cfn-lint';
import { policyStatements, synthInfra, type SynthesizedInfra } from '../test/synth-infra';

// Two shapes: another account in another region (bucket policy for the source role), and another region of the
// same, env-agnostic account (no bucket policy: the role's own policy is enough).
let crossAccount: SynthesizedInfra;
let crossRegion: SynthesizedInfra;
beforeAll(() => {
  crossAccount = synthInfra({
    account: '111122223333',
    region: 'us-east-1',
    backupReplicaAccount: '222233334444',
    backupReplicaRegion: 'eu-west-1',
  });
  crossRegion = synthInfra({ backupReplicaRegion: 'eu-central-1', backupObjectLockDays: '30' });
});
afterAll(() => {
  crossAccount.cleanup();
  crossRegion.cleanup();
});

interface CfnResource {
  DeletionPolicy?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- template JSON
  Properties: Record<string, unknown> & { [key: string]: any };
}
const resources = (infra: SynthesizedInfra, stack: 'data' | 'backupReplica', type: string) =>
  Object.entries(infra.templates[stack]?.findResources(type) ?? {}) as [string, CfnResource][];
const replicaTemplate = (infra: SynthesizedInfra) => {
  const template = infra.templates.backupReplica;
  if (!template) throw new Error('no BtcEtlBackupReplica stack was synthesized');
  return template;
};
/** The single resource of a type (fails when there is not exactly one). */
const only = (found: [string, CfnResource][]): CfnResource => {
  expect(found).toHaveLength(1);
  return (found[0] as [string, CfnResource])[1];
};

describe('backup replica (context backupReplicaRegion / backupReplicaAccount)', () => {
  it('puts the replica stack in the replica account and region, deployed before the Data stack', () => {
    const replica = crossAccount.stacks.backupReplica;
    expect(replica?.stackName).toBe('BtcEtlBackupReplica');
    expect(crossAccount.assembly.getStackByName('BtcEtlBackupReplica').environment).toMatchObject({
      account: '222233334444',
      region: 'eu-west-1',
    });
    expect(crossAccount.stacks.data.dependencies.map((s) => s.stackName)).toContain('BtcEtlBackupReplica');
    expect(crossRegion.assembly.getStackByName('BtcEtlBackupReplica').environment.region).toBe('eu-central-1');
  });

  it('creates the replica bucket versioned, under the same Object Lock, retained, named as the rule names it', () => {
    const bucket = only(resources(crossAccount, 'backupReplica', 'AWS::S3::Bucket'));
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketName: 'btc-etl-backup-replica-222233334444-eu-west-1',
      VersioningConfiguration: { Status: 'Enabled' },
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 90 } } },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    const regional = only(resources(crossRegion, 'backupReplica', 'AWS::S3::Bucket'));
    expect(regional.Properties.ObjectLockConfiguration.Rule.DefaultRetention).toEqual({ Mode: 'GOVERNANCE', Days: 30 });
    expect(JSON.stringify(regional.Properties.BucketName)).toContain('-eu-central-1');
  });

  it('replicates every backup version (not deletions) to that bucket with a role of its own', () => {
    const backup = crossAccount.templates.data.toJSON().Resources.BackupBucket26B8E51C.Properties;
    expect(backup.ReplicationConfiguration).toEqual({
      Role: { 'Fn::GetAtt': [expect.stringMatching(/^BackupBucketReplicationRole/), 'Arn'] },
      Rules: [
        {
          Id: 'backup-replica',
          Status: 'Enabled',
          Priority: 1,
          Filter: { Prefix: '' },
          DeleteMarkerReplication: { Status: 'Disabled' },
          Destination: {
            Account: '222233334444',
            Bucket: {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':s3:::btc-etl-backup-replica-222233334444-eu-west-1'],
              ],
            },
          },
        },
      ],
    });
    const role = only(
      resources(crossAccount, 'data', 'AWS::IAM::Role').filter(([id]) => id.startsWith('BackupBucketReplicationRole')),
    );
    expect(role.Properties.RoleName).toBe('btc-etl-backup-replication');
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' } },
    ]);
  });

  it("grants the replication role S3's documented actions, with the Object Lock reads, and nothing else", () => {
    const statements = policyStatements(crossAccount.templates.data)
      .filter((s) => s.logicalId.startsWith('BackupBucketReplicationRole'))
      .map((s) => [s.statement.Sid, s.statement.Action, JSON.stringify(s.statement.Resource)]);
    expect(statements).toEqual([
      [
        'ReadReplicationConfiguration',
        ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        expect.stringMatching(/BackupBucket26B8E51C","Arn"\]\}$/),
      ],
      [
        'ReadSourceVersions',
        [
          's3:GetObjectVersionForReplication',
          's3:GetObjectVersionAcl',
          's3:GetObjectVersionTagging',
          's3:GetObjectRetention',
          's3:GetObjectLegalHold',
        ],
        expect.stringContaining('BackupBucket26B8E51C'),
      ],
      [
        'WriteReplicas',
        ['s3:ReplicateObject', 's3:ReplicateTags'],
        expect.stringContaining('backup-replica-222233334444-eu-west-1/*'),
      ],
    ]);
  });

  it("lets only the source account's replication role write the replica of another account", () => {
    const allows = policyStatements(replicaTemplate(crossAccount))
      .map((s) => s.statement)
      .filter((s) => s.Effect === 'Allow');
    expect(allows.map((s) => s.Sid)).toEqual(['ReplicateFromSourceAccount', 'CheckVersioningFromSourceAccount']);
    for (const s of allows) {
      expect(JSON.stringify(s.Principal)).toContain(':iam::111122223333:root');
      expect(JSON.stringify(s.Condition)).toContain(':iam::111122223333:role/btc-etl-backup-replication');
    }
    // same account: the role's identity policy is all S3 needs
    expect(policyStatements(replicaTemplate(crossRegion)).filter((s) => s.statement.Effect === 'Allow')).toEqual([]);
  });

  it('passes cfn-lint in both shapes', () => {
    const templates = [crossAccount, crossRegion].flatMap((infra) =>
      infra.assembly.stacks
        .filter((s) => s.stackName === 'BtcEtlBackupReplica' || s.stackName === 'BtcEtlData')
        .map((s) => join(infra.outdir, s.templateFile)),
    );
    expect(templates).toHaveLength(4);
    const result = runCfnLint(templates, {
      command: findCfnLint(),
      regions: ['us-east-1', 'eu-west-1', 'eu-central-1'],
    });
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });
});
