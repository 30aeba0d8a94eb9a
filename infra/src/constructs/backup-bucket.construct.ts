import { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { secureBucket } from './secure-bucket';

export interface BackupBucketProps {
  bucketName: string;
  /** Days before backup objects move to GLACIER_IR. */
  transitionDays: number;
  /** Days an overwritten (noncurrent) version is kept. */
  noncurrentExpirationDays: number;
}

/** The backup Lambda's target: versioned, aging into Glacier Instant Retrieval. */
export class BackupBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: BackupBucketProps) {
    super(scope, id);
    // 'Default': the bucket keeps the logical id it had before this construct existed
    this.bucket = secureBucket(this, 'Default', {
      bucketName: props.bucketName,
      versioned: true,
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
    });
  }
}
