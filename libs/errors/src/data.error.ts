/** Facts about a failure that a caller, a retry policy or a log line reads: plain data, never a message to parse. */
export type ErrorData = Readonly<Record<string, unknown>>;

/**
 * The base of every error class in the workspace: the name is the class's own (kept through bundling: the bundler
 * runs with `keepNames`), the facts live in `data`, and the underlying error stays in `cause`. Subclasses only say
 * what went wrong.
 *
 * @example
 * class ManifestConflictError extends DataError<{ key: string; etag: string }> {}
 * throw new ManifestConflictError(`manifest ${key} changed under us`, { key, etag }, { cause });
 */
export class DataError<D extends ErrorData = ErrorData> extends Error {
  readonly data: D;

  constructor(message: string, data: D, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.data = data;
  }

  /** What `JSON.stringify` and pino show: name, message, data and the cause's name and message. */
  toJSON(): Record<string, unknown> {
    const cause = this.cause instanceof Error ? { name: this.cause.name, message: this.cause.message } : this.cause;
    return { name: this.name, message: this.message, data: this.data, ...(cause === undefined ? {} : { cause }) };
  }
}
