import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { backoffMs, sleep } from '@btc-etl/resilience';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { BackupLogger } from '../core/backup.logger';
import { localLambdaContext, toLambdaSqsRecord } from './lambda-sqs-event';

/** Any SQS Lambda handler in the async style (returning `batchItemFailures`, or nothing when all succeeded). */
export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface SqsEventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: SqsBatchHandler;
  logger: BackupLogger;
  /** Messages per receive (SQS allows 1-10). */
  batchSize?: number;
  /** Long-poll wait (0-20 s). */
  waitTimeSeconds?: number;
  /** The invocation's time budget, as the function timeout would be. */
  functionTimeoutMs?: number;
  functionName?: string;
}

export interface PollResult {
  received: number;
  succeeded: number;
  /** Left on the queue: redelivered after the visibility timeout, to the DLQ after maxReceiveCount. */
  failed: number;
  /** Succeeded but not deleted (they come back and are skipped as already backed up). */
  notDeleted: number;
}

/**
 * A local stand-in for Lambda's SQS event source mapping with `ReportBatchItemFailures`: long-poll up to 10
 * messages, hand them to the handler as a Lambda SQS event, delete the ones that succeeded and leave the failed ones
 * for redelivery. A handler that throws, or names a message that was not in the batch, fails the whole batch, as on
 * Lambda.
 */
export class SqsEventSource {
  private queueArn: string | undefined;
  private readonly batchSize: number;
  private readonly waitTimeSeconds: number;

  constructor(private readonly options: SqsEventSourceOptions) {
    this.batchSize = options.batchSize ?? 10;
    this.waitTimeSeconds = options.waitTimeSeconds ?? 20;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10) {
      throw new RangeError(`batchSize must be 1-10 (an SQS receive limit), got ${this.batchSize}`);
    }
  }

  private async arn(): Promise<string> {
    if (this.queueArn) return this.queueArn;
    const out = await this.options.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.options.queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const arn = out.Attributes?.QueueArn;
    if (!arn) throw new Error(`queue ${this.options.queueUrl} has no QueueArn attribute`);
    return (this.queueArn = arn);
  }

  /** One receive -> invoke -> delete round. */
  async pollOnce(signal?: AbortSignal): Promise<PollResult> {
    const { sqs, queueUrl, handler, logger } = this.options;
    const queueArn = await this.arn();
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: this.batchSize,
        WaitTimeSeconds: this.waitTimeSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      signal ? { abortSignal: signal } : {},
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return { received: 0, succeeded: 0, failed: 0, notDeleted: 0 };

    const records = messages.map((m) => toLambdaSqsRecord(m, queueArn));
    const ids = new Set(records.map((r) => r.messageId));
    let failedIds: Set<string>;
    try {
      const response = await handler(
        { Records: records },
        localLambdaContext(this.options.functionName ?? 'backup-lambda', this.options.functionTimeoutMs ?? 60_000),
      );
      failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      const unknown = [...failedIds].filter((id) => !ids.has(id));
      if (unknown.length > 0) {
        logger.error('handler reported unknown message ids: failing the whole batch, as Lambda does', { unknown });
        failedIds = ids;
      }
    } catch (error) {
      logger.error('handler threw: the whole batch is left for redelivery', { error, messages: records.length });
      failedIds = ids;
    }

    const succeeded = records.filter((r) => !failedIds.has(r.messageId));
    let notDeleted = 0;
    if (succeeded.length > 0) {
      const out = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: succeeded.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      notDeleted = out.Failed?.length ?? 0;
      if (notDeleted > 0)
        logger.warn('some processed messages were not deleted; they will be redelivered and skipped', {
          failed: out.Failed,
        });
    }
    return { received: records.length, succeeded: succeeded.length, failed: failedIds.size, notDeleted };
  }

  /**
   * Poll until `signal` aborts. Receive errors back off exponentially (resilience's backoffMs: full jitter, capped
   * at 20 s) and never stop the loop; `onPoll` sees every non-empty round.
   */
  async run(signal: AbortSignal, onPoll?: (result: PollResult) => void): Promise<PollResult> {
    const totals: PollResult = { received: 0, succeeded: 0, failed: 0, notDeleted: 0 };
    let failures = 0;
    while (!signal.aborted) {
      try {
        const result = await this.pollOnce(signal);
        failures = 0;
        for (const k of Object.keys(totals) as (keyof PollResult)[]) totals[k] += result[k];
        if (result.received > 0) onPoll?.(result);
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        const delay = backoffMs(failures - 1, { baseMs: 500, capMs: 20_000 });
        this.options.logger.warn('sqs poll failed, backing off', {
          error,
          attempt: failures,
          delayMs: Math.round(delay),
        });
        await sleep(delay, { signal });
      }
    }
    return totals;
  }
}
