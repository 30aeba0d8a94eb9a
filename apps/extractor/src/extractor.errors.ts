import { DataError, type ErrorData } from '@btc-etl/errors';

/** Base of every error the extractor throws (its name, facts and cause come from {@link DataError}). */
export class ExtractorError<D extends ErrorData = ErrorData> extends DataError<D> {}

/** A bad configuration value: names the env variable (and its CLI flag) so the operator knows what to fix. */
export class ConfigError extends ExtractorError<{ variable: string; value: string | undefined }> {
  /** The env variable, e.g. `INTERVAL_MS`; `PRODUCTS,INTERVAL_MS` when a combination is refused. */
  readonly variable: string;
  constructor(variable: string, value: string | undefined, reason: string) {
    super(`${variable}${value === undefined ? '' : `=${JSON.stringify(value)}`}: ${reason}`, { variable, value });
    this.variable = variable;
  }
}

/** The spool reached its disk cap: the tick was not accepted (everything accepted before stays). */
export class SpoolFullError extends ExtractorError<{ usedBytes: number; capBytes: number }> {
  constructor(usedBytes: number, capBytes: number) {
    super(`spool is full: ${usedBytes} of ${capBytes} bytes in use; the sink has not acknowledged older ticks`, {
      usedBytes,
      capBytes,
    });
  }
}

/** A spool segment that cannot be read back at start-up (not a truncated last line: that one is repaired). */
export class SpoolCorruptError extends ExtractorError<{ path: string }> {
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`spool segment ${path}: ${reason}`, { path }, options);
  }
}

/** Who holds a spool directory's single-writer lease (the content of its lease file). */
export interface SpoolLeaseHolder {
  pid: number;
  host: string;
  runId: string;
  /** ISO time the holder took the lease. */
  since: string;
  /** ISO time of the holder's last heartbeat. */
  heartbeatAt: string;
}

/**
 * Another extractor holds the spool directory (a live lease): this one must not write there. Names the holder so
 * the operator can find it.
 */
export class SpoolLockedError extends ExtractorError<{ dir: string; holder: SpoolLeaseHolder; waitedMs: number }> {
  constructor(dir: string, holder: SpoolLeaseHolder, waitedMs: number) {
    super(
      `spool ${dir} is in use by another extractor: pid ${holder.pid} on ${holder.host}, run ${holder.runId}, ` +
        `since ${holder.since} (last heartbeat ${holder.heartbeatAt})` +
        (waitedMs > 0 ? `; waited ${Math.round(waitedMs / 1000)} s (SPOOL_LOCK_WAIT_S)` : '') +
        '. Stop that process first, or give this one its own SPOOL_DIR',
      { dir, holder, waitedMs },
    );
  }
}

/** This process's spool lease was taken over by another extractor (it stalled past the stale timeout). */
export class SpoolLeaseLostError extends ExtractorError<{ dir: string; holder: SpoolLeaseHolder | undefined }> {
  constructor(dir: string, holder: SpoolLeaseHolder | undefined) {
    super(
      `lost the lease of spool ${dir}` +
        (holder ? ` to pid ${holder.pid} on ${holder.host}, run ${holder.runId}` : ' (the lease file is gone)') +
        ': stopping without touching the spool again',
      { dir, holder },
    );
  }
}

/** A backfill checkpoint file that cannot be read; the job is not resumed from a guess. */
export class BackfillCheckpointError extends ExtractorError<{ path: string }> {
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`backfill checkpoint ${path}: ${reason}`, { path }, options);
  }
}
