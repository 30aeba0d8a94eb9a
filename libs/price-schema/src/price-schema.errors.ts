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

/** One NDJSON line that is not JSON or not a valid price record. Carries where it was and what was wrong. */
export class NdjsonLineError extends PriceSchemaError<{ lineNumber: number; snippet: string; issues: LineIssue[] }> {
  readonly lineNumber: number;
  /** The first 200 characters of the line. */
  readonly snippet: string;
  readonly issues: LineIssue[];

  constructor(lineNumber: number, line: string, issues: LineIssue[], options?: ErrorOptions) {
    const snippet = line.length > 200 ? `${line.slice(0, 200)}…` : line;
    const what = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    super(`line ${lineNumber}: ${what} (${JSON.stringify(snippet.slice(0, 80))})`, options, {
      lineNumber,
      snippet,
      issues,
    });
    this.lineNumber = lineNumber;
    this.snippet = snippet;
    this.issues = issues;
  }
}

/** A record handed to an encoder that the schema rejects. */
export class InvalidPriceTickError extends PriceSchemaError<{ issues: LineIssue[] }> {
  readonly issues: LineIssue[];
  constructor(issues: LineIssue[], options?: ErrorOptions) {
    super(`invalid price record: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, options, {
      issues,
    });
    this.issues = issues;
  }
}
