/** Base of every error the extractor throws. */
export class ExtractorError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ExtractorError';
  }
}

/** A bad configuration value: names the env variable (and its CLI flag) so the operator knows what to fix. */
export class ConfigError extends ExtractorError {
  /** The env variable, e.g. `INTERVAL_MS`; `PRODUCTS,INTERVAL_MS` when a combination is refused. */
  readonly variable: string;
  readonly value: string | undefined;
  constructor(variable: string, value: string | undefined, reason: string) {
    super(`${variable}${value === undefined ? '' : `=${JSON.stringify(value)}`}: ${reason}`);
    this.name = 'ConfigError';
    this.variable = variable;
    this.value = value;
  }
}

/** The spool reached its disk cap: the tick was not accepted (everything accepted before stays). */
export class SpoolFullError extends ExtractorError {
  readonly capBytes: number;
  readonly usedBytes: number;
  constructor(usedBytes: number, capBytes: number) {
    super(`spool is full: ${usedBytes} of ${capBytes} bytes in use; the sink has not acknowledged older ticks`);
    this.name = 'SpoolFullError';
    this.capBytes = capBytes;
    this.usedBytes = usedBytes;
  }
}

/** A spool segment that cannot be read back at start-up (not a truncated last line: that one is repaired). */
export class SpoolCorruptError extends ExtractorError {
  readonly path: string;
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`spool segment ${path}: ${reason}`, options);
    this.name = 'SpoolCorruptError';
    this.path = path;
  }
}

/** One PutRecordBatch call that failed as a whole; `retryable` says whether the sink tries it again soon. */
export class FirehoseCallError extends ExtractorError {
  readonly code: string;
  readonly retryable: boolean;
  readonly httpStatus: number | undefined;
  constructor(code: string, retryable: boolean, httpStatus: number | undefined, options?: ErrorOptions) {
    super(`PutRecordBatch failed: ${code}${httpStatus ? ` (HTTP ${httpStatus})` : ''}`, options);
    this.name = 'FirehoseCallError';
    this.code = code;
    this.retryable = retryable;
    this.httpStatus = httpStatus;
  }
}

/** A backfill checkpoint file that cannot be read; the job is not resumed from a guess. */
export class BackfillCheckpointError extends ExtractorError {
  readonly path: string;
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`backfill checkpoint ${path}: ${reason}`, options);
    this.name = 'BackfillCheckpointError';
    this.path = path;
  }
}
