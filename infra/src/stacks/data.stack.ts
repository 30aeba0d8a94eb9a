import { Aws, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { BackupBucket, type BackupReplicaTarget } from '../constructs/backup-bucket.construct';
import { PriceTables } from '../constructs/price-tables.construct';
import { QueryWorkGroup } from '../constructs/query-work-group.construct';
import { RawBucket } from '../constructs/raw-bucket.construct';
import { RawObjectsQueue } from '../constructs/raw-objects-queue.construct';
import { TickDeliveryStream } from '../constructs/tick-delivery-stream.construct';
import { pipelineNames } from '../pipeline-names';
import { glueName, queueVisibilitySeconds, type InfraConfig } from '../infra.config';

export { ATHENA_RESULTS_PREFIX } from '../constructs/query-work-group.construct';
export { FIREHOSE_ERROR_PREFIX, FIREHOSE_RAW_PREFIX } from '../constructs/tick-delivery-stream.construct';
/**
 * The Glue tables over `raw/` in the raw and backup buckets (the query app's ATHENA_RAW_TABLE / ATHENA_BACKUP_TABLE).
 */
export const RAW_TABLE_NAME = 'raw_ticks';
export const BACKUP_TABLE_NAME = 'backup_ticks';

export interface DataStackProps extends StackProps {
  config: InfraConfig;
  /** Replicate the backup bucket there (context `backupReplicaRegion` / `backupReplicaAccount`). */
  backupReplica?: BackupReplicaTarget;
}

/**
 * Storage and ingestion, one construct each: the raw bucket ({@link RawBucket}) fed by the Direct PUT delivery stream
 * ({@link TickDeliveryStream}) and announcing its objects on a queue with a DLQ ({@link RawObjectsQueue}); the backup
 * bucket ({@link BackupBucket}); the Glue tables over both ({@link PriceTables}); the Athena workgroup and its results
 * bucket ({@link QueryWorkGroup}). The other stacks receive what they need from its public fields. Every resource
 * keeps the logical id it had before the split (`keepLogicalId`), so deployed stacks update in place.
 */
export class DataStack extends Stack {
  readonly rawBucket: s3.Bucket;
  readonly backupBucket: s3.Bucket;
  readonly resultsBucket: s3.Bucket;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly deliveryStream: TickDeliveryStream;
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
    const names = pipelineNames(prefix);
    // Bucket names are global: the account and region keep two deployments of one prefix apart. Knowing the raw
    // bucket's name up front also lets the queue policy name it without a reference cycle (see RawBucket).
    const bucketName = (role: string) => `${prefix}-${role}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
    const rawBucketName = bucketName('raw');

    const objects = new RawObjectsQueue(this, 'RawObjectsQueue', {
      queueName: names.rawObjectsQueue,
      rawBucketName,
      visibilityTimeout: Duration.seconds(queueVisibilitySeconds(config)),
      maxReceiveCount: 5,
    });
    this.queue = objects.queue;
    this.deadLetterQueue = objects.deadLetterQueue;

    this.rawBucket = new RawBucket(this, 'RawBucket', {
      bucketName: rawBucketName,
      transitionDays: config.rawTransitionDays,
      notify: { queue: objects.queue, sendPolicy: objects.sendPolicy },
    }).bucket;

    this.backupBucket = new BackupBucket(this, 'BackupBucket', {
      bucketName: bucketName('backup'),
      transitionDays: config.backupTransitionDays,
      noncurrentExpirationDays: config.backupNoncurrentExpirationDays,
      objectLock: { mode: config.backupObjectLockMode, days: config.backupObjectLockDays },
      replica: props.backupReplica,
    }).bucket;

    this.deliveryStreamName = names.deliveryStream; // the workspace default of FIREHOSE_STREAM_NAME
    this.deliveryStream = new TickDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamName: this.deliveryStreamName,
      rawBucket: this.rawBucket,
      bufferSizeMiB: config.firehoseBufferSizeMb,
      bufferInterval: Duration.seconds(config.firehoseBufferIntervalSeconds),
      logRetention: config.logRetentionDays as logs.RetentionDays,
    });
    this.deliveryStreamArn = this.deliveryStream.deliveryStream.deliveryStreamArn;

    this.databaseName = glueName(prefix);
    new PriceTables(this, 'PriceTables', {
      databaseName: this.databaseName,
      projectionStart: config.projectionStart,
      // The same table over the backup bucket (same keys, same bytes): the query app compares the two stores.
      tables: [
        {
          id: 'RawTable',
          name: RAW_TABLE_NAME,
          bucket: this.rawBucket,
          description: 'Price records delivered by Firehose',
        },
        {
          id: 'BackupTable',
          name: BACKUP_TABLE_NAME,
          bucket: this.backupBucket,
          description: 'Price records copied to the backup bucket',
        },
      ],
    });

    this.workGroupName = prefix;
    this.resultsBucket = new QueryWorkGroup(this, 'WorkGroup', {
      workGroupName: this.workGroupName,
      resultsBucketName: bucketName('athena-results'),
      resultsExpirationDays: config.athenaResultsExpirationDays,
      bytesScannedCutoffMb: config.athenaBytesScannedCutoffMb,
    }).resultsBucket;

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
}
