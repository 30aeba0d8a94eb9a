import { encodeNdjsonLine, PriceTickSchema, type PriceTick } from '@btc-etl/price-schema';
import { sleep, systemClock, type Clock } from '@btc-etl/resilience';
import { SpoolFullError } from '../extractor.errors';
import type { Logger } from '../ops/logger';
import type { ExtractorMetrics } from '../ops/extractor.metrics';
import type { Spool } from './spool';
import type { DeliveredCallback, SinkEntry, TickSink } from '../sinks/tick-sink.port';

export interface DeliveryPipelineOptions {
  spool: Spool;
  /** Builds the sink, handing it the callback it calls with delivered entries. */
  createSink: (onDelivered: DeliveredCallback) => TickSink;
  logger: Logger;
  metrics?: ExtractorMetrics;
  clock?: Clock;
  /**
   * Above this many undelivered bytes in the sink, new ticks stay on disk only and are read back later. Default 16 MiB.
   */
  highWaterBytes?: number;
  /** Validate each record against the schema before it is spooled (default true). */
  validate?: boolean;
}

/**
 * Accepted ticks' path: validate, encode as NDJSON, append to the spool (synchronously, in batches of one event
 * loop turn), hand to the sink, and drop from the spool once the sink confirms delivery. When the sink falls behind
 * (an outage), ticks pile up on disk only, so memory stays flat, and are read back in order when it recovers.
 */
