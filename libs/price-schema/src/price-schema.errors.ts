import { DataError, type ErrorData } from '@btc-etl/errors';

/** Base of every error this lib throws; the facts of a subclass are in `data` (and its typed fields). */
export class PriceSchemaError<D extends ErrorData = ErrorData> extends DataError<D> {
  constructor(message: string, options?: ErrorOptions, data: D = {} as D) {
    super(message, data, options);
  }
}

/** One thing wrong with a line or record: where (dot path, '' for the whole) and what. */
export type LineIssue = {
  path: string;
  message: string;
};

/**
 * One NDJSON line that is not JSON or not a valid price record. `data` says where it was (`lineNumber`), what it held
 * (`snippet`: its first 200 characters) and what was wrong (`issues`).
 */
export class NdjsonLineError extends PriceSchemaError<{ lineNumber: number; snippet: string; issues: LineIssue[] }> {
  constructor(lineNumber: number, line: string, issues: LineIssue[], options?: ErrorOptions) {
    const snippet = line.length > 200 ? `${line.slice(0, 200)}…` : line;
    const what = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    super(`line ${lineNumber}: ${what} (${JSON.stringify(snippet.slice(0, 80))})`, options, {
      lineNumber,
      snippet,
      issues,
    });
  }
}

/** A record handed to an encoder that the schema rejects; `data.issues` names each field and what was wrong. */
export class InvalidPriceTickError extends PriceSchemaError<{ issues: LineIssue[] }> {
  constructor(issues: LineIssue[], options?: ErrorOptions) {
    super(`invalid price record: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, options, {
      issues,
    });
  }
}

/**
 * A value the silver layer cannot store exactly (too many digits for DECIMAL(38,18), digits below the microsecond,
 * leading zeros), or a record out of place in a silver file. Refused, never rounded: `data` names the record, the
 * column, the value and why.
 */
export class SilverValueError extends PriceSchemaError<{
  recordId: string;
  column: string;
  value: string;
  reason: string;
}> {
  constructor(recordId: string, column: string, value: string, reason: string, options?: ErrorOptions) {
    const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
    super(`silver cannot store ${column} ${JSON.stringify(shown)} of record ${recordId || '?'}: ${reason}`, options, {
      recordId,
      column,
      value,
      reason,
    });
  }
}
