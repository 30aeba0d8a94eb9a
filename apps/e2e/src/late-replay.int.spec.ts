import { CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { buildFirehoseKey, parseFirehoseKey } from '@btc-etl/s3-keys';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firehoseOutage } from './harness/aws.faults';
import { motoEndpoint } from './harness/e2e.config';
import { passThrough } from './harness/fault.proxy';
import { PipelineHarness, type CompactReport, type ScenarioResult } from './harness/pipeline.harness';
import { listObjects, readBucketRecords } from './harness/pipeline.stack';
import type { GapRowLike } from './harness/reconciliation';
import { sleep } from '@btc-etl/resilience';

const LATE_MS = 3 * 3_600_000;

/** Record ids of every complete line in the extractor's spool segments. */
function spooledIds(dir: string): string[] {
  const ids: string[] = [];
  for (const name of readdirSync(dir).filter((n) => /^segment-\d+\.ndjson$/.test(n))) {
    const text = readFileSync(join(dir, name), 'utf8');
    for (const line of text.split('\n').slice(0, -1)) ids.push((JSON.parse(line) as { record_id: string }).record_id);
  }
  return ids;
}

/**
 * A spool replayed hours late. The extractor is SIGKILLed during a Firehose outage, so its last ticks stay in the
 * spool; the compactor runs; a restart replays the spool. moto's Firehose names objects by its own clock, so the
 * replay's objects are re-keyed three hours later (same bytes: what a replay after a three-hour outage writes), and
 * the compactor's next run happens three hours later by its clock. Its records must land in their event hour in
 * silver; raw answers need a widened slack to see them, silver answers do not.
 */
describe('late arrival: a spool replayed three hours late is merged into its event hours', () => {
  const h = new PipelineHarness({ name: 'spool replayed 3 h late', motoEndpoint: motoEndpoint(), seed: 404 });
  let result: ScenarioResult;
  let onTime: CompactReport;
  let late: string[] = [];
  const rekeyed: string[] = [];
  let defaultSlackOk = 0;

  beforeAll(async () => {
    await h.setup();
    await h.startBackupRunner();
    const first = await h.startExtractor();
    await sleep(5000);
    h.firehoseProxy.setHandler(firehoseOutage);
    await sleep(4000);
    await h.killExtractor(first);
    h.firehoseProxy.setHandler(passThrough);
    await h.settle();
    onTime = await h.compact();

    const before = new Set((await listObjects(h.stack.s3, h.stack.rawBucket, 'raw/')).map((o) => o.key));
    const delivered = new Set((await readBucketRecords(h.stack.s3, h.stack.rawBucket)).records.map((r) => r.record_id));
    late = spooledIds(join(h.dir, 'spool')).filter((id) => !delivered.has(id));

    const second = await h.startExtractor();
    await sleep(3000);
    await h.stopExtractor(second);
    await h.settle();

    // the replay's objects, re-keyed as if Firehose had received them three hours later
    const s3 = h.stack.s3;
    for (const o of await listObjects(s3, h.stack.rawBucket, 'raw/')) {
      if (before.has(o.key)) continue;
      const parsed = parseFirehoseKey(o.key);
      const key = buildFirehoseKey({
        streamName: parsed.streamName,
        arrival: new Date(parsed.arrival.getTime() + LATE_MS),
        uuid: parsed.uuid,
      });
      await s3.send(
        new CopyObjectCommand({ Bucket: h.stack.rawBucket, Key: key, CopySource: `${h.stack.rawBucket}/${o.key}` }),
      );
      await s3.send(new DeleteObjectCommand({ Bucket: h.stack.rawBucket, Key: o.key }));
      await s3.send(new DeleteObjectCommand({ Bucket: h.stack.backupBucket, Key: o.key }));
      rekeyed.push(key);
    }
    await h.settle();
    await h.backupRunner?.stop();
    result = await h.collect(
      { lateRecords: late.length, rekeyedObjects: rekeyed.length },
      { lateSlackS: 4 * 3600, compactClockShiftMs: LATE_MS + 30 * 60_000 },
    );
    // the raw layer with the default 10-minute slack does not look three hours later
    const product = h.products[0] as string;
    const run = h.runs.map((r) => r.run);
    const from = Math.floor(Math.min(...run.map((r) => r.startMs)) / 1000) - 2;
    const to = Math.ceil(Math.max(...run.map((r) => r.endMs)) / 1000) + 3;
    const gaps = (await h.query('gaps', product, from, to, h.stack.rawBucket, 'raw')) as GapRowLike[];
    defaultSlackOk = to - from - gaps.reduce((n, g) => n + Number(g.seconds), 0);
  }, 180_000);
  afterAll(() => h.teardown());

  it('left records in the spool at the kill that reached raw only through the late replay', () => {
    expect(late.length).toBeGreaterThan(0);
    expect(rekeyed.length).toBeGreaterThan(0);
    expect(h.runs[1]?.app.output()).toContain('replaying spool from an earlier run');
    expect(onTime.recordsIn).toBeGreaterThan(0);
  });

  it('compacted the late objects on the next run, into the event hours of the first run', () => {
    const last = result.compactions.at(-1) as CompactReport;
    expect(last.objectsRead).toBeGreaterThanOrEqual(rekeyed.length);
    const silverIds = new Set(result.silver.records.map((r) => r.record_id));
    expect(late.filter((id) => !silverIds.has(id))).toEqual([]);
    expect(result.silver.unnamedFiles).toEqual([]);
  });

  it('reconciles due = raw distinct = backup = silver = query answers, silver without a wider slack', () => {
    expect(result.report.violations).toEqual([]);
    for (const p of result.report.perProduct) {
      expect(p.rawDistinct).toBe(p.due);
      expect(p.backupDistinct).toBe(p.due);
      expect(p.silverDistinct).toBe(p.due);
      expect(p.queryOkSilver).toBe(p.ok);
    }
  });

  it('raw with the default slack misses the late records (which is why silver exists)', () => {
    // one record per due second: ok seconds = ok records
    expect(defaultSlackOk).toBeLessThan(result.report.perProduct[0]?.ok ?? 0);
  });
});
