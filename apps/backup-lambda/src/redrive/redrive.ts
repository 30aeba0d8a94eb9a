import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface RedriveOptions {
  sqs: SQSClient;
  /** The dead-letter queue to empty. */
  dlqUrl: string;
  /** The source queue the messages go back to. */
  queueUrl: string;
  /** Move at most this many (default: all). */
  max?: number;
  /** Count and show, move nothing. */
  dryRun?: boolean;
  /**
   * How long a received DLQ message stays hidden while it is being sent on (default 60 s): a crash in between leaves
   * it in the DLQ, visible again after this.
   */
  visibilityTimeoutSeconds?: number;
  /** Long-poll wait per receive (default 1 s; SQS answers a short poll from a sample of its servers only). */
  waitTimeSeconds?: number;
  signal?: AbortSignal;
  onBatch?: (batch: { moved: number; failed: number }) => void;
}

export interface RedriveReport {
  /** Sent to the queue and deleted from the DLQ. */
  moved: number;
  /** Not sent (left in the DLQ, visible again after the visibility timeout). */
  failedToSend: { messageId: string; reason: string }[];
  /** Sent but not deleted from the DLQ: they will be sent again on the next run (the handler is idempotent). */
  notDeleted: number;
  /** The DLQ's approximate depth when the run started (the only number a dry run gives, besides the sample). */
  dlqDepthAtStart: number;
  /** Dry run: up to 10 messages, shown and left where they are. */
  sample: { messageId: string; receiveCount: string | undefined; body: string }[];
}

async function depth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
}

function excerpt(body: string | undefined): string {
  const text = body ?? '';
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * Move messages from a dead-letter queue back to its source queue after the cause is fixed: receive from the DLQ,
 * send each body (with its message attributes) to the queue, then delete it from the DLQ. At least once: a crash
 * between send and delete sends that message twice, which the backup handler skips as already backed up. This is
 * the path moto can run; on AWS `aws sqs start-message-move-task` does the same server-side (docs/operations.md).
 * @example await redrive({ sqs, dlqUrl, queueUrl, max: 100 })
 */
export async function redrive(options: RedriveOptions): Promise<RedriveReport> {
  const { sqs, dlqUrl, queueUrl, signal } = options;
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const report: RedriveReport = {
    moved: 0,
    failedToSend: [],
    notDeleted: 0,
    dlqDepthAtStart: await depth(sqs, dlqUrl),
    sample: [],
  };
  if (options.dryRun) {
    // Visibility 0: the messages stay visible, nothing changes.
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: options.waitTimeSeconds ?? 1,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    report.sample = (out.Messages ?? []).map((m) => ({
      messageId: m.MessageId ?? '',
      receiveCount: m.Attributes?.ApproximateReceiveCount,
      body: excerpt(m.Body),
    }));
    return report;
  }
  // Messages that failed to send stay hidden for the visibility timeout, so they are not received again in this run.
  while (report.moved + report.failedToSend.length < max) {
    signal?.throwIfAborted();
    const want = Math.min(10, max - report.moved - report.failedToSend.length);
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: want,
        VisibilityTimeout: options.visibilityTimeoutSeconds ?? 60,
        WaitTimeSeconds: options.waitTimeSeconds ?? 1,
        MessageAttributeNames: ['All'],
      }),
      signal ? { abortSignal: signal } : {},
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    const byId = new Map(messages.map((m, i): [string, Message] => [String(i), m]));
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [...byId].map(([id, m]) => ({
          Id: id,
          MessageBody: m.Body ?? '',
          ...(m.MessageAttributes && Object.keys(m.MessageAttributes).length > 0
            ? { MessageAttributes: m.MessageAttributes }
            : {}),
        })),
      }),
    );
    for (const failure of sent.Failed ?? []) {
      const m = byId.get(failure.Id ?? '');
      report.failedToSend.push({
        messageId: m?.MessageId ?? '',
        reason: `${failure.Code ?? 'error'}: ${failure.Message ?? ''}`,
      });
    }
    const ok = (sent.Successful ?? []).map((s) => byId.get(s.Id ?? '')).filter((m): m is Message => m !== undefined);
    if (ok.length > 0) {
      const deleted = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: ok.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
      report.notDeleted += deleted.Failed?.length ?? 0;
    }
    report.moved += ok.length;
    options.onBatch?.({ moved: ok.length, failed: (sent.Failed ?? []).length });
  }
  return report;
}
