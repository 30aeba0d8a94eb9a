/** One accepted tick on its way to the sink: its NDJSON line and where it sits in the spool. */
export interface SinkEntry {
  /** One newline-terminated NDJSON line. */
  readonly line: string;
  /** UTF-8 bytes of `line`. */
  readonly bytes: number;
  /** Spool segment holding the line, acknowledged when the line is delivered. */
  readonly segment: number;
  /** Epoch ms the pipeline accepted (or replayed) it: the start of its delivery latency. */
  readonly acceptedAt: number;
}

/** Called by a sink with entries its destination has accepted (each entry once). */
export type DeliveredCallback = (entries: readonly SinkEntry[]) => void;

/**
 * Where spooled ticks go: Firehose (`firehose.sink.ts`) or the local delivery stream (`local-delivery.sink.ts`).
 * A sink owns retries: delivery failures never surface as exceptions from `write`, they are retried until the
 * destination takes the data, while the spool keeps it safe.
 */
export interface TickSink {
  readonly name: string;
  /** Take entries already in the spool. */
  write(entries: readonly SinkEntry[]): void;
  /** Bytes taken but not delivered yet: the pipeline stops handing over entries above its high-water mark. */
  pendingBytes(): number;
  /**
   * Deliver everything held now, ignoring buffering hints. Resolves once delivered, or when `signal` aborts
   * (undelivered data then stays in the spool for the next run).
   */
  flush(signal?: AbortSignal): Promise<void>;
  /** Stop timers; pending data is abandoned to the spool. */
  close(): void;
}
