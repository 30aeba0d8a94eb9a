import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { createObjectStore, ObjectStoreError, type ObjectStore } from '@btc-etl/object-store';
import type { Context, SQSEvent } from 'aws-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fixture,
  s3NotificationBody,
  s3TestEventBody,
  sqsEvent,
  sqsRecordFactory,
} from '../__fixtures__/event.factories';
import type { BackupLogger } from '../core/backup.logger';
import { createBackupRecordHandler, type AllowedSource } from './backup-record.handler';
import { BackupCounters } from '../core/backup.counters';
import { createLimiter } from '../core/limiter';

const RAW = 'btc-etl-raw';
const BACKUP = 'btc-etl-backup';

/** Captures log lines instead of printing them. */
function memoryLogger() {
  const lines: { level: string; message: string; extra: unknown }[] = [];
  const log = (level: string) => (message: string, extra?: unknown) => void lines.push({ level, message, extra });
  const logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  } as unknown as BackupLogger;
  return { logger, lines };
}

let root: string;
let store: ObjectStore;
let counters: BackupCounters;

function setup(s: ObjectStore = store, concurrency = 4, allowedSource?: AllowedSource) {
  const { logger, lines } = memoryLogger();
  const recordHandler = createBackupRecordHandler({
    store: s,
    target: { backupBucket: BACKUP, backupPrefix: '' },
    logger,
    limit: createLimiter(concurrency),
    counters,
    ...(allowedSource ? { allowedSource } : {}),
  });
  const processor = new BatchProcessor(EventType.SQS);
  const handler = (event: SQSEvent) =>
    processPartialResponse(event, recordHandler, processor, { context: {} as Context, throwOnFullBatchFailure: false });
  return { handler, lines };
}

