import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { S3ObjectStore } from '@btc-etl/object-store';
import { RAW_PREFIX } from '@btc-etl/s3-keys';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createBackupRecordHandler } from './backup-record.handler';
import { loadBackupConfig, s3StoreOptions } from '../core/backup.config';
import { BackupCounters } from '../core/backup.counters';
import { logger } from '../core/backup.logger';
import { createLimiter } from '../core/limiter';

// Module scope: validated once per cold start, and the S3 client (with its connection pool) reused across invocations.
const config = loadBackupConfig(process.env);
// The S3 adapter directly (not the factory): the Lambda only ever talks to S3, and the bundle then leaves the local
// adapter out.
const store = new S3ObjectStore(s3StoreOptions(config));
const processor = new BatchProcessor(EventType.SQS);

/** Running totals since this execution environment started (the local runner prints them). */
export const counters = new BackupCounters();

const backupRecord = createBackupRecordHandler({
  store,
  target: { backupBucket: config.backupBucket, backupPrefix: config.backupPrefix },
  logger,
  limit: createLimiter(config.copyConcurrency),
  counters,
  // Defence in depth: IAM already limits the function to the raw bucket; RAW_BUCKET set makes the code say so too.
  ...(config.rawBucket ? { allowedSource: { bucket: config.rawBucket, prefix: RAW_PREFIX } } : {}),
});

/**
 * SQS -> backup bucket. Each message is one S3 notification; a message fails alone (`batchItemFailures`) and the
 * rest of the batch is deleted. A batch where every message failed is reported the same way rather than thrown,
 * so Lambda and the local runner see one shape.
 */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, backupRecord, processor, { context, throwOnFullBatchFailure: false });
