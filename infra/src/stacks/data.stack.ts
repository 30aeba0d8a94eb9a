import { GLUE_COLUMNS, GLUE_PARTITION_KEYS } from '@btc-etl/price-schema';
import { RAW_PREFIX } from '@btc-etl/s3-keys';
import { ArnFormat, Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { glueName, queueVisibilitySeconds, type InfraConfig } from '../infra.config';

/** Where Firehose writes records it could not deliver, split by error type and arrival hour. */
export const FIREHOSE_ERROR_PREFIX = 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/';
/** `raw/` + the hourly folder Firehose would append by default, spelled out so the projection template matches it. */
export const FIREHOSE_RAW_PREFIX = `${RAW_PREFIX}!{timestamp:yyyy/MM/dd/HH}/`;
/** Athena writes query results under this prefix of the results bucket. */
export const ATHENA_RESULTS_PREFIX = 'athena/';
/** The Glue tables over `raw/` in the raw and backup buckets (the query app's ATHENA_RAW_TABLE / ATHENA_BACKUP_TABLE). */
export const RAW_TABLE_NAME = 'raw_ticks';
export const BACKUP_TABLE_NAME = 'backup_ticks';
/** The Firehose log stream that receives S3 delivery errors. */
export const FIREHOSE_LOG_STREAM = 'DestinationDelivery';

export interface DataStackProps extends StackProps {
  config: InfraConfig;
}

/**
 * Storage and ingestion: the raw, backup and Athena-results buckets; the Direct PUT delivery stream into raw; the
 * raw bucket's ObjectCreated events into an SQS queue with a DLQ; the Glue table with partition projection; the
 * Athena workgroup. The other stacks receive what they need from its public fields.
 */
export class DataStack extends Stack {
  readonly rawBucket: s3.Bucket;
  readonly backupBucket: s3.Bucket;
  readonly resultsBucket: s3.Bucket;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly deliveryStreamName: string;
  readonly deliveryStreamArn: string;
  readonly databaseName: string;
  readonly tableName = RAW_TABLE_NAME;
  readonly backupTableName = BACKUP_TABLE_NAME;
  readonly workGroupName: string;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    const prefix = config.namePrefix;
    // Bucket names are global: the account and region keep two deployments of one prefix apart. Knowing the raw
    // bucket's name up front also lets the queue policy name it without a reference cycle (see the notification).
    const bucketName = (role: string) => `${prefix}-${role}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
    const rawBucketName = bucketName('raw');

    const secureBucket = (id: string, props: s3.BucketProps) =>
      new s3.Bucket(this, id, {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        // Price history is the product: deleting the stack must never delete it.
        removalPolicy: RemovalPolicy.RETAIN,
        ...props,
      });

    this.rawBucket = secureBucket('RawBucket', {
      bucketName: rawBucketName,
      lifecycleRules: [
        {
          id: 'raw-to-infrequent-access',
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(config.rawTransitionDays),
            },
          ],
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });

    this.backupBucket = secureBucket('BackupBucket', {
      bucketName: bucketName('backup'),
      versioned: true,
      lifecycleRules: [
        {
          id: 'backup-to-glacier-instant-retrieval',
          transitions: [
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(config.backupTransitionDays),
            },
          ],
          noncurrentVersionExpiration: Duration.days(config.backupNoncurrentExpirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });

    this.resultsBucket = secureBucket('AthenaResultsBucket', {
      bucketName: bucketName('athena-results'),
      // Query results are a cache: they expire and may go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      lifecycleRules: [
        {
          id: 'expire-query-results',
          expiration: Duration.days(config.athenaResultsExpirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    // --- Firehose Direct PUT -> raw/ ------------------------------------------------------------------------
    this.deliveryStreamName = `${prefix}-ticks`; // the workspace default of FIREHOSE_STREAM_NAME
    const firehoseLogGroup = new logs.LogGroup(this, 'FirehoseLogGroup', {
      logGroupName: `/aws/kinesisfirehose/${this.deliveryStreamName}`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const firehoseLogStream = new logs.LogStream(this, 'FirehoseLogStream', {
      logGroup: firehoseLogGroup,
      logStreamName: FIREHOSE_LOG_STREAM,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const firehoseRole = new iam.Role(this, 'FirehoseRole', {
      description: `Firehose ${this.deliveryStreamName} writes into the raw bucket`,
      // The account condition keeps another account's stream from using this role (confused deputy).
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'sts:ExternalId': Aws.ACCOUNT_ID } },
      }),
    });
    const firehosePolicy = new iam.Policy(this, 'FirehosePolicy', {
      roles: [firehoseRole],
      statements: [
        // The bucket-level actions Firehose's S3 destination documents.
        new iam.PolicyStatement({
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [this.rawBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
          resources: [this.rawBucket.arnForObjects(`${RAW_PREFIX}*`), this.rawBucket.arnForObjects('errors/*')],
        }),
        new iam.PolicyStatement({
          actions: ['logs:PutLogEvents'],
          resources: [
            this.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: `${firehoseLogGroup.logGroupName}:log-stream:${firehoseLogStream.logStreamName}`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      ],
    });

    const deliveryStream = new firehose.CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamName: this.deliveryStreamName,
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: this.rawBucket.bucketArn,
        roleArn: firehoseRole.roleArn,
        prefix: FIREHOSE_RAW_PREFIX,
        errorOutputPrefix: FIREHOSE_ERROR_PREFIX,
        bufferingHints: {
          sizeInMBs: config.firehoseBufferSizeMb,
          intervalInSeconds: config.firehoseBufferIntervalSeconds,
        },
        // The readers (Athena's JSON SerDe, the local engine, the backup copy) expect the producer's NDJSON bytes.
        compressionFormat: 'UNCOMPRESSED',
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: firehoseLogGroup.logGroupName,
          logStreamName: firehoseLogStream.logStreamName,
        },
      },
    });
    // Firehose checks its role's access when the stream is created.
    deliveryStream.node.addDependency(firehosePolicy);
    this.deliveryStreamArn = deliveryStream.attrArn;

    // --- raw/ ObjectCreated -> SQS (+ DLQ) ----------------------------------------------------------------------
    this.deadLetterQueue = new sqs.Queue(this, 'RawObjectsDeadLetterQueue', {
      queueName: `${prefix}-raw-objects-dlq`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'RawObjectsQueue', {
      queueName: `${prefix}-raw-objects`,
      // SSE-SQS, not KMS: S3 notifications cannot send to a queue under the AWS-managed SQS KMS key.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(queueVisibilitySeconds(config)),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });
    const rawBucketArn = `arn:${Aws.PARTITION}:s3:::${rawBucketName}`;
    const sendFromRawBucket = this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'RawBucketObjectCreated',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': rawBucketArn },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    // The notification is set on the bucket itself rather than through CDK's addEventNotification, which deploys a
    // custom-resource Lambda (with an AWS-managed policy) only to call PutBucketNotification. S3 validates the
    // destination when the bucket is created, so the bucket waits for the queue policy, which names the bucket by
    // its (known) ARN instead of referencing it: no cycle.
    const cfnRawBucket = this.rawBucket.node.defaultChild as s3.CfnBucket;
    cfnRawBucket.notificationConfiguration = {
      queueConfigurations: [
        {
          event: 's3:ObjectCreated:*',
          queue: this.queue.queueArn,
          filter: { s3Key: { rules: [{ name: 'prefix', value: RAW_PREFIX }] } },
        },
      ],
    };
    if (!sendFromRawBucket.policyDependable) throw new Error('the raw objects queue got no resource policy');
    cfnRawBucket.node.addDependency(sendFromRawBucket.policyDependable);

    // --- Glue table over raw/ with partition projection --------------------------------------------------------
    this.databaseName = glueName(prefix);
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'Bitcoin price records delivered by Firehose' },
    });
    // The same table over the backup bucket (same keys, same bytes): the query app compares the two stores.
    for (const [id, name, bucket, what] of [
      ['RawTable', RAW_TABLE_NAME, this.rawBucket, 'delivered by Firehose'],
      ['BackupTable', BACKUP_TABLE_NAME, this.backupBucket, 'copied to the backup bucket'],
    ] as const) {
      this.priceTable(id, {
        name,
        bucket,
        description: `Price records ${what}`,
        projectionStart: config.projectionStart,
      }).node.addDependency(database);
    }

    // --- Athena workgroup ----------------------------------------------------------------------------------------
    this.workGroupName = prefix;
    new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'Queries over the raw price records; results and scan limits enforced',
      state: 'ENABLED',
      workGroupConfiguration: {
        // Clients cannot override the result location or the cutoff.
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: config.athenaBytesScannedCutoffMb * 1024 * 1024,
        engineVersion: { selectedEngineVersion: 'AUTO' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/${ATHENA_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: Aws.ACCOUNT_ID,
        },
      },
    });

    // Plain outputs for people and scripts (`aws cloudformation describe-stacks`); the other stacks get these
    // values through props, which CDK turns into exports of its own.
    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('RawBucketName', this.rawBucket.bucketName, 'RAW_BUCKET');
    output('BackupBucketName', this.backupBucket.bucketName, 'BACKUP_BUCKET');
    output('AthenaResultsBucketName', this.resultsBucket.bucketName, 'Athena query results');
    output('DeliveryStreamName', this.deliveryStreamName, 'FIREHOSE_STREAM_NAME');
    output('RawObjectsQueueUrl', this.queue.queueUrl, 'SQS_QUEUE_URL');
    output('GlueDatabase', this.databaseName, 'ATHENA_DATABASE');
    output('GlueTable', RAW_TABLE_NAME, 'ATHENA_RAW_TABLE: Glue table over raw/ in the raw bucket');
    output('GlueBackupTable', BACKUP_TABLE_NAME, 'ATHENA_BACKUP_TABLE: Glue table over raw/ in the backup bucket');
    output('AthenaWorkGroup', this.workGroupName, 'ATHENA_WORKGROUP');
  }

  /**
   * A Glue table over `<bucket>/raw/`: one NDJSON price record per line (JSON SerDe), columns from the price schema,
   * partitioned by Firehose arrival hour with partition projection (no crawler, no MSCK REPAIR).
   */
  private priceTable(
    id: string,
    props: { name: string; bucket: s3.IBucket; description: string; projectionStart: string },
  ): glue.CfnTable {
    const location = `s3://${props.bucket.bucketName}/${RAW_PREFIX}`;
    return new glue.CfnTable(this, id, {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: props.name,
        description: `${props.description}, partitioned by Firehose arrival hour (UTC)`,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'json',
          EXTERNAL: 'TRUE',
          'projection.enabled': 'true',
          'projection.datehour.type': 'date',
          'projection.datehour.format': 'yyyy/MM/dd/HH',
          'projection.datehour.range': `${props.projectionStart},NOW`,
          'projection.datehour.interval': '1',
          'projection.datehour.interval.unit': 'HOURS',
          'storage.location.template': `${location}\${datehour}/`,
        },
        partitionKeys: GLUE_PARTITION_KEYS.map((c) => ({ ...c })),
        storageDescriptor: {
          columns: GLUE_COLUMNS.map((c) => ({ ...c })),
          location,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
        },
      },
    });
  }
}
