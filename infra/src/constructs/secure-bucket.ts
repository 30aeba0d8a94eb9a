import { RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * A bucket with the settings every bucket of the pipeline shares: SSE-S3, public access blocked, bucket owner
 * enforced, TLS-only (>= 1.2) policy, retained on stack deletion. `props` adds to or overrides them.
 */
export function secureBucket(scope: Construct, id: string, props: s3.BucketProps): s3.Bucket {
  return new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    // Price history is the product: deleting the stack must never delete it.
    removalPolicy: RemovalPolicy.RETAIN,
    ...props,
  });
}
