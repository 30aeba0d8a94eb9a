import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { localLambdaContext, regionOfArn, toLambdaSqsRecord } from './lambda-sqs-event';

// A ReceiveMessage result as the SDK returns it with MessageSystemAttributeNames/MessageAttributeNames = All.
const message: Message = {
  MessageId: '059f36b4-87a3-44ab-83d2-661975830a7d',
  ReceiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
  MD5OfBody: '098f6bcd4621d373cade4e832627b4f6',
  Body: '{"Records":[]}',
  Attributes: {
    ApproximateReceiveCount: '3',
    SentTimestamp: '1545082649183',
    SenderId: 'AIDAIENQZJOLO23YVJ4VO',
    ApproximateFirstReceiveTimestamp: '1545082649185',
  },
  MessageAttributes: {
    trace: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
    kind: { DataType: 'String', StringValue: 's3' },
  },
};

describe('toLambdaSqsRecord', () => {
  it("builds Lambda's SQS record from a received message", () => {
    expect(toLambdaSqsRecord(message, 'arn:aws:sqs:eu-west-1:111122223333:raw-events')).toEqual({
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: '{"Records":[]}',
      attributes: message.Attributes,
      messageAttributes: {
        trace: { dataType: 'Binary', binaryValue: 'AQID', stringListValues: [], binaryListValues: [] },
        kind: { dataType: 'String', stringValue: 's3', stringListValues: [], binaryListValues: [] },
      },
      md5OfBody: message.MD5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:raw-events',
      awsRegion: 'eu-west-1',
    });
  });

  it('refuses a message without id, receipt handle or body', () => {
    expect(() => toLambdaSqsRecord({ Body: 'x' }, 'arn:aws:sqs:us-east-1:1:q')).toThrow(/without MessageId/);
    expect(() => regionOfArn('not-an-arn')).toThrow(/not an ARN/);
  });

  it('gives a context whose remaining time counts down from the timeout', () => {
    const context = localLambdaContext('backup-lambda', 60_000);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(59_000);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(60_000);
    expect(context.functionName).toBe('backup-lambda');
  });
});
