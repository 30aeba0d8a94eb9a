import { DataError, type ErrorData } from '@btc-etl/errors';

/** Base of every compactor error; facts in `data`. */
export class CompactorError<D extends ErrorData = ErrorData> extends DataError<D> {}

/** A bad environment variable or CLI flag; `data.issues` names each variable and what was wrong. Exit code 2. */
export class CompactorConfigError extends CompactorError<{ issues: readonly { variable: string; message: string }[] }> {
  constructor(issues: readonly { variable: string; message: string }[]) {
    super(`invalid compactor configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`, {
      issues,
    });
  }
}

/** A state object under `_state/compactor/` that is not what the compactor wrote. */
export class CompactorStateError extends CompactorError<{ key: string; reason: string }> {
  constructor(key: string, reason: string, options?: ErrorOptions) {
    super(`compactor state ${key}: ${reason}`, { key, reason }, options);
  }
}
