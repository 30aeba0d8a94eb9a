import { RAW_PREFIX } from '@btc-etl/s3-keys';
import { ArnFormat, Aws, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { InfraError } from '../infra.errors';
import { keepLogicalId } from './stable-ids';

/** Where Firehose writes records it could not deliver, split by error type and arrival hour. */
export const FIREHOSE_ERROR_PREFIX = 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/';
/** `raw/` + the hourly folder Firehose would append by default, spelled out so the projection template matches it. */
export const FIREHOSE_RAW_PREFIX = `${RAW_PREFIX}!{timestamp:yyyy/MM/dd/HH}/`;

/** The construct id under which the L2 `DeliveryStream` adds its (here unused) CIDR mapping to the stack. */
const FIREHOSE_CIDR_MAPPING_ID = '@aws-cdk--aws-kinesisfirehose.CidrBlocks'; // construct ids turn '/' into '--'

export interface TickDeliveryStreamProps {
  /** FIREHOSE_STREAM_NAME. */
  deliveryStreamName: string;
  rawBucket: s3.IBucket;
  bufferSizeMiB: number;
  bufferInterval: Duration;
  logRetention: logs.RetentionDays;
}

/**
 * The Direct PUT stream the extractor writes to: uncompressed NDJSON into `raw/<arrival hour>/`, failures under
 * `errors/`, delivery errors logged to its own log group.
 *
 * It uses the L2 `DeliveryStream`, which covers all the L1 did (Direct PUT, AWS-owned key, prefix and error prefix,
 * buffering, compression, logging; processors and dynamic partitioning exist but are not used). What it lacks: a way
 * to stop its S3 destination from calling `bucket.grantReadWrite(role)`, which would give Firehose `s3:DeleteObject*`,
 * `s3:List*` and `s3:PutObjectRetention` on the whole raw bucket. So the role goes in immutable (that grant, and the
 * L2's log-group grant, are dropped) and the policy below grants what Firehose's S3 destination documents, on `raw/`
 * and `errors/` only.
 */
export class TickDeliveryStream extends Construct {
  readonly deliveryStream: firehose.DeliveryStream;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TickDeliveryStreamProps) {
    super(scope, id);
    const { rawBucket, deliveryStreamName } = props;
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: `/aws/kinesisfirehose/${deliveryStreamName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    keepLogicalId(this.logGroup, 'FirehoseLogGroup1B45149B');

    this.role = new iam.Role(this, 'Role', {
      description: `Firehose ${deliveryStreamName} writes into the raw bucket`,
      // The account condition keeps another account's stream from using this role (confused deputy).
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'sts:ExternalId': Aws.ACCOUNT_ID } },
      }),
    });
    keepLogicalId(this.role, 'FirehoseRoleAA67C190');
    const policy = new iam.Policy(this, 'Policy', {
      roles: [this.role],
      statements: [
        // The bucket-level actions Firehose's S3 destination documents.
        new iam.PolicyStatement({
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [rawBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
          resources: [rawBucket.arnForObjects(`${RAW_PREFIX}*`), rawBucket.arnForObjects('errors/*')],
        }),
        // The L2 names the log stream it creates; the group is this stream's alone.
        new iam.PolicyStatement({
          actions: ['logs:PutLogEvents'],
          resources: [
            Stack.of(this).formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: `${this.logGroup.logGroupName}:log-stream:*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      ],
    });
    keepLogicalId(policy, 'FirehosePolicy3A3B2DF8');

    this.deliveryStream = new firehose.DeliveryStream(this, 'Default', {
      deliveryStreamName,
      encryption: firehose.StreamEncryption.awsOwnedKey(),
      destination: new firehose.S3Bucket(rawBucket, {
        role: this.role.withoutPolicyUpdates(),
        dataOutputPrefix: FIREHOSE_RAW_PREFIX,
        errorOutputPrefix: FIREHOSE_ERROR_PREFIX,
        bufferingSize: Size.mebibytes(props.bufferSizeMiB),
        bufferingInterval: props.bufferInterval,
        // The readers (Athena's JSON SerDe, the local engine, the backup copy) expect the producer's NDJSON bytes.
        compression: firehose.Compression.UNCOMPRESSED,
        loggingConfig: new firehose.EnableLogging(this.logGroup),
      }),
    });
    keepLogicalId(this.deliveryStream, 'DeliveryStream');
    // The L2 always adds a region -> Firehose CIDR mapping for its `connections` (used by VPC destinations such as
    // Redshift); nothing here references it, and an unreferenced mapping is a CloudFormation warning (W7001).
    if (!Stack.of(this).node.tryRemoveChild(FIREHOSE_CIDR_MAPPING_ID))
      throw new InfraError(`the L2 DeliveryStream no longer adds ${FIREHOSE_CIDR_MAPPING_ID}: drop this removal`);
    // Firehose checks its role's access when the stream is created.
    this.deliveryStream.node.defaultChild?.node.addDependency(policy);
  }
}
