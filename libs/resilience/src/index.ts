export { type Clock, systemClock } from './clock';
export {
  abortReason,
  type AbortWait,
  raceAbort,
  type RaceResult,
  sleep,
  type SleepOptions,
  waitForAbort,
} from './abort';
export { backoffCeilingMs, backoffMs, type BackoffOptions, spreadMs } from './backoff';
export { retry, type RetryOptions } from './retry';
