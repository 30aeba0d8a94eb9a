import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { secureBucket } from './secure-bucket';
import { keepLogicalId } from './stable-ids';

/** Athena writes query results under this prefix of the results bucket. */
export const ATHENA_RESULTS_PREFIX = 'athena/';

export interface QueryWorkGroupProps {
  workGroupName: string;
  resultsBucketName: string;
  resultsExpirationDays: number;
  bytesScannedCutoffMb: number;
}

/** The Athena workgroup and its results bucket: the result location and the per-query scan cutoff are enforced. */
export class QueryWorkGroup extends Construct {
  readonly resultsBucket: s3.Bucket;
  readonly workGroup: athena.CfnWorkGroup;

  constructor(scope: Construct, id: string, props: QueryWorkGroupProps) {
    super(scope, id);
    this.resultsBucket = secureBucket(this, 'ResultsBucket', {
      bucketName: props.resultsBucketName,
      // Query results are a cache: they expire and may go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      lifecycleRules: [
        {
          id: 'expire-query-results',
          expiration: Duration.days(props.resultsExpirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    keepLogicalId(this.resultsBucket, 'AthenaResultsBucket879938FA');
    keepLogicalId(this.resultsBucket.node.findChild('Policy'), 'AthenaResultsBucketPolicyD63DEF63');

    this.workGroup = new athena.CfnWorkGroup(this, 'Default', {
      name: props.workGroupName,
      description: 'Queries over the raw price records; results and scan limits enforced',
      state: 'ENABLED',
      workGroupConfiguration: {
        // Clients cannot override the result location or the cutoff.
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffMb * 1024 * 1024,
        engineVersion: { selectedEngineVersion: 'AUTO' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/${ATHENA_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: Aws.ACCOUNT_ID,
        },
      },
    });
  }
}
