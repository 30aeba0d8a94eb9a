import { RAW_PREFIX } from '@btc-etl/s3-keys';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../infra.config';
import { pipelineNames } from '../pipeline-names';

export interface BackupStackProps extends StackProps {
  config: InfraConfig;
  /** The backup Lambda's deployment zip (`index.mjs` exporting `handler`). */
  codeZip: string;
  rawBucket: s3.IBucket;
  backupBucket: s3.IBucket;
  /** The raw bucket's ObjectCreated queue. */
  queue: sqs.IQueue;
}

/**
 * The backup Lambda: consumes the raw bucket's ObjectCreated queue in batches, reports per-message failures, and
 * copies each new raw object to the same key in the backup bucket. It can read raw and write backup, nothing else.
 */
export class BackupStack extends Stack {
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: BackupStackProps) {
    super(scope, id, props);
    const { config, rawBucket, backupBucket, queue } = props;
    const functionName = pipelineNames(config.namePrefix).backupFunction;

    // The log group is created here (not by Lambda on first write) so its retention is set and it goes with the stack.
    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // An explicit role instead of the default one: the default attaches AWSLambdaBasicExecutionRole, whose log
    // permissions cover every log group in the account.
    const role = new iam.Role(this, 'Role', {
      description: `${functionName}: read raw, write backup`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRaw',
        // GetObject covers HeadObject and being a CopyObject / UploadPartCopy source.
        actions: ['s3:GetObject'],
        resources: [rawBucket.arnForObjects(`${RAW_PREFIX}*`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteBackup',
        // PutObject covers CopyObject and the multipart copy calls; Abort cleans up a failed multipart copy.
        // GetObject is HeadObject: the idempotence check reads the backup's ETag and size before copying.
        // No s3:PutObjectRetention: the copy takes the bucket's default Object Lock retention and sends no
        // x-amz-object-lock-* header (it only needs Content-MD5 or a checksum, which PutObject allows).
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject'],
        resources: [backupBucket.arnForObjects(`${RAW_PREFIX}*`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'MissingIsNotFound',
        // Without ListBucket, HeadObject on a missing key answers 403 instead of 404, and the handler could not tell
        // "not backed up yet" or "source deleted" from a real permission error.
        actions: ['s3:ListBucket'],
        resources: [rawBucket.bucketArn, backupBucket.bucketArn],
      }),
    );

    this.function = new lambda.Function(this, 'Function', {
      functionName,
      description: 'Copies each new raw/ object to the backup bucket (S3 -> SQS -> Lambda)',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(props.codeZip),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      timeout: Duration.seconds(config.backupTimeoutSeconds),
      memorySize: config.backupMemoryMb,
      environment: {
        // BACKUP_PREFIX stays unset (""): backups keep the raw key, which the WriteBackup statement relies on.
        BACKUP_BUCKET: backupBucket.bucketName,
        // the handler refuses events of any other bucket (defence in depth behind IAM)
        RAW_BUCKET: rawBucket.bucketName,
        // every S3 call names the owner it expects: a bucket recreated under someone else's account answers 403
        EXPECTED_BUCKET_OWNER: Aws.ACCOUNT_ID,
        POWERTOOLS_SERVICE_NAME: 'backup-lambda',
      },
    });

    this.function.addEventSource(
      new SqsEventSource(queue, {
        batchSize: config.backupBatchSize,
        maxBatchingWindow:
          config.backupBatchWindowSeconds > 0 ? Duration.seconds(config.backupBatchWindowSeconds) : undefined,
        // Only the failed messages return to the queue (and, after 5 receives, to the DLQ).
        reportBatchItemFailures: true,
        // A backlog (after an outage, a reconcile) drains at this many invocations at once instead of scaling out.
        maxConcurrency: config.backupMaxConcurrency,
      }),
    );

    new CfnOutput(this, 'FunctionName', { value: this.function.functionName, description: 'backup Lambda' });
  }
}
