import type { ObjectStore } from '@btc-etl/object-store';
import type { SQSRecord } from 'aws-lambda';
import { backupObject, type BackupResult, type BackupTarget } from '../core/backup-object';
import type { BackupCounters } from '../core/backup.counters';
import type { BackupLogger } from '../core/backup.logger';
import { BackupMessageError, BackupRefusedError, InvalidNotificationError } from '../core/backup.errors';
import type { Limiter } from '../core/limiter';
import { parseS3Notification } from './s3-notification.schema';

export interface BackupRecordDeps {
  store: ObjectStore;
  target: BackupTarget;
  logger: BackupLogger;
  /** Shared by all records of a batch, so copies stay bounded across the whole batch. */
  limit: Limiter;
  counters: BackupCounters;
  /**
   * Only objects in this bucket under this prefix are backed up; any other event is refused (counted, logged with
   * bucket and key, and its message fails), as IAM refuses it on AWS. Unset: every event is acted on.
   */
  allowedSource?: AllowedSource;
}

export interface AllowedSource {
  bucket: string;
  prefix: string;
}

/** What one SQS message amounted to (the batch processor keeps it as the record's success value). */
export interface BackupMessageSummary {
  messageId: string;
  testEvent: boolean;
  results: BackupResult[];
  skippedEvents: number;
}

/**
 * The per-record function for Powertools' `BatchProcessor`: parse the S3 notification in the SQS body, back up every
 * ObjectCreated entry (concurrently, through the shared limiter), and throw when any of them failed, so that only
 * this message is reported in `batchItemFailures`. Objects already copied are skipped on redelivery.
 */
export function createBackupRecordHandler(
  deps: BackupRecordDeps,
): (record: SQSRecord) => Promise<BackupMessageSummary> {
  const { store, target, logger, limit, counters, allowedSource } = deps;
  const refusal = (event: { bucket: string; key: string }): BackupRefusedError | undefined =>
    allowedSource && (event.bucket !== allowedSource.bucket || !event.key.startsWith(allowedSource.prefix))
      ? new BackupRefusedError(event.bucket, event.key, allowedSource)
      : undefined;
  return async (record) => {
    // Records of a batch run concurrently on one logger, so per-message keys go into each line instead of
    // appendKeys (which would leak one message's id into another's lines).
    const { messageId } = record;
    let parsed;
    try {
      parsed = parseS3Notification(record.body);
    } catch (error) {
      counters.add('invalid-message');
      if (error instanceof InvalidNotificationError) {
        logger.error('invalid message', { messageId, receiveCount: record.attributes.ApproximateReceiveCount, error });
      }
      throw error;
    }
    if (parsed.kind === 'test-event') {
      counters.add('test-event');
      logger.info('s3 test event skipped', { messageId, bucket: parsed.bucket });
      return { messageId, testEvent: true, results: [], skippedEvents: 0 };
    }
    for (const skipped of parsed.skipped) {
      counters.add('skipped-event');
      logger.info('event skipped', { messageId, ...skipped });
    }

    const settled = await Promise.allSettled(
      parsed.created.map((event) => {
        const refused = refusal(event);
        return refused ? Promise.reject(refused) : limit(() => backupObject(store, event, target));
      }),
    );
    const results: BackupResult[] = [];
    const failures: Error[] = [];
    for (const [i, outcome] of settled.entries()) {
      const event = parsed.created[i];
      if (outcome.status === 'fulfilled') {
        results.push(outcome.value);
        counters.add(outcome.value.outcome);
        const { outcome: what, source, destination, etag, currentEtag } = outcome.value;
        const level = what === 'source-missing' || what === 'superseded' || what === 'same-object' ? 'warn' : 'info';
        logger[level](`backup ${what}`, {
          messageId,
          source,
          destination,
          eventEtag: event?.etag,
          etag,
          currentEtag,
          size: event?.size,
        });
      } else if (outcome.reason instanceof BackupRefusedError) {
        counters.add('refused');
        failures.push(outcome.reason);
        logger.error('event refused: not the raw bucket and prefix', { messageId, ...outcome.reason.data });
      } else {
        counters.add('failed');
        const error = outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason));
        failures.push(error);
        logger.error('backup failed', { messageId, bucket: event?.bucket, key: event?.key, error });
      }
    }
    if (failures.length > 0) throw new BackupMessageError(messageId, failures);
    return { messageId, testEvent: false, results, skippedEvents: parsed.skipped.length };
  };
}
