import { DataError, type ErrorData } from '@btc-etl/errors';

/**
 * Base class of every error the CDK app raises before CloudFormation sees anything (main.ts prints the message alone
 * and exits 2). The facts are in `data`, as in every `DataError`.
 */
export class InfraError<D extends ErrorData = ErrorData> extends DataError<D> {
  constructor(message: string, data: D = {} as D, options?: ErrorOptions) {
    super(message, data, options);
  }
}

/** One bad CDK context value: the key, what was given, and why it is refused. */
export interface ContextIssue {
  key: string;
  value: unknown;
  message: string;
}

/** CDK context values that are missing their shape, each naming its key and the value given. */
export class InfraConfigError extends InfraError<{ issues: readonly ContextIssue[] }> {
  constructor(issues: readonly ContextIssue[]) {
    super(
      `invalid CDK context (see infra/README.md):\n` +
        issues
          .map(
            (i) =>
              `  -c ${i.key}=${i.value === undefined ? '(unset, its default)' : JSON.stringify(i.value)}: ${i.message}`,
          )
          .join('\n'),
      { issues },
    );
  }

  get issues(): readonly ContextIssue[] {
    return this.data.issues;
  }
}

/** A build output the stacks package (Lambda zip, Dockerfile, query definitions) is not on disk yet. */
export class InfraAssetMissingError extends InfraError<{ what: string; path: string; remedy: string }> {
  constructor(what: string, path: string, remedy: string) {
    super(`${what} not found at ${path}: ${remedy}`, { what, path, remedy });
  }

  get path(): string {
    return this.data.path;
  }

  /** What makes it appear, e.g. "build it first with `npx nx run backup-lambda:build`". */
  get remedy(): string {
    return this.data.remedy;
  }
}

/** The query app's named-queries file exists but does not hold `{ name, description, sql }[]`. */
export class InfraNamedQueriesError extends InfraError<{ path: string; reason: string }> {
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`named queries in ${path} are invalid: ${reason}`, { path, reason }, options);
  }

  get path(): string {
    return this.data.path;
  }
}
