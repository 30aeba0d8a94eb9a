import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { FirehosePutter, PutBatchResult } from './firehose.sink';

/**
 * The AWS SDK behind the sink's `FirehosePutter` port. Region, endpoint and credentials come from the SDK's own
 * chain (`AWS_REGION`, `AWS_ENDPOINT_URL`, profiles). The SDK's retries are off (`maxAttempts: 1`): the sink owns
 * retrying, so records are never resent by two layers and its metrics count every attempt.
 */
export function createFirehosePutter(client: FirehoseClient = new FirehoseClient({ maxAttempts: 1 })): FirehosePutter {
  return {
    async putRecordBatch(streamName, records, signal): Promise<PutBatchResult> {
      const out = await client.send(
        new PutRecordBatchCommand({ DeliveryStreamName: streamName, Records: records.map((Data) => ({ Data })) }),
        signal ? { abortSignal: signal } : {},
      );
      return {
        failedPutCount: out.FailedPutCount ?? 0,
        responses: (out.RequestResponses ?? []).map((r) => ({
          ...(r.RecordId !== undefined ? { recordId: r.RecordId } : {}),
          ...(r.ErrorCode !== undefined ? { errorCode: r.ErrorCode } : {}),
          ...(r.ErrorMessage !== undefined ? { errorMessage: r.ErrorMessage } : {}),
        })),
      };
    },
  };
}