async function putRaw(key: string, body: string) {
  const { etag } = await store.put(RAW, key, body);
  return { key, size: Buffer.byteLength(body), etag };
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'backup-record-'));
  store = createObjectStore({ kind: 'local', root });
  counters = new BackupCounters();
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the SQS record handler under BatchProcessor', () => {
  it('fails only the unparsable message; the test event and the good one succeed', async () => {
    const good = await putRaw('raw/2026/11/27/19/good one.json', 'good');
    const poison = sqsRecordFactory('this is not json');
    const event = sqsEvent(sqsRecordFactory(s3TestEventBody()), sqsRecordFactory(s3NotificationBody(good)), poison);

    const { handler, lines } = setup();
    const response = await handler(event);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: poison.messageId }] });
    expect(await store.head(BACKUP, good.key)).toMatchObject({ etag: good.etag });
    expect(counters.snapshot()).toEqual({ copied: 1, 'invalid-message': 1, 'test-event': 1 });
    expect(lines.find((l) => l.message === 'invalid message')?.extra).toMatchObject({ messageId: poison.messageId });
  });

  it('backs up every entry of Records in one message and skips the non-ObjectCreated ones', async () => {
    const a = await putRaw('raw/a.json', 'a');
    const b = await putRaw('raw/b.json', 'bb');
    const body = JSON.stringify({
      Records: [
        ...JSON.parse(s3NotificationBody(a)).Records,
        ...JSON.parse(s3NotificationBody({ ...b, eventName: 'ObjectRemoved:Delete' })).Records,
        ...JSON.parse(s3NotificationBody(b)).Records,
      ],
    });
    const { handler } = setup();
    expect(await handler(sqsEvent(sqsRecordFactory(body)))).toEqual({ batchItemFailures: [] });
    expect(await store.head(BACKUP, 'raw/a.json')).toBeDefined();
    expect(await store.head(BACKUP, 'raw/b.json')).toBeDefined();
    expect(counters.snapshot()).toEqual({ copied: 2, 'skipped-event': 1 });
  });

  it('treats duplicate deliveries in one batch and across batches as success without copying again', async () => {
    const obj = await putRaw('raw/dup.json', 'dup');
    const { handler } = setup();
    const body = s3NotificationBody(obj);
    await handler(sqsEvent(sqsRecordFactory(body)));
    expect(await handler(sqsEvent(sqsRecordFactory(body), sqsRecordFactory(body)))).toEqual({ batchItemFailures: [] });
    expect(counters.get('copied')).toBe(1);
    expect(counters.get('already-backed-up')).toBe(2);
  });

  it('fails a message whose copy hit a transient error, and only that one; redelivery then copies it', async () => {
    const ok = await putRaw('raw/ok.json', 'ok');
    const flakyObj = await putRaw('raw/flaky.json', 'flaky');
    let failuresLeft = 1;
    const flaky: ObjectStore = {
      ...store,
      head: store.head.bind(store),
      copy: (source, destination, options) => {
        if (source.key === flakyObj.key && failuresLeft-- > 0) {
          return Promise.reject(
            new ObjectStoreError(
              'copy',
              BACKUP,
              source.key,
              'InternalError (HTTP 500): We encountered an internal error',
            ),
          );
        }
        return store.copy(source, destination, options);
      },
    };
    const { handler, lines } = setup(flaky);
    const flakyMsg = sqsRecordFactory(s3NotificationBody(flakyObj));
    // The same message also names an object that copies fine: it is copied now and skipped on redelivery.
    const mixedBody = JSON.stringify({
      Records: [...JSON.parse(s3NotificationBody(ok)).Records, ...JSON.parse(flakyMsg.body).Records],
    });
    const mixed = sqsRecordFactory(mixedBody);

    expect(await handler(sqsEvent(mixed, sqsRecordFactory(s3NotificationBody(ok))))).toEqual({
      batchItemFailures: [{ itemIdentifier: mixed.messageId }],
    });
    expect(lines.some((l) => l.level === 'error' && l.message === 'backup failed')).toBe(true);
    expect(await store.head(BACKUP, 'raw/flaky.json')).toBeUndefined();

    expect(await handler(sqsEvent(mixed))).toEqual({ batchItemFailures: [] });
    expect(await store.head(BACKUP, 'raw/flaky.json')).toMatchObject({ etag: flakyObj.etag });
  });

  it('counts a deleted source and a superseded event, and deletes their messages (no endless retries)', async () => {
    const gone = await putRaw('raw/gone.json', 'gone');
    await store.delete(RAW, 'raw/gone.json');
    const v1 = await putRaw('raw/v.json', 'v1');
    await putRaw('raw/v.json', 'v2 bytes');
    const { handler } = setup();
    expect(
      await handler(sqsEvent(sqsRecordFactory(s3NotificationBody(gone)), sqsRecordFactory(s3NotificationBody(v1)))),
    ).toEqual({ batchItemFailures: [] });
    expect(counters.snapshot()).toEqual({ 'source-missing': 1, superseded: 1 });
  });

  it('keeps copies across the whole batch within the concurrency bound', async () => {
    const objects = await Promise.all(Array.from({ length: 12 }, (_, i) => putRaw(`raw/c/${i}.json`, `object ${i}`)));
    let inFlight = 0;
    let peak = 0;
    const tracking: ObjectStore = {
      ...store,
      head: store.head.bind(store),
      copy: async (source, destination, options) => {
        peak = Math.max(peak, ++inFlight);
        try {
          await new Promise((r) => setTimeout(r, 10));
          return await store.copy(source, destination, options);
        } finally {
          inFlight--;
        }
      },
    };
    const { handler } = setup(tracking, 3);
    // 4 messages of 3 objects each: 12 copies, at most 3 at once although records run in parallel.
    const messages = [0, 3, 6, 9].map((i) => sqsRecordFactory(s3NotificationBody(...objects.slice(i, i + 3))));
    expect(await handler(sqsEvent(...messages))).toEqual({ batchItemFailures: [] });
    expect(counters.get('copied')).toBe(12);
    expect(peak).toBe(3);
  });

  it('reads the captured Lambda SQS record shape', async () => {
    const record = JSON.parse(fixture('sqs-record.json'));
    const { handler } = setup();
    expect(await handler(sqsEvent(record))).toEqual({ batchItemFailures: [] });
    expect(counters.get('test-event')).toBe(1);
  });

  describe('with an allowed source (RAW_BUCKET and raw/)', () => {
    it.each([
      ['another bucket', 'other-bucket', 'raw/2026/11/27/19/x.json'],
      ['the raw bucket outside raw/', RAW, 'silver/ticks/x.parquet'],
      ['a key that only looks like raw/', RAW, 'rawish/2026/x.json'],
    ])('refuses an event from %s, copies the rest of its message, and fails the message', async (_, bucket, key) => {
      const good = await putRaw('raw/2026/11/27/19/good.json', 'good');
      await store.put(bucket, key, 'not to be copied');
      const record = sqsRecordFactory(s3NotificationBody(good, { bucket, key, size: 16, etag: 'e'.repeat(32) }));

      const { handler, lines } = setup(store, 4, { bucket: RAW, prefix: 'raw/' });
      const response = await handler(sqsEvent(record));

      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
      expect(await store.head(BACKUP, good.key)).toMatchObject({ etag: good.etag });
      expect(await store.head(BACKUP, key)).toBeUndefined();
      expect(counters.snapshot()).toEqual({ copied: 1, refused: 1 });
      const refusal = lines.find((l) => l.message === 'event refused: not the raw bucket and prefix');
      expect(refusal).toMatchObject({ level: 'error', extra: { messageId: record.messageId, bucket, key } });
    });

    it('acts on every event when no source is set (the Lambda without RAW_BUCKET)', async () => {
      await store.put('other-bucket', 'anything/x.json', 'copied');
      const { etag } = (await store.head('other-bucket', 'anything/x.json')) ?? { etag: '' };
      const record = sqsRecordFactory(
        s3NotificationBody({ bucket: 'other-bucket', key: 'anything/x.json', size: 6, etag }),
      );

      const { handler } = setup();
      expect(await handler(sqsEvent(record))).toEqual({ batchItemFailures: [] });
      expect(counters.snapshot()).toEqual({ copied: 1 });
    });
  });
});
