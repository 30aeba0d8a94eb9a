import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The app's one logger (Powertools: JSON lines with the Lambda context when there is one). Level from
 * POWERTOOLS_LOG_LEVEL (or AWS_LAMBDA_LOG_LEVEL), as Powertools reads it itself.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'backup-lambda' });

/** What the parts need of a logger (tests pass a recorder). */
export type BackupLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
