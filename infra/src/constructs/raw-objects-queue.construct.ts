import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IDependable } from 'constructs';
import { InfraError } from '../infra.errors';
import { keepLogicalId } from './stable-ids';

export interface RawObjectsQueueProps {
  /** `<namePrefix>-raw-objects`; the DLQ is this + `-dlq`. */
  queueName: string;
  /** The raw bucket's name, known up front: the policy names the bucket without referencing it (no cycle). */
  rawBucketName: string;
  visibilityTimeout: Duration;
  /** Receives before a message moves to the DLQ (AWS asks for >= 5 with a Lambda consumer). */
  maxReceiveCount: number;
}

/**
 * The queue of the raw bucket's ObjectCreated events (the backup Lambda's event source) and its dead-letter queue,
 * SSE-SQS and TLS-only; only S3, for that one bucket of this account, may send to it.
 */
export class RawObjectsQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** The queue policy that lets S3 send: the bucket's notification must wait for it (S3 validates on create). */
  readonly sendPolicy: IDependable;

  constructor(scope: Construct, id: string, props: RawObjectsQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: `${props.queueName}-dlq`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // the longest SQS keeps anything: two weeks to notice (the DLQ alarm pages at the first message) and redrive
      retentionPeriod: Duration.days(14),
    });
    keepLogicalId(this.deadLetterQueue, 'RawObjectsDeadLetterQueue46FB4AD4');
    keepLogicalId(
      this.deadLetterQueue.node.findChild('Policy').node.findChild('Resource'),
      'RawObjectsDeadLetterQueuePolicy5FEFA680',
    );

    this.queue = new sqs.Queue(this, 'Default', {
      queueName: props.queueName,
      // SSE-SQS, not KMS: S3 notifications cannot send to a queue under the AWS-managed SQS KMS key.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
    const send = this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'RawBucketObjectCreated',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:s3:::${props.rawBucketName}` },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    if (!send.policyDependable) throw new InfraError('the raw objects queue got no resource policy');
    this.sendPolicy = send.policyDependable;
  }
}
