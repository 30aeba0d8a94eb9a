import { DataError, type ErrorData } from '@btc-etl/errors';

/** Base of every error the query app throws on purpose; its facts are in `data`. */
export class QueryError<D extends ErrorData = ErrorData> extends DataError<D> {}

/** One bad (or missing) flag, parameter or environment variable, and why. */
// A type alias, not an interface: DataError's data must be assignable to a string-keyed record.
export type QueryInputIssue = {
  /** The flag, parameter or variable at fault, e.g. `--interval` or `DATA_DIR`. */
  field: string;
  value: unknown;
  reason: string;
};

const describeIssue = ({ field, value, reason }: QueryInputIssue) =>
  `${field}: ${reason}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`;

/** A parameter or flag the user got wrong: the CLI prints it and exits 2, the dashboard answers 400. */
export class QueryInputError extends QueryError<QueryInputIssue> {
  constructor(field: string, value: unknown, reason: string, options?: ErrorOptions) {
    super(describeIssue({ field, value, reason }), { field, value, reason }, options);
  }
}

/** Environment variables that are bad or missing, every one of them at once: the CLI prints them and exits 2. */
export class QueryConfigError extends QueryError<{ issues: readonly QueryInputIssue[] }> {
  constructor(issues: readonly QueryInputIssue[]) {
    super(issues.map(describeIssue).join('; '), { issues });
  }
}

/** An Athena query that ended FAILED or CANCELLED, or did not finish in time. */
export class AthenaQueryError extends QueryError<{
  queryExecutionId: string | undefined;
  state: string | undefined;
  reason: string | undefined;
}> {
  constructor(
    queryExecutionId: string | undefined,
    state: string | undefined,
    reason: string | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `Athena query ${queryExecutionId ?? '(not started)'} ${state ?? 'failed'}: ${reason ?? 'no reason given'}`,
      { queryExecutionId, state, reason },
      options,
    );
  }
}

/** A result row from Athena whose value does not fit the column type the query definition declares. */
export class AthenaResultError extends QueryError<{ column: string; value: string | undefined; reason: string }> {
  constructor(column: string, value: string | undefined, reason: string) {
    super(`Athena result column ${column}: ${reason} (got ${JSON.stringify(value)})`, { column, value, reason });
  }
}

/** An object in the store that could not be read at all (not one bad line: a whole file). */
export class ObjectReadError extends QueryError<{ bucket: string; key: string; reason: string }> {
  constructor(bucket: string, key: string, reason: string, options?: ErrorOptions) {
    super(`s3://${bucket}/${key}: ${reason}`, { bucket, key, reason }, options);
  }
}
