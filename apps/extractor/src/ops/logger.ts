import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';

export type { Logger };

/** The service's JSON logger; every line carries the run id so one process's story can be followed. */
export function createLogger(level = 'info', runId: string = randomUUID()): Logger {
  return pino({ level, base: { service: 'extractor', runId } });
}

/** A logger that writes nothing (tests, benches). */
export const silentLogger: Logger = pino({ level: 'silent' });
