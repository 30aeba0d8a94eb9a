import pino from 'pino';

/** The app's one logger: JSON lines on stderr, so stdout carries only query results. */
export function createLogger(level: string) {
  return pino({ name: 'query', level }, pino.destination(2));
}
export type Logger = ReturnType<typeof createLogger>;
