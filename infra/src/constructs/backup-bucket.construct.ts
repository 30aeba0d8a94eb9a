import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { secureBucket } from './secure-bucket';

/** S3 Object Lock's retention modes, as the context names them. */
export type ObjectLockMode = 'governance' | 'compliance';

/** Where the backup bucket replicates to: a bucket of a known name in another region and/or account. */
export interface BackupReplicaTarget {
  bucketName: string;
  /** The replica's account; unset: this stack's account. */
  account?: string;
  region: string;
  /** The replication role's name, fixed so a replica bucket in another account can name it in its policy. */
  roleName: string;
}

export interface BackupBucketProps {
  bucketName: string;
  /** Days before backup objects move to GLACIER_IR. */
  transitionDays: number;
  /** Days an overwritten (noncurrent) version is kept; at least `objectLock.days` (checked in the config). */
  noncurrentExpirationDays: number;
  objectLock: { mode: ObjectLockMode; days: number };
  replica?: BackupReplicaTarget;
}

/** The Object Lock default retention of a mode and a number of days. */
export function objectLockRetention(mode: ObjectLockMode, days: number): s3.ObjectLockRetention {
  return mode === 'compliance'
    ? s3.ObjectLockRetention.compliance(Duration.days(days))
    : s3.ObjectLockRetention.governance(Duration.days(days));
}

/**
 * The backup Lambda's target. It must survive what it exists for (a raw object deleted or overwritten, a bad deploy,
 * a leaked key):
 * - versioned, under S3 Object Lock with a default retention, so no version can be deleted or overwritten away
 *   before the retention ends (governance by default: `s3:BypassGovernanceRetention` can still undo a mistake);
 * - noncurrent versions expire only after the lock (the config refuses an expiry inside it);
 * - optionally replicated to a bucket in another region or account ({@link BackupReplicaTarget}), with the
 *   objects' retention; deletions (delete markers) are not replicated.
 */
export class BackupBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly replicationRole?: iam.Role;

  constructor(scope: Construct, id: string, props: BackupBucketProps) {
    super(scope, id);
    const { replica } = props;
    if (replica) {
      this.replicationRole = new iam.Role(this, 'ReplicationRole', {
        roleName: replica.roleName,
        description: `S3 replication of ${props.bucketName} to ${replica.bucketName}`,
        assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
      });
    }
    const destination = replica
      ? s3.Bucket.fromBucketAttributes(this, 'ReplicaBucket', {
          bucketName: replica.bucketName,
          account: replica.account,
          region: replica.region,
        })
      : undefined;
    // 'Default': the bucket keeps the logical id it had before this construct existed
    this.bucket = secureBucket(this, 'Default', {
      bucketName: props.bucketName,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: objectLockRetention(props.objectLock.mode, props.objectLock.days),
      lifecycleRules: [
        {
          id: 'backup-to-glacier-instant-retrieval',
          transitions: [
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(props.transitionDays),
            },
          ],
          noncurrentVersionExpiration: Duration.days(props.noncurrentExpirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      ...(destination && this.replicationRole
        ? {
            replicationRole: this.replicationRole,
            replicationRules: [
              {
                id: 'backup-replica',
                destination,
                priority: 1,
                // a deleted backup stays deleted here only: the replica is what survives a delete
                deleteMarkerReplication: false,
              },
            ],
          }
        : {}),
    });

    if (this.replicationRole && destination) {
      // What S3 replication documents, and no more: CDK's own replication role leaves out the Object Lock reads
      // (GetObjectRetention / GetObjectLegalHold) a locked source needs, and adds the owner override, not needed with
      // BucketOwnerEnforced on the replica.
      this.replicationRole.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadReplicationConfiguration',
          actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
          resources: [this.bucket.bucketArn],
        }),
      );
      this.replicationRole.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadSourceVersions',
          actions: [
            's3:GetObjectVersionForReplication',
            's3:GetObjectVersionAcl',
            's3:GetObjectVersionTagging',
            's3:GetObjectRetention',
            's3:GetObjectLegalHold',
          ],
          resources: [this.bucket.arnForObjects('*')],
        }),
      );
      this.replicationRole.addToPolicy(
        new iam.PolicyStatement({
          sid: 'WriteReplicas',
          actions: ['s3:ReplicateObject', 's3:ReplicateTags'],
          resources: [destination.arnForObjects('*')],
        }),
      );
    }
  }
}