export class DeliveryPipeline {
  readonly sink: TickSink;
  private readonly spool: Spool;
  private readonly logger: Logger;
  private readonly metrics: ExtractorMetrics | undefined;
  private readonly clock: Clock;
  private readonly highWaterBytes: number;
  private readonly validate: boolean;
  private pending: string[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  /** Lines of each spool segment already handed to the sink. */
  private readonly handed = new Map<number, number>();
  /** True while some spooled lines have not been handed to the sink yet (replay or backlog). */
  private behind: boolean;
  /** Spooled batches not yet acknowledged, oldest first: how many lines of which segment, accepted when. */
  private readonly unacked: { segment: number; remaining: number; acceptedAt: number }[] = [];

  constructor(options: DeliveryPipelineOptions) {
    this.spool = options.spool;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.clock = options.clock ?? systemClock;
    this.highWaterBytes = options.highWaterBytes ?? 16 * 1024 * 1024;
    this.validate = options.validate ?? true;
    this.sink = options.createSink((entries) => this.delivered(entries));
    this.behind = this.spool.depth > 0;
    // an earlier run's ticks count from now: their age before the crash is unknown here
    const openedAt = this.clock.now();
    for (const segment of this.spool.list())
      if (segment.count > segment.acked)
        this.unacked.push({ segment: segment.id, remaining: segment.count - segment.acked, acceptedAt: openedAt });
    if (this.behind) {
      this.logger.info({ depth: this.spool.depth, bytes: this.spool.bytes }, 'replaying spool from an earlier run');
    }
    this.updateGauges();
  }

  /** Start handing spooled lines from an earlier run to the sink. */
  start(): void {
    this.pump();
  }

  /**
   * Accept one record. Returns false (and logs at error level) when it is invalid or the spool is full; otherwise
   * it is in the spool once the current event-loop turn ends (or at `flushSpool()`).
   */
  accept(tick: PriceTick): boolean {
    if (this.validate) {
      const result = PriceTickSchema.safeParse(tick);
      if (!result.success) {
        this.metrics?.ticksRejected.inc({ reason: 'invalid' });
        this.logger.error({ recordId: tick.record_id, issues: result.error.issues }, 'invalid record not spooled');
        return false;
      }
    }
    const line = encodeNdjsonLine(tick);
    this.pending.push(line);
    this.pendingBytes += line.length; // a byte estimate is enough to bound the batch
    if (this.pendingBytes >= 1024 * 1024) this.flushSpool();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushSpool());
    }
    return true;
  }

  /** Write the records accepted so far to the spool (one write + fdatasync) and hand them on. */
  flushSpool(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    let segment: number;
    try {
      segment = this.spool.append(lines);
    } catch (error) {
      const reason = error instanceof SpoolFullError ? 'spool_full' : 'spool_error';
      this.metrics?.ticksRejected.inc({ reason }, lines.length);
      this.logger.error(
        { err: error, ticks: lines.length, spoolBytes: this.spool.bytes, capBytes: this.spool.capBytes },
        'ticks NOT spooled',
      );
      return;
    }
    const acceptedAt = this.clock.now();
    const last = this.unacked.at(-1);
    if (last && last.segment === segment && last.acceptedAt === acceptedAt) last.remaining += lines.length;
    else this.unacked.push({ segment, remaining: lines.length, acceptedAt });
    const start = this.handed.get(segment) ?? 0;
    if (
      !this.behind &&
      this.sink.pendingBytes() < this.highWaterBytes &&
      start + lines.length === this.spool.get(segment)?.count
    ) {
      const now = this.clock.now();
      const entries = lines.map((line) => ({ line, bytes: Buffer.byteLength(line), segment, acceptedAt: now }));
      this.handed.set(segment, start + lines.length);
      this.sink.write(entries);
    } else {
      this.behind = true;
    }
    this.updateGauges();
  }

  private delivered(entries: readonly SinkEntry[]): void {
    const now = this.clock.now();
    const perSegment = new Map<number, number>();
    for (const e of entries) {
      perSegment.set(e.segment, (perSegment.get(e.segment) ?? 0) + 1);
      this.metrics?.deliveryLatency.observe({ sink: this.sink.name }, (now - e.acceptedAt) / 1000);
    }
    for (const [segment, n] of perSegment) this.ack(segment, n);
    this.metrics?.ticksDelivered.inc({ sink: this.sink.name }, entries.length);
    this.updateGauges();
    if (this.behind) this.pump();
  }

  /** `n` lines of a segment are done with (delivered, or quarantined): off the spool and out of the lag count. */
  private ack(segment: number, n: number): void {
    this.spool.ack(segment, n);
    if (!this.spool.get(segment)) this.handed.delete(segment);
    // sinks deliver in order, so the oldest batches of the segment are the ones done (a partial Firehose failure
    // can reorder a few records: the lag then reads slightly young, never stuck)
    let left = n;
    for (let i = 0; i < this.unacked.length && left > 0; ) {
      const batch = this.unacked[i] as (typeof this.unacked)[number];
      if (batch.segment !== segment) {
        i++;
        continue;
      }
      const taken = Math.min(left, batch.remaining);
      batch.remaining -= taken;
      left -= taken;
      if (batch.remaining === 0) this.unacked.splice(i, 1);
      else i++;
    }
  }

  /**
   * Age of the oldest tick accepted but not yet acknowledged by the sink, in ms; 0 when everything is delivered.
   * (EMF `DeliveryLagMs`.)
   */
  deliveryLagMs(): number {
    const oldest = this.unacked[0];
    return oldest ? Math.max(0, this.clock.now() - oldest.acceptedAt) : 0;
  }

  /** Hand spooled lines the sink has not seen (replay, or a backlog) to it, oldest first, up to the high-water mark. */
  private pump(): void {
    while (this.behind && this.sink.pendingBytes() < this.highWaterBytes) {
      const segment = this.spool.list().find((s) => (this.handed.get(s.id) ?? 0) < s.count);
      if (!segment) {
        this.behind = false;
        break;
      }
      const from = this.handed.get(segment.id) ?? 0;
      const lines = this.spool.readLines(segment.id, from, segment.count);
      this.handed.set(segment.id, segment.count);
      const now = this.clock.now();
      const entries: SinkEntry[] = [];
      const bad: string[] = [];
      for (const line of lines) {
        if (!isJsonLine(line)) bad.push(line);
        else entries.push({ line, bytes: Buffer.byteLength(line), segment: segment.id, acceptedAt: now });
      }
      if (bad.length > 0) {
        // Never silently dropped: kept (durably) beside the spool for a human, then acknowledged so they cannot
        // block the rest.
        const path = this.spool.quarantine(bad, 'not JSON');
        this.logger.error({ segment: segment.id, path, lines: bad.length }, 'spooled lines are not JSON: quarantined');
        this.ack(segment.id, bad.length);
      }
      if (entries.length > 0) this.sink.write(entries);
    }
    this.updateGauges();
  }

  /**
   * Spool what is pending and deliver everything: replayed and backlogged lines too. Resolves when the spool is
   * empty, or when `signal` aborts (what is left stays in the spool for the next run).
   */
  async drain(signal?: AbortSignal): Promise<boolean> {
    this.flushSpool();
    while (!signal?.aborted) {
      this.pump();
      await this.sink.flush(signal);
      if (!this.behind && this.sink.pendingBytes() === 0) break;
      // the sink delivered what it held; more may be waiting on disk: go round again (yielding to I/O)
      await sleep(0, { signal, clock: this.clock });
    }
    return this.spool.depth === 0;
  }

  private updateGauges(): void {
    if (!this.metrics) return;
    this.metrics.spoolDepth.set(this.spool.depth);
    this.metrics.spoolBytes.set(this.spool.bytes);
    this.metrics.spoolCapBytes.set(this.spool.capBytes);
  }
}

function isJsonLine(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
