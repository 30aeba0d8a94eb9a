import { backoffMs, raceAbort, sleep, systemClock, type Clock } from '@btc-etl/resilience';
import type { Logger } from '../ops/logger';
import type { ExtractorMetrics } from '../ops/extractor.metrics';
import { batchLength, FIREHOSE_LIMITS, packRecords, recordData, type PackedRecord } from './firehose.packing';
import type { DeliveredCallback, SinkEntry, TickSink } from './tick-sink.port';

/** The answer to one PutRecordBatch, index-aligned with the records sent. */
export interface PutBatchResult {
  failedPutCount: number;
  responses: ReadonlyArray<{ recordId?: string; errorCode?: string; errorMessage?: string }>;
}

/** The one Firehose call the sink needs (see `firehose.client.ts` for the AWS SDK adapter). */
export interface FirehosePutter {
  putRecordBatch(streamName: string, records: readonly Uint8Array[], signal?: AbortSignal): Promise<PutBatchResult>;
}

export interface FirehoseSinkOptions {
  client: FirehosePutter;
  streamName: string;
  onDelivered: DeliveredCallback;
  logger: Logger;
  metrics?: ExtractorMetrics;
  clock?: Clock;
  /** Longest a tick waits in memory before its batch is sent (default 1000 ms). */
  maxLatencyMs?: number;
  maxRecordBytes?: number;
  maxBatchRecords?: number;
  maxBatchBytes?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  random?: () => number;
  /** Whether a failed call is worth retrying soon; others wait the capped delay (data is never dropped). */
  isRetryable?: (error: unknown) => boolean;
}

