import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { PollResult, SqsEventSource } from '../runner/sqs-event-source';

/** Clients for moto (AWS_ENDPOINT_URL and dummy credentials come from the moto global setup). */
export function motoClients(): { s3: S3Client; sqs: SQSClient } {
  return { s3: new S3Client({ forcePathStyle: true }), sqs: new SQSClient({}) };
}

export interface MotoPipeline {
  rawBucket: string;
  queueUrl: string;
  dlqUrl: string;
}

/** A short unique bucket/queue name for one test. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * The AWS side of the backup path, on moto: a raw bucket whose ObjectCreated events go to a queue with a DLQ
 * (redrive after `maxReceiveCount`), as infra's data stack sets it up. The TestEvent S3 sends on configuration is
 * left in the queue, as on AWS.
 */
export async function createMotoPipeline(
  s3: S3Client,
  sqs: SQSClient,
  options: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<MotoPipeline> {
  const rawBucket = uniqueName('raw');
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${rawBucket}-dlq` }));
  const dlqArn = await queueArn(sqs, dlq.QueueUrl ?? '');
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${rawBucket}-events`,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 1),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: String(options.maxReceiveCount ?? 2),
        }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl ?? '';
  await s3.send(new CreateBucketCommand({ Bucket: rawBucket }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: rawBucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          { Id: 'raw-object-created', QueueArn: await queueArn(sqs, queueUrl), Events: ['s3:ObjectCreated:*'] },
        ],
      },
    }),
  );
  return { rawBucket, queueUrl, dlqUrl: dlq.QueueUrl ?? '' };
}

export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return out.Attributes?.QueueArn ?? '';
}

/** Messages visible plus in flight: 0 means everything was deleted (or moved to the DLQ). */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Bodies waiting in a queue (received with a zero visibility timeout, so they stay there). */
export async function peekBodies(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      WaitTimeSeconds: 0,
    }),
  );
  return (out.Messages ?? []).map((m) => m.Body ?? '');
}

/** Poll the runner until `done()` holds (checked after every round), or fail after `timeoutMs`. */
export async function pollUntil(
  source: SqsEventSource,
  done: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<PollResult> {
  const totals: PollResult = { received: 0, succeeded: 0, failed: 0, notDeleted: 0 };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const round = await source.pollOnce();
    for (const k of Object.keys(totals) as (keyof PollResult)[]) totals[k] += round[k];
    if (await done()) return totals;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms (polled ${JSON.stringify(totals)})`);
  }
}
