import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The app's one logger (Powertools: JSON lines, with the Lambda context when there is one), on stderr so the CLI's
 * stdout carries only the run report and the EMF lines. Level from POWERTOOLS_LOG_LEVEL, as Powertools reads it.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'compactor',
  logRecordOrder: ['level', 'message'],
});
