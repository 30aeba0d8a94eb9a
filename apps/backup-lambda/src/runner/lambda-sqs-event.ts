import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Context, SQSMessageAttribute, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

function toLambdaAttribute(value: MessageAttributeValue): SQSMessageAttribute {
  // Lambda's event spells attributes camelCase and carries binary values base64-encoded.
  return {
    dataType: value.DataType ?? 'String',
    ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
  };
}

/**
 * The record Lambda's SQS event source mapping would hand the function for one received message
 * (docs.aws.amazon.com/lambda/latest/dg/with-sqs.html). Receive with `MessageSystemAttributeNames: ['All']` and
 * `MessageAttributeNames: ['All']` to fill it completely.
 */
export function toLambdaSqsRecord(message: Message, queueArn: string): SQSRecord {
  if (!message.MessageId || !message.ReceiptHandle || message.Body === undefined) {
    throw new TypeError(
      `an SQS message without MessageId, ReceiptHandle or Body: ${JSON.stringify(message).slice(0, 300)}`,
    );
  }
  const attrs = message.Attributes ?? {};
  const now = String(Date.now());
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body,
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? now,
      SenderId: attrs.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? now,
      ...(attrs.AWSTraceHeader ? { AWSTraceHeader: attrs.AWSTraceHeader } : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, toLambdaAttribute(value)]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: regionOfArn(queueArn),
  };
}

/** `arn:aws:sqs:<region>:<account>:<name>` -> region. */
export function regionOfArn(arn: string): string {
  const region = arn.split(':')[3];
  if (!arn.startsWith('arn:') || !region) throw new TypeError(`not an ARN: ${JSON.stringify(arn)}`);
  return region;
}

/** A Lambda context for local invocations: `getRemainingTimeInMillis` counts down from `timeoutMs`. */
export function localLambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const unsupported = () => {
    throw new Error('callback-style completion is not supported by the local runner');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