const RETRYABLE_NAMES = new Set([
  'ServiceUnavailableException',
  'ThrottlingException',
  'LimitExceededException',
  'InternalFailure',
  'InternalFailureException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/** Throttling, 5xx and network errors are retried promptly; anything else (bad stream, no access) is not. */
export function isRetryableFirehoseError(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (e?.$retryable) return true;
  if (e?.name && RETRYABLE_NAMES.has(e.name)) return true;
  if (e?.code && NETWORK_CODES.has(e.code)) return true;
  const status = e?.$metadata?.httpStatusCode;
  if (status === undefined) return !(e?.name && /Exception$/.test(e.name)); // no HTTP answer at all: the network
  return status >= 500 || status === 429;
}

/**
 * Firehose sink: ticks packed as NDJSON into records under 1,000 KiB (Firehose bills each record as at least
 * 5 KiB, so many ticks share one), records into PutRecordBatch calls of at most 500 records / 4 MiB. A batch is sent
 * once full or when its oldest tick has waited `maxLatencyMs`. Of a partial failure only the failed records are
 * resent; failed calls are retried whole; both with capped exponential backoff and full jitter, without limit (the
 * spool holds the data meanwhile). One call in flight at a time keeps delivery in order.
 */
export class FirehoseSink implements TickSink {
  readonly name = 'firehose';
  private readonly clock: Clock;
  private readonly maxLatencyMs: number;
  private readonly maxRecordBytes: number;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  /** A batch is full once this many bytes are waiting (whole records per call). */
  private readonly fullBatchBytes: number;
  private unsent: SinkEntry[] = [];
  private unsentBytes = 0;
  private oldestUnsentAt = 0;
  private retry: PackedRecord[] = [];
  private retryBytes = 0;
  private inFlightBytes = 0;
  private attempt = 0;
  private timer: unknown;
  private flushing = 0;
  private driving: Promise<void> | undefined;
  private readonly closed = new AbortController();

  constructor(private readonly options: FirehoseSinkOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxLatencyMs = options.maxLatencyMs ?? 1000;
    this.maxRecordBytes = options.maxRecordBytes ?? FIREHOSE_LIMITS.maxRecordBytes;
    this.maxBatchRecords = options.maxBatchRecords ?? FIREHOSE_LIMITS.maxBatchRecords;
    this.maxBatchBytes = options.maxBatchBytes ?? FIREHOSE_LIMITS.maxBatchBytes;
    this.fullBatchBytes = Math.min(
      this.maxBatchBytes,
      this.maxRecordBytes *
        Math.max(1, Math.min(this.maxBatchRecords, Math.floor(this.maxBatchBytes / this.maxRecordBytes))),
    );
  }

  write(entries: readonly SinkEntry[]): void {
    if (entries.length === 0) return;
    if (this.unsent.length === 0) this.oldestUnsentAt = this.clock.now();
    for (const e of entries) {
      this.unsent.push(e);
      this.unsentBytes += e.bytes;
    }
    this.schedule();
  }

  pendingBytes(): number {
    return this.unsentBytes + this.retryBytes + this.inFlightBytes;
  }

  private schedule(): void {
    if (this.closed.signal.aborted || this.driving) return;
    if (this.retry.length > 0) return this.kick();
    if (this.unsent.length === 0) return;
    if (this.unsentBytes >= this.fullBatchBytes || this.flushing > 0) return this.kick();
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.oldestUnsentAt + this.maxLatencyMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, wait);
  }

  private kick(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.driving ??= this.drive().finally(() => {
      this.driving = undefined;
      this.schedule();
    });
  }

  /** Send batches while there is something due: retries first (in order), then full or old-enough batches. */
  private async drive(): Promise<void> {
    while (!this.closed.signal.aborted) {
      let batch: PackedRecord[];
      let resend = false;
      if (this.retry.length > 0) {
        const delay = backoffMs(this.attempt, {
          baseMs: this.options.retryBaseMs ?? 100,
          capMs: this.options.retryCapMs ?? 5000,
          ...(this.options.random ? { random: this.options.random } : {}),
        });
        await sleep(delay, { signal: this.closed.signal, clock: this.clock });
        if (this.closed.signal.aborted) return;
        batch = this.retry.splice(0, batchLength(this.retry, this.maxBatchRecords, this.maxBatchBytes));
        for (const r of batch) this.retryBytes -= r.bytes;
        resend = true;
      } else if (
        this.unsent.length > 0 &&
        (this.flushing > 0 ||
          this.unsentBytes >= this.fullBatchBytes ||
          this.clock.now() - this.oldestUnsentAt >= this.maxLatencyMs)
      ) {
        batch = this.takeBatch();
      } else {
        return;
      }
      await this.send(batch, resend);
    }
  }

  private takeBatch(): PackedRecord[] {
    const records = packRecords(this.unsent, this.maxRecordBytes);
    const n = batchLength(records, this.maxBatchRecords, this.maxBatchBytes);
    const batch = records.slice(0, n);
    let taken = 0;
    let takenBytes = 0;
    for (const r of batch) {
      taken += r.entries.length;
      takenBytes += r.bytes;
    }
    this.unsent = this.unsent.slice(taken);
    this.unsentBytes -= takenBytes;
    // what is left keeps its original wait time (oldestUnsentAt unchanged): it goes out no later than promised
    return batch;
  }

  private async send(batch: PackedRecord[], resend: boolean): Promise<void> {
    const metrics = this.options.metrics;
    const sink = this.name;
    if (resend) metrics?.recordsRetried.inc({ sink }, batch.length);
    let bytes = 0;
    for (const r of batch) bytes += r.bytes;
    this.inFlightBytes = bytes;
    let result: PutBatchResult;
    try {
      result = await this.options.client.putRecordBatch(
        this.options.streamName,
        batch.map(recordData),
        this.closed.signal,
      );
    } catch (error) {
      this.inFlightBytes = 0;
      const retryable = (this.options.isRetryable ?? isRetryableFirehoseError)(error);
      metrics?.sinkCalls.inc({ sink, outcome: 'error' });
      // not retryable (no such stream, no access): still kept and retried at the capped delay, never dropped
      this.attempt = retryable ? this.attempt + 1 : Math.max(this.attempt + 1, 30);
      this.requeue(batch);
      const log = retryable ? this.options.logger.warn : this.options.logger.error;
      log.call(
        this.options.logger,
        { err: error, records: batch.length, attempt: this.attempt, retryable },
        'PutRecordBatch failed, will retry',
      );
      return;
    }
    this.inFlightBytes = 0;
    if (result.responses.length !== batch.length) {
      // an answer that does not line up with what was sent proves nothing was stored: resend it all
      metrics?.sinkCalls.inc({ sink, outcome: 'error' });
      this.attempt++;
      this.requeue(batch);
      this.options.logger.error(
        { sent: batch.length, answered: result.responses.length },
        'PutRecordBatch answer does not match the request',
      );
      return;
    }
    const delivered: SinkEntry[] = [];
    const failed: PackedRecord[] = [];
    const codes = new Map<string, number>();
    batch.forEach((record, i) => {
      const response = result.responses[i];
      if (response?.errorCode) {
        failed.push(record);
        codes.set(response.errorCode, (codes.get(response.errorCode) ?? 0) + 1);
      } else {
        for (const e of record.entries) delivered.push(e);
      }
    });
    metrics?.recordsPut.inc({ sink }, batch.length - failed.length);
    for (const [code, n] of codes) metrics?.recordsFailed.inc({ sink, code }, n);
    metrics?.sinkCalls.inc({ sink, outcome: failed.length === 0 ? 'ok' : 'partial' });
    if (failed.length > 0) {
      this.attempt++;
      this.requeue(failed);
      this.options.logger.warn(
        { failed: failed.length, of: batch.length, codes: Object.fromEntries(codes), attempt: this.attempt },
        'PutRecordBatch partial failure, resending the failed records',
      );
    } else {
      this.attempt = 0;
    }
    if (delivered.length > 0) this.options.onDelivered(delivered);
  }

  /** Put records back at the front of the retry queue, in their order. */
  private requeue(records: PackedRecord[]): void {
    this.retry = [...records, ...this.retry];
    for (const r of records) this.retryBytes += r.bytes;
  }

  async flush(signal?: AbortSignal): Promise<void> {
    this.flushing++;
    try {
      while (
        !signal?.aborted &&
        !this.closed.signal.aborted &&
        (this.unsent.length > 0 || this.retry.length > 0 || this.driving)
      ) {
        this.kick();
        const driving = this.driving as Promise<void> | undefined;
        if (!driving) break;
        // raceAbort removes its abort listener every turn: a long flush never piles listeners on the signal
        await raceAbort(driving, signal);
      }
    } finally {
      this.flushing--;
    }
  }

  close(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.closed.abort();
  }
}
