import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadE2eConfig, motoEndpoint } from './harness/e2e.config';
import { passThrough, type ProxyHandler } from './harness/fault.proxy';
import { PipelineHarness, type ScenarioResult } from './harness/pipeline.harness';
import { sleep } from '@btc-etl/resilience';

const config = loadE2eConfig();

/**
 * Record ids of every complete line in the extractor's spool segments
 * (what it had accepted and not yet had acknowledged).
 */
function spooledIds(dir: string): string[] {
  const ids: string[] = [];
  for (const name of readdirSync(dir).filter((n) => /^segment-\d+\.ndjson$/.test(n))) {
    const text = readFileSync(join(dir, name), 'utf8');
    for (const line of text.split('\n').slice(0, -1)) ids.push((JSON.parse(line) as { record_id: string }).record_id);
  }
  return ids;
}

describe(
  'extractor SIGKILL mid-batch (a PutRecordBatch stored by Firehose, ' + 'its answer not yet back) and a restart',
  () => {
    const h = new PipelineHarness({
      name: 'extractor SIGKILL mid-batch + restart',
      motoEndpoint: motoEndpoint(),
      seed: 301,
    });
    let result: ScenarioResult;
    let spooled: string[] = [];
    let held = 0;
    let secondExit: number | null = null;

    beforeAll(async () => {
      await h.setup();
      await h.startBackupRunner();
      const first = await h.startExtractor();
      await sleep(Math.max(4000, (config.scenarioSeconds / 2) * 1000));
      // Firehose stores the batch, then its answer is held back: the kill lands while the extractor waits for it.
      let stored!: () => void;
      const batchStored = new Promise<void>((r) => (stored = r));
      const holdAnswer: ProxyHandler = async (request, forward) => {
        const answer = await forward();
        if (request.headers['x-amz-target'] === 'Firehose_20150804.PutRecordBatch') {
          held++;
          stored();
          await sleep(3000);
          return { ...answer, label: 'held' };
        }
        return { ...answer, label: 'forwarded' };
      };
      h.firehoseProxy.setHandler(holdAnswer);
      await batchStored;
      await sleep(150);
      const killed = await h.killExtractor(first);
      expect(killed.signal).toBe('SIGKILL');
      spooled = spooledIds(join(h.dir, 'spool'));
      h.firehoseProxy.setHandler(passThrough);

      await sleep(1500);
      const second = await h.startExtractor();
      await sleep(Math.max(5000, (config.scenarioSeconds / 2) * 1000));
      secondExit = (await h.stopExtractor(second)).code;
      await h.settle();
      await h.backupRunner?.stop();
      result = await h.collect({ spooledAtKill: spooled.length, heldBatches: held });
    }, 120_000);
    afterAll(() => h.teardown());

    it(
      'killed the first run while a batch was stored but unacknowledged; ' +
        'the restart replayed its spool and exited 0',
      () => {
        expect(held).toBeGreaterThan(0);
        expect(spooled.length).toBeGreaterThan(0);
        expect(h.runs[1]?.app.output()).toContain('replaying spool from an earlier run');
        expect(secondExit).toBe(0);
      },
    );

    it(
      'lost no record: everything spooled at the kill is in raw and backup; ' + 'the resent batch only adds duplicates',
      () => {
        const raw = new Set(result.raw.records.map((r) => r.record_id));
        const backup = new Set(result.backup.records.map((r) => r.record_id));
        expect(spooled.filter((id) => !raw.has(id))).toEqual([]);
        expect(spooled.filter((id) => !backup.has(id))).toEqual([]);
        // the held batch reached raw before the kill and again from the spool: at-least-once, same record_id
        expect(result.report.rawDuplicates).toBeGreaterThan(0);
      },
    );

    it('reconciles both runs: every due tick of each run has its record, the query agrees over raw and backup', () => {
      expect(result.report.violations).toEqual([]);
      for (const p of result.report.perProduct) {
        expect(p.rawDistinct).toBe(p.due);
        expect(p.backupDistinct).toBe(p.due);
        expect(p.queryOkRaw).toBe(p.ok);
      }
    });
  },
);
