import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { objectLockRetention } from '../constructs/backup-bucket.construct';
import { secureBucket } from '../constructs/secure-bucket';
import type { InfraConfig } from '../infra.config';

export interface BackupReplicaStackProps extends StackProps {
  config: InfraConfig;
  /**
   * The replica bucket's name
   * (the source's replication rule names it by string: stacks in two regions share no references).
   */
  bucketName: string;
  /** Set when the replica lives in another account: the source account and its replication role may write. */
  source?: { account: string; roleName: string };
}

/**
 * The replica of the backup bucket, deployed in `backupReplicaRegion` / `backupReplicaAccount` before the Data stack
 * (the source's replication rule needs it to exist): versioned, under the same Object Lock as the source, retained
 * on stack deletion. Replicas keep the source versions' own retention.
 */
export class BackupReplicaStack extends Stack {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: BackupReplicaStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.bucket = secureBucket(this, 'ReplicaBucket', {
      bucketName: props.bucketName,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: objectLockRetention(config.backupObjectLockMode, config.backupObjectLockDays),
      lifecycleRules: [
        {
          id: 'replica-noncurrent-expiry',
          noncurrentVersionExpiration: Duration.days(config.backupNoncurrentExpirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
    if (props.source) {
      const roleArn = `arn:${this.partition}:iam::${props.source.account}:role/${props.source.roleName}`;
      // The principal is the source account, narrowed to the role by condition: a bucket policy naming a role that
      // does not exist yet is refused, and this stack deploys before the role's.
      const fromSourceRole = (sid: string, actions: string[], resources: string[]) =>
        new iam.PolicyStatement({
          sid,
          principals: [new iam.AccountPrincipal(props.source?.account)],
          actions,
          resources,
          conditions: { ArnEquals: { 'aws:PrincipalArn': roleArn } },
        });
      this.bucket.addToResourcePolicy(
        fromSourceRole(
          'ReplicateFromSourceAccount',
          ['s3:ReplicateObject', 's3:ReplicateTags'],
          [this.bucket.arnForObjects('*')],
        ),
      );
      this.bucket.addToResourcePolicy(
        fromSourceRole(
          'CheckVersioningFromSourceAccount',
          ['s3:GetBucketVersioning', 's3:ListBucket'],
          [this.bucket.bucketArn],
        ),
      );
    }
    new CfnOutput(this, 'ReplicaBucketName', { value: this.bucket.bucketName, description: 'backup replica bucket' });
  }
}
