import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadE2eConfig, motoEndpoint } from './harness/e2e.config';
import { PipelineHarness, runFor, type ScenarioResult } from './harness/pipeline.harness';
import { listObjects } from './harness/pipeline.stack';

const config = loadE2eConfig();

describe(
  'happy path: Coinbase -> extractor -> Firehose (moto) ' +
    '-> raw -> S3 event -> SQS -> backup runner -> backup; raw -> compactor -> silver; query',
  () => {
    const h = new PipelineHarness({ name: 'happy path', motoEndpoint: motoEndpoint() });
    let result: ScenarioResult;
    let exitCode: number | null;
    let settled: boolean;

    beforeAll(async () => {
      await h.setup();
      await h.startBackupRunner();
      const { exit } = await runFor(h, config.scenarioSeconds);
      exitCode = exit.code;
      settled = (await h.settle()).settled;
      await h.backupRunner?.stop();
      result = await h.collect();
    }, 120_000);
    afterAll(() => h.teardown());

    it('stops on SIGTERM with exit 0 and everything delivered', () => {
      expect(exitCode, h.runs[0]?.app.output().slice(-2000)).toBe(0);
      expect(h.runs[0]?.app.output()).toContain('stopped, everything delivered');
      expect(settled).toBe(true);
    });

    it(
      'reconciles: due ticks = distinct raw records = backup ' +
        'records = silver records = query gaps/ohlc, nothing missed',
      () => {
        expect(result.report.violations).toEqual([]);
        for (const p of result.report.perProduct) {
          expect(p.due).toBeGreaterThanOrEqual(config.scenarioSeconds - 4);
          expect(p.rawDistinct).toBe(p.due);
          expect(p.backupDistinct).toBe(p.due);
          expect(p.ok + Object.values(p.missed).reduce((n, x) => n + (x ?? 0), 0)).toBe(p.due);
          expect(p.queryOkRaw).toBe(p.ok);
          expect(p.queryOkBackup).toBe(p.ok);
          expect(p.silverDistinct).toBe(p.due);
          expect(p.queryOkSilver).toBe(p.ok);
        }
        expect(result.silver.unnamedFiles).toEqual([]);
        expect(result.compactions.at(-1)?.quarantinedLines).toBe(0);
      },
    );

    it(
      'goes through the real Firehose API (via the proxy, AWS_ENDPOINT_URL_FIREHOSE) ' +
        'and moto fires S3 notifications for Firehose objects',
      async () => {
        const calls = h.firehoseProxy.log.filter((e) => e.target === 'Firehose_20150804.PutRecordBatch');
        expect(calls.length).toBeGreaterThan(0);
        // moto writes one object per PutRecordBatch call: each became an S3 event the runner copied
        const raw = await listObjects(h.stack.s3, h.stack.rawBucket, 'raw/');
        expect(raw.length).toBe(calls.length);
        expect(
          raw.every((o) =>
            /^raw\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/btc-etl-ticks-1-\d{4}(-\d{2}){5}-[0-9a-f-]{36}$/.test(o.key),
          ),
        ).toBe(true);
        const copies = h.backupRunner?.logs().filter((l) => l.message === 'batch done') ?? [];
        expect(copies.reduce((n, l) => n + Number(l.succeeded ?? 0), 0)).toBeGreaterThanOrEqual(raw.length);
        expect(result.dlqBodies).toEqual([]);
      },
    );
  },
);
