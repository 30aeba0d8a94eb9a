/** Base class of every error the CDK app raises before CloudFormation sees anything. */
export class InfraError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InfraError';
  }
}

/** A CDK context value is missing its shape: `key` names the context key, `value` is what was given. */
export class InfraConfigError extends InfraError {
  readonly issues: readonly { key: string; value: unknown; message: string }[];

  constructor(issues: readonly { key: string; value: unknown; message: string }[]) {
    super(
      `invalid CDK context (see infra/README.md):\n` +
        issues.map((i) => `  -c ${i.key}=${JSON.stringify(i.value)}: ${i.message}`).join('\n'),
    );
    this.name = 'InfraConfigError';
    this.issues = issues;
  }
}

/** A build output the stacks package (Lambda zip, Dockerfile, query definitions) is not on disk yet. */
export class InfraAssetMissingError extends InfraError {
  readonly path: string;
  /** What makes it appear, e.g. "build it first with `npx nx run backup-lambda:build`". */
  readonly remedy: string;

  constructor(what: string, path: string, remedy: string) {
    super(`${what} not found at ${path}: ${remedy}`);
    this.name = 'InfraAssetMissingError';
    this.path = path;
    this.remedy = remedy;
  }
}

/** The query app's named-queries file exists but does not hold `{ name, description, sql }[]`. */
export class InfraNamedQueriesError extends InfraError {
  readonly path: string;

  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`named queries in ${path} are invalid: ${reason}`, options);
    this.name = 'InfraNamedQueriesError';
    this.path = path;
  }
}
