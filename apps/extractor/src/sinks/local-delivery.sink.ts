import type { ObjectStore } from '@btc-etl/object-store';
import { buildFirehoseKey, RAW_PREFIX } from '@btc-etl/s3-keys';
import { backoffMs, raceAbort, sleep, systemClock, type Clock } from '@btc-etl/resilience';
import type { Logger } from '../ops/logger';
import type { ExtractorMetrics } from '../ops/extractor.metrics';
import type { DeliveredCallback, SinkEntry, TickSink } from './tick-sink.port';

export interface LocalDeliveryOptions {
  store: ObjectStore;
  bucket: string;
  streamName: string;
  /** Key prefix, default `raw/` (as the delivery stream in infra). */
  prefix?: string;
  /** Firehose `BufferingHints.SizeInMBs`: an object is cut once this many MiB are buffered. */
  bufferSizeMb: number;
  /** Firehose `BufferingHints.IntervalInSeconds`: an object is cut this long after its first record arrived. */
  bufferIntervalS: number;
  onDelivered: DeliveredCallback;
  logger: Logger;
  metrics?: ExtractorMetrics;
  clock?: Clock;
  retryBaseMs?: number;
  retryCapMs?: number;
}

interface PendingObject {
  key: string;
  entries: SinkEntry[];
  bytes: number;
}

/**
 * A local delivery stream with Firehose's semantics: records are buffered until the size or interval hint is
 * reached, then written as one object through the ObjectStore under Firehose's key layout
 * `raw/YYYY/MM/dd/HH/<stream>-1-YYYY-MM-dd-HH-mm-ss-<uuid>` (UTC time the object's first record arrived), with
 * Firehose's bytes: the records concatenated as sent. A failed write is retried with the same key, so a retry
 * never makes a second object.
 */
export class LocalDeliverySink implements TickSink {
  readonly name = 'local';
  private readonly clock: Clock;
  private buffer: SinkEntry[] = [];
  private bufferBytes = 0;
  private firstArrival = 0;
  private timer: unknown;
  private readonly queue: PendingObject[] = [];
  private queuedBytes = 0;
  private writing: Promise<void> | undefined;
  private readonly closed = new AbortController();

  constructor(private readonly options: LocalDeliveryOptions) {
    this.clock = options.clock ?? systemClock;
  }

  write(entries: readonly SinkEntry[]): void {
    const sizeLimit = this.options.bufferSizeMb * 1024 * 1024;
    for (const entry of entries) {
      if (this.buffer.length === 0) {
        this.firstArrival = this.clock.now();
        this.timer = this.clock.setTimeout(() => this.cut(), this.options.bufferIntervalS * 1000);
      }
      this.buffer.push(entry);
      this.bufferBytes += entry.bytes;
      if (this.bufferBytes >= sizeLimit) this.cut();
    }
  }

  pendingBytes(): number {
    return this.bufferBytes + this.queuedBytes;
  }

  /** Close the current buffer into one object and start writing it. */
  private cut(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const key = buildFirehoseKey({
      prefix: this.options.prefix ?? RAW_PREFIX,
      streamName: this.options.streamName,
      arrival: new Date(this.firstArrival),
    });
    this.queue.push({ key, entries: this.buffer, bytes: this.bufferBytes });
    this.queuedBytes += this.bufferBytes;
    this.buffer = [];
    this.bufferBytes = 0;
    this.writing ??= this.writeQueue().finally(() => {
      this.writing = undefined;
    });
  }

  private async writeQueue(): Promise<void> {
    while (this.queue.length > 0 && !this.closed.signal.aborted) {
      const object = this.queue[0] as PendingObject;
      const body = object.entries.map((e) => e.line).join('');
      for (let attempt = 0; !this.closed.signal.aborted; attempt++) {
        try {
          await this.options.store.put(this.options.bucket, object.key, body);
          break;
        } catch (error) {
          const delay = backoffMs(attempt, {
            baseMs: this.options.retryBaseMs ?? 200,
            capMs: this.options.retryCapMs ?? 10_000,
          });
          this.options.metrics?.recordsFailed.inc({ sink: this.name, code: (error as Error).name ?? 'Error' });
          this.options.logger.warn(
            { err: error, key: object.key, attempt, retryInMs: delay },
            'local delivery failed, retrying',
          );
          await sleep(delay, { signal: this.closed.signal, clock: this.clock });
          this.options.metrics?.recordsRetried.inc({ sink: this.name });
        }
      }
      if (this.closed.signal.aborted) return;
      this.queue.shift();
      this.queuedBytes -= object.bytes;
      this.options.metrics?.recordsPut.inc({ sink: this.name });
      this.options.logger.debug(
        { key: object.key, ticks: object.entries.length, bytes: object.bytes },
        'object delivered',
      );
      this.options.onDelivered(object.entries);
    }
  }

  async flush(signal?: AbortSignal): Promise<void> {
    this.cut();
    // raceAbort removes its abort listener every turn: a long flush never piles listeners on the signal
    while (this.writing && !signal?.aborted) await raceAbort(this.writing, signal);
  }

  close(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.closed.abort();
  }
}
