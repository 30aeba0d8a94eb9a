/** Base of every error this lib throws. */
export class PriceSchemaError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PriceSchemaError';
  }
}

export interface LineIssue {
  path: string;
  message: string;
}

/** One NDJSON line that is not JSON or not a valid price record. Carries where it was and what was wrong. */
export class NdjsonLineError extends PriceSchemaError {
  readonly lineNumber: number;
  /** The first 200 characters of the line. */
  readonly snippet: string;
  readonly issues: LineIssue[];

  constructor(lineNumber: number, line: string, issues: LineIssue[], options?: ErrorOptions) {
    const snippet = line.length > 200 ? `${line.slice(0, 200)}…` : line;
    const what = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    super(`line ${lineNumber}: ${what} (${JSON.stringify(snippet.slice(0, 80))})`, options);
    this.name = 'NdjsonLineError';
    this.lineNumber = lineNumber;
    this.snippet = snippet;
    this.issues = issues;
  }
}

/** A record handed to an encoder that the schema rejects. */
export class InvalidPriceTickError extends PriceSchemaError {
  readonly issues: LineIssue[];
  constructor(issues: LineIssue[], options?: ErrorOptions) {
    super(`invalid price record: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, options);
    this.name = 'InvalidPriceTickError';
    this.issues = issues;
  }
}
