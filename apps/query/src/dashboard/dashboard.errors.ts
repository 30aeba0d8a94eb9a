import { DataError } from '@btc-etl/errors';

/** The dashboard is already doing as much work as it may: the request is refused (503) rather than queued forever. */
export class DashboardBusyError extends DataError<{ running: number; queued: number; retryAfterS: number }> {}
