import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirehoseClient, CreateDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeNdjson, type PriceTick } from '@btc-etl/price-schema';
import { okTick, missedTick } from '@btc-etl/price-schema/testing';
import { startFirehoseStub, type FirehoseStub, type StubAnswer } from '../../test/firehose-stub';
import { DeliveryPipeline } from '../delivery/delivery.pipeline';
import { createFirehosePutter } from './firehose.client';
import { FirehoseSink, type FirehoseSinkOptions } from './firehose.sink';
import { silentLogger } from '../ops/logger';
import { ExtractorMetrics } from '../ops/extractor.metrics';
import { Spool } from '../delivery/spool';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

function ticks(n: number, product = 'BTC-USD'): PriceTick[] {
  return Array.from({ length: n }, (_, i) => {
    const scheduled_time = new Date(Date.UTC(2026, 10, 27, 0, 0, 0) + i * 1000).toISOString();
    return i % 10 === 9
      ? missedTick('http_5xx', { product_id: product, scheduled_time })
      : okTick({ product_id: product, scheduled_time });
  });
}

describe('Firehose sink', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'extractor-firehose-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function pipelineTo(client: FirehoseClient, sinkOptions: Partial<FirehoseSinkOptions> = {}) {
    const metrics = new ExtractorMetrics();
    const spool = Spool.open({ dir: join(dir, 'spool'), capBytes: 1 << 26, fsync: false });
    const pipeline = new DeliveryPipeline({
      spool,
      logger: silentLogger,
      metrics,
      createSink: (onDelivered) =>
        new FirehoseSink({
          client: createFirehosePutter(client),
          streamName: 'btc-etl-ticks',
          onDelivered,
          logger: silentLogger,
          metrics,
          maxLatencyMs: 20,
          retryBaseMs: 5,
          retryCapMs: 40,
          ...sinkOptions,
        }),
    });
    pipeline.start();
    return { pipeline, spool, metrics };
  }

  describe('against a stub answering partial failures, throttling and resets', () => {
    let stub: FirehoseStub;
    afterEach(() => stub.stop());

    it('resends only the failed records, whole calls after throttling or a reset, and loses nothing', async () => {
      const plan = (index: number): StubAnswer =>
        index === 0
          ? { kind: 'partial', failIndexes: [1, 3] }
          : index === 1
            ? { kind: 'partial', failIndexes: [0] }
            : index === 2
              ? { kind: 'error', status: 400, type: 'ServiceUnavailableException' }
              : index === 3
                ? { kind: 'reset' }
                : index === 4
                  ? { kind: 'error', status: 500, type: 'InternalFailure' }
                  : { kind: 'ok' };
      stub = await startFirehoseStub(plan);
      const client = new FirehoseClient({ endpoint: stub.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
      // small records so one call carries several
      const { pipeline, spool, metrics } = pipelineTo(client, { maxRecordBytes: 2048 });
      const input = ticks(100);
      for (const t of input) pipeline.accept(t);
      expect(await pipeline.drain(AbortSignal.timeout(15_000))).toBe(true);

      const [first, second, third, fourth, fifth, sixth] = stub.calls;
      expect(first?.records.length).toBeGreaterThan(4);
      // call 2 resends exactly records 1 and 3 of call 1, nothing else
      expect(second?.records).toEqual([first?.records[1], first?.records[3]]);
      // call 2 failed its record 0 (call 1's record 1): calls 3-6 carry just that one (throttled, reset, 500, ok)
      for (const call of [third, fourth, fifth, sixth]) expect(call?.records).toEqual([first?.records[1]]);
      // every tick delivered exactly once: no loss, and no duplicate since only failed records were resent
      const delivered = decodeNdjson(stub.accepted.join(''));
      expect(delivered.map((t) => t.record_id).sort()).toEqual(input.map((t) => t.record_id).sort());
      expect(spool.depth).toBe(0);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(
        /extractor_sink_records_failed_total\{sink="firehose",code="ServiceUnavailableException"\} 3/,
      );
      expect(text).toMatch(/extractor_sink_calls_total\{sink="firehose",outcome="error"\} 3/);
      expect(text).toMatch(/extractor_sink_records_retried_total\{sink="firehose"\} 6/);
    });

    it(
      'packs ticks as newline-terminated NDJSON into records under the limit, ' + 'records into batches of at most 500',
      async () => {
        stub = await startFirehoseStub(() => ({ kind: 'ok' }));
        const client = new FirehoseClient({
          endpoint: stub.endpoint,
          region: 'us-east-1',
          credentials,
          maxAttempts: 1,
        });
        const { pipeline } = pipelineTo(client, { maxRecordBytes: 1024, maxLatencyMs: 60_000 });
        const input = ticks(3000);
        for (const t of input) pipeline.accept(t);
        expect(await pipeline.drain(AbortSignal.timeout(15_000))).toBe(true);
        for (const call of stub.calls) {
          expect(call.streamName).toBe('btc-etl-ticks');
          expect(call.records.length).toBeLessThanOrEqual(500);
          for (const r of call.records) {
            expect(Buffer.byteLength(r)).toBeLessThanOrEqual(1024);
            expect(r.endsWith('\n')).toBe(true);
          }
        }
        expect(stub.calls.some((c) => c.records.length === 500)).toBe(true);
        expect(decodeNdjson(stub.accepted.join(''))).toEqual(input);
      },
    );

    it('sends a partly filled batch once its oldest tick has waited the max latency', async () => {
      // Waits on the call itself, never on a sleep: a slow machine can only make the call later, so the lower bound is
      // the verdict (a few ms below 150 for timer rounding) and no upper bound is asserted.
      let firstCallAt = 0;
      let called!: () => void;
      const firstCall = new Promise<void>((resolve) => (called = resolve));
      stub = await startFirehoseStub(() => {
        firstCallAt ||= Date.now();
        called();
        return { kind: 'ok' };
      });
      const client = new FirehoseClient({ endpoint: stub.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
      const { pipeline, spool } = pipelineTo(client, { maxLatencyMs: 150 });
      const acceptedAt = Date.now();
      pipeline.accept(ticks(1)[0] as PriceTick);
      pipeline.flushSpool();
      await firstCall;
      expect(firstCallAt - acceptedAt).toBeGreaterThanOrEqual(145);
      expect(await pipeline.drain(AbortSignal.timeout(60_000))).toBe(true);
      expect(stub.calls).toHaveLength(1);
      expect(spool.depth).toBe(0);
    });
  });

  it('delivers NDJSON objects into S3 through moto Firehose', async () => {
    const s3 = new S3Client({ forcePathStyle: true });
    const bucket = `raw-${Date.now()}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const firehose = new FirehoseClient({ maxAttempts: 1 });
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'btc-etl-ticks',
        DeliveryStreamType: 'DirectPut',
        ExtendedS3DestinationConfiguration: {
          BucketARN: `arn:aws:s3:::${bucket}`,
          RoleARN: 'arn:aws:iam::123456789012:role/firehose-delivery',
          Prefix: 'raw/',
          BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 5 },
        },
      }),
    );
    const { pipeline, spool } = pipelineTo(firehose);
    const input = [...ticks(40, 'BTC-USD'), ...ticks(40, 'ETH-USD')];
    for (const t of input) pipeline.accept(t);
    expect(await pipeline.drain(AbortSignal.timeout(15_000))).toBe(true);
    expect(spool.depth).toBe(0);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'raw/' }));
    const records: PriceTick[] = [];
    for (const o of listed.Contents ?? []) {
      const body = await (
        await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }))
      ).Body?.transformToString();
      records.push(...decodeNdjson(body ?? ''));
    }
    expect(listed.Contents?.length).toBeGreaterThan(0);
    expect(records).toEqual(input);
  });
});
