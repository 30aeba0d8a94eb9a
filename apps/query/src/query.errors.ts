/** Base of every error the query app throws on purpose. */
export class QueryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QueryError';
  }
}

/** A parameter, flag or environment variable the user got wrong: the CLI prints it and exits 2. */
export class QueryInputError extends QueryError {
  /** The flag, parameter or variable at fault, e.g. `--interval` or `DATA_DIR`. */
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, reason: string, options?: ErrorOptions) {
    super(`${field}: ${reason}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`, options);
    this.name = 'QueryInputError';
    this.field = field;
    this.value = value;
  }
}

/** An Athena query that ended FAILED or CANCELLED, or did not finish in time. */
export class AthenaQueryError extends QueryError {
  readonly queryExecutionId: string | undefined;
  readonly state: string | undefined;
  readonly reason: string | undefined;
  constructor(
    queryExecutionId: string | undefined,
    state: string | undefined,
    reason: string | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `Athena query ${queryExecutionId ?? '(not started)'} ${state ?? 'failed'}: ${reason ?? 'no reason given'}`,
      options,
    );
    this.name = 'AthenaQueryError';
    this.queryExecutionId = queryExecutionId;
    this.state = state;
    this.reason = reason;
  }
}

/** A result row from Athena whose value does not fit the column type the query definition declares. */
export class AthenaResultError extends QueryError {
  readonly column: string;
  readonly value: string | undefined;
  constructor(column: string, value: string | undefined, reason: string) {
    super(`Athena result column ${column}: ${reason} (got ${JSON.stringify(value)})`);
    this.name = 'AthenaResultError';
    this.column = column;
    this.value = value;
  }
}

/** An object in the store that could not be read at all (not one bad line: a whole file). */
export class ObjectReadError extends QueryError {
  readonly bucket: string;
  readonly key: string;
  constructor(bucket: string, key: string, reason: string, options?: ErrorOptions) {
    super(`s3://${bucket}/${key}: ${reason}`, options);
    this.name = 'ObjectReadError';
    this.bucket = bucket;
    this.key = key;
  }
}
