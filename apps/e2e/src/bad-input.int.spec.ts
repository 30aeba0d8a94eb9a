import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNdjsonLine } from '@btc-etl/price-schema';
import { okTick } from '@btc-etl/price-schema/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, BUNDLES, runCli } from './harness/app.processes';
import { motoEndpoint } from './harness/e2e.config';
import { PipelineHarness, runFor } from './harness/pipeline.harness';
import { drainQueue, listObjects, queueDepth, sendBodies } from './harness/pipeline.stack';
import { filesUnder } from './harness/local-files';
import { s3EventBody } from './harness/s3-event';
import { until } from './harness/until';

describe('bad input to every entry point: a clear error naming what is wrong, exit 2 for CLIs, nothing written', () => {
  let sandbox: string;
  let h: PipelineHarness;

  beforeAll(async () => {
    h = await new PipelineHarness({ name: 'bad input', motoEndpoint: motoEndpoint(), seed: 501 }).setup();
    sandbox = mkdtempSync(join(tmpdir(), 'e2e-bad-input-'));
  });
  afterAll(async () => {
    await h.teardown();
    rmSync(sandbox, { recursive: true, force: true });
  });

  describe('extractor (env and flags)', () => {
    it.each([
      [{ PRODUCTS: 'btc-usd' }, [], /PRODUCTS="btc-usd"/],
      [{ INTERVAL_MS: '0' }, [], /INTERVAL_MS="0"/],
      [{ SINK: 's3' }, [], /SINK="s3"/],
      [{ FIREHOSE_STREAM_NAME: '../x' }, [], /FIREHOSE_STREAM_NAME="..\/x"/],
      [{ RAW_BUCKET: '../etc' }, [], /RAW_BUCKET="..\/etc"/],
      [{ COINBASE_EXCHANGE_URL: 'file:///etc/passwd' }, [], /COINBASE_EXCHANGE_URL/],
      [{}, ['--spool-max-mb=-1'], /SPOOL_MAX_MB="-1"/],
      [{}, ['--products'], /argv=/],
      [{}, ['--no-such-flag', 'x'], /Unknown option '--no-such-flag'/],
    ])(
      '%j %j -> exit 2 naming the variable; no spool, no data, no Firehose call, no Coinbase request',
      async (env, args, message) => {
        const dir = join(sandbox, `extractor-${Math.random().toString(16).slice(2)}`);
        const calls = h.firehoseProxy.log.length;
        const requests = h.fake.requests.length;
        const result = await runCli(
          BUNDLES.extractor,
          args,
          h.extractorEnv({ DATA_DIR: join(dir, 'data'), SPOOL_DIR: join(dir, 'spool'), ...env }),
        );
        expect(result.code, result.stderr).toBe(2);
        expect(result.stderr).toMatch(message);
        expect(result.stderr).toMatch(/invalid configuration/);
        expect(filesUnder(dir)).toEqual([]);
        expect(h.firehoseProxy.log.length).toBe(calls);
        expect(h.fake.requests.length).toBe(requests);
      },
    );
  });

  describe('backup runner and reconcile (env and flags)', () => {
    it.each([
      [{ BACKUP_BUCKET: 'Bad_Bucket' }, /BACKUP_BUCKET/],
      [{ SQS_QUEUE_URL: 'not a url' }, /SQS_QUEUE_URL/],
      [{ BACKUP_PREFIX: '/abs/' }, /BACKUP_PREFIX/],
      [{ COPY_CONCURRENCY: '0' }, /COPY_CONCURRENCY/],
    ])('serve %j -> exit 2 naming the variable', async (env, message) => {
      const result = await runCli(BUNDLES.backupRunner, [], h.backupEnv(env), { timeoutMs: 20_000 });
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stdout + result.stderr).toMatch(message);
    });

    it.each([
      [['--store', 'ftp'], /OBJECT_STORE\/--store/],
      [['--prefix', '/etc/'], /--prefix "\/etc\/" can never name a safe object key \(absolute path\)/],
      [['--concurrency', '0'], /COPY_CONCURRENCY\/--concurrency/],
      [['--bogus'], /Unknown option '--bogus'/],
    ])('reconcile %j -> exit 2 with the reason', async (args, message) => {
      const result = await runCli(BUNDLES.reconcile, args, {
        ...baseEnv(),
        OBJECT_STORE: 'local',
        DATA_DIR: join(sandbox, 'reconcile-data'),
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(filesUnder(join(sandbox, 'reconcile-data'))).toEqual([]);
    });
  });

  describe('query CLI (flags and env)', () => {
    const range = ['--from', '2026-11-27T00:00:00Z', '--to', '2026-11-27T01:00:00Z'];
    it.each([
      [['ohlc', '--product', 'btc', '--interval', '1m', ...range], {}, /--product/],
      [['ohlc', '--product', 'BTC-USD', '--interval', '2m', ...range], {}, /--interval/],
      [
        ['gaps', '--product', 'BTC-USD', '--from', '2026-11-27T02:00:00Z', '--to', '2026-11-27T01:00:00Z'],
        {},
        /from must be before to/,
      ],
      [
        ['gaps', '--product', 'BTC-USD', '--from', '2026-01-01T00:00:00Z', '--to', '2026-11-27T00:00:00Z'],
        {},
        /longer than 31 days/,
      ],
      [['ohlc', '--product', 'BTC-USD', '--interval', '1m', '--now', '2026-11-27T00:00:00Z', ...range], {}, /--now/],
      [['drop-table'], {}, /command/],
      [['latest'], { RAW_BUCKET: 'Bad_Bucket' }, /RAW_BUCKET/],
      [['latest'], { OBJECT_STORE: 'ftp' }, /OBJECT_STORE/],
    ])('%j %j -> exit 2 naming what is wrong', async (args, env, message) => {
      const result = await runCli(BUNDLES.query, args, { ...baseEnv(), DATA_DIR: join(sandbox, 'query-data'), ...env });
      expect(result.code, result.stdout).toBe(2);
      expect(result.stderr).toMatch(message);
    });
  });

  describe('prefixes trying to escape the data directory', () => {
    let root: string;
    beforeAll(() => {
      // a record that looks like raw data, outside DATA_DIR and outside the bucket
      root = join(sandbox, 'escape');
      const outside = join(root, 'secret', '2026', '11', '27', '00');
      mkdirSync(outside, { recursive: true });
      mkdirSync(join(root, 'data', 'btc-etl-raw', 'raw'), { recursive: true });
      const tick = okTick({ scheduled_time: '2026-11-27T00:00:01.000Z', exchange_time: '2026-11-27T00:00:01.000Z' });
      writeFileSync(
        join(outside, 'btc-etl-ticks-1-2026-11-27-00-00-01-aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
        encodeNdjsonLine(tick),
      );
    });

    it(
      'reconcile --prefix ../../secret/ reads and writes nothing outside (and, ' +
        'the contract: exits 2 naming --prefix)',
      async () => {
        const before = filesUnder(root);
        const result = await runCli(BUNDLES.reconcile, ['--prefix', '../../secret/'], {
          ...baseEnv(),
          OBJECT_STORE: 'local',
          DATA_DIR: join(root, 'data'),
        });
        expect(filesUnder(root)).toEqual(before);
        expect(result.stdout).not.toMatch(/copied [1-9]/);
        // KNOWN BUG (reported to the lead): reconcile.main.ts only refuses a leading "/";
        // a "../" prefix runs and exits 0
        expect(result.code, result.stdout).toBe(2);
        expect(result.stderr).toMatch(/--prefix/);
      },
    );

    it(
      'query with RAW_PREFIX=../../secret/ reads nothing outside (and, ' + 'the contract: exits 2 naming RAW_PREFIX)',
      async () => {
        const result = await runCli(
          BUNDLES.query,
          [
            'ohlc',
            '--product',
            'BTC-USD',
            '--interval',
            '1m',
            '--from',
            '2026-11-27T00:00:00Z',
            '--to',
            '2026-11-27T01:00:00Z',
            '--format',
            'json',
          ],
          {
            ...baseEnv(),
            DATA_DIR: join(root, 'data'),
            RAW_PREFIX: '../../secret/',
          },
        );
        expect(result.stdout).not.toMatch(/"ticks": 1/);
        // KNOWN BUG (reported to the lead): query.config.ts's RAW_PREFIX pattern accepts ".." segments;
        // it runs and exits 0
        expect(result.code, result.stdout).toBe(2);
        expect(result.stderr).toMatch(/RAW_PREFIX/);
      },
    );
  });

  describe('events (SQS bodies) into the running backup runner', () => {
    it(
      'malformed, foreign and escaping events: none copies anything anywhere; ' +
        'the invalid ones end in the DLQ; the runner keeps going',
      async () => {
        await h.startBackupRunner();
        await runFor(h, 6);
        const raw = await listObjects(h.stack.s3, h.stack.rawBucket);
        const real = raw[0];
        if (!real) throw new Error('the run wrote no raw object');
        const event = (bucket: string, key: string) => s3EventBody(bucket, { key, size: real.size, etag: real.etag });
        const bodies = [
          event(h.stack.rawBucket, `raw/../../${h.stack.backupBucket}/planted`),
          event(h.stack.rawBucket, '../../etc/passwd'),
          event(h.stack.rawBucket, `${real.key}/../../../x`),
          event('another-bucket', real.key),
          event('../../etc', real.key),
          event(h.stack.backupBucket, real.key),
          '{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"%E0%A4%A"}}}]}',
          '',
        ];
        // Let the run's own notifications finish first: a copy landing after the snapshot is not the bad events' doing.
        await until(async () => (await listObjects(h.stack.s3, h.stack.backupBucket)).length >= raw.length);
        await until(async () => (await queueDepth(h.stack.sqs, h.stack.queueUrl)) === 0);
        const backupBefore = await listObjects(h.stack.s3, h.stack.backupBucket);
        expect(backupBefore.map((o) => o.key)).toEqual(raw.map((o) => o.key));
        await sendBodies(h.stack.sqs, h.stack.queueUrl, bodies.filter(Boolean));
        // Each invalid body is received maxReceiveCount times, a visibility timeout apart, before SQS parks it in the
        // DLQ: waited for as it happens (a 30 s deadline here failed under load with 5 still in flight).
        await until(async () => (await queueDepth(h.stack.sqs, h.stack.queueUrl)) === 0);
        expect(h.backupRunner?.child.exitCode).toBeNull();

        const buckets = (await h.stack.s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name).sort();
        expect(buckets).toEqual([h.stack.backupBucket, h.stack.rawBucket, h.stack.silverBucket].sort());
        const backupAfter = await listObjects(h.stack.s3, h.stack.backupBucket);
        expect(backupAfter).toEqual(backupBefore);
        expect(await listObjects(h.stack.s3, h.stack.rawBucket)).toEqual(raw);
        const rawKeys = new Set(raw.map((o) => o.key));
        expect(backupAfter.filter((o) => !rawKeys.has(o.key))).toEqual([]);
        const dlq = await drainQueue(h.stack.sqs, h.stack.dlqUrl);
        // unparsable or invalid bodies are retried to maxReceiveCount, then parked; well-formed events whose source
        // does not exist are logged and counted (not retried forever), so they do not reach the DLQ
        expect(dlq.length).toBeGreaterThanOrEqual(1);
        await h.backupRunner?.stop();
        const totals = (h.backupRunner?.logs().find((l) => l.message === 'stopped')?.totals ?? {}) as Record<
          string,
          number
        >;
        console.log(
          `bad events: ${bodies.filter(Boolean).length} sent, DLQ ${dlq.length}, runner ` +
            `totals ${JSON.stringify(totals)}`,
        );
      },
      // a hang catcher only: the waits above are on the events, and under load the retries take minutes
      300_000,
    );
  });
});
