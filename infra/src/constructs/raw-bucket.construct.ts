import { RAW_PREFIX } from '@btc-etl/s3-keys';
import { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IDependable } from 'constructs';
import { secureBucket } from './secure-bucket';

export interface RawBucketProps {
  bucketName: string;
  /** Days before raw objects move to STANDARD_IA (S3's minimum is 30). */
  transitionDays: number;
  /** Where `raw/` ObjectCreated events go, and the queue policy that must exist before S3 validates it. */
  notify: { queue: sqs.IQueue; sendPolicy: IDependable };
}

/** The bucket Firehose delivers into: `raw/` objects announce themselves on the queue, and age into STANDARD_IA. */
export class RawBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: RawBucketProps) {
    super(scope, id);
    // 'Default': the bucket keeps the logical id it had before this construct existed
    this.bucket = secureBucket(this, 'Default', {
      bucketName: props.bucketName,
      lifecycleRules: [
        {
          id: 'raw-to-infrequent-access',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.transitionDays) },
          ],
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
    // The notification is set on the bucket itself rather than through CDK's addEventNotification, which deploys a
    // custom-resource Lambda (with an AWS-managed policy) only to call PutBucketNotification. S3 validates the
    // destination when the bucket is created, so the bucket waits for the queue policy, which names the bucket by
    // its (known) ARN instead of referencing it: no cycle.
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = {
      queueConfigurations: [
        {
          event: 's3:ObjectCreated:*',
          queue: props.notify.queue.queueArn,
          filter: { s3Key: { rules: [{ name: 'prefix', value: RAW_PREFIX }] } },
        },
      ],
    };
    cfnBucket.node.addDependency(props.notify.sendPolicy);
  }
}
