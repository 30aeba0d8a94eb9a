import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsEnv, baseEnv, BUNDLES, runCli, type CliResult } from './harness/app.processes';
import { s3CopyFaults, type S3CopyFaultPlan } from './harness/aws.faults';
import { loadE2eConfig, motoEndpoint } from './harness/e2e.config';
import { PipelineHarness, runFor, type ScenarioResult } from './harness/pipeline.harness';
import { listObjects, queueDepth, sendBodies, type StoredObject } from './harness/pipeline.stack';
import { s3EventBody } from './harness/s3-event';
import { until } from './harness/until';
import { sleep } from '@btc-etl/resilience';

const config = loadE2eConfig();

/** Waits until the event queue is empty, as it happens (the test's timeout catches a queue that never drains). */
async function waitForEmptyQueue(h: PipelineHarness): Promise<void> {
  await until(async () => (await queueDepth(h.stack.sqs, h.stack.queueUrl)) === 0);
}

const totalsOf = (h: PipelineHarness): Record<string, number> =>
  (h.backupRunner?.logs().find((l) => l.message === 'stopped')?.totals ?? {}) as Record<string, number>;

describe('backup: duplicate SQS deliveries of every event (twice more each) are skipped, backup untouched', () => {
  const h = new PipelineHarness({ name: 'backup duplicate deliveries', motoEndpoint: motoEndpoint(), seed: 401 });
  let result: ScenarioResult;
  let before: StoredObject[] = [];
  let after: StoredObject[] = [];
  let totals: Record<string, number> = {};

  beforeAll(async () => {
    await h.setup();
    await h.startBackupRunner();
    await runFor(h, config.scenarioSeconds);
    await h.settle();
    before = await listObjects(h.stack.s3, h.stack.backupBucket);
    await sleep(1100); // a re-copy would show as a later LastModified
    const raw = await listObjects(h.stack.s3, h.stack.rawBucket, 'raw/');
    const bodies = raw.map((o) => s3EventBody(h.stack.rawBucket, o));
    await sendBodies(h.stack.sqs, h.stack.queueUrl, [...bodies, ...bodies]);
    await waitForEmptyQueue(h);
    after = await listObjects(h.stack.s3, h.stack.backupBucket);
    await h.backupRunner?.stop();
    totals = totalsOf(h);
    result = await h.collect({ duplicatesSent: bodies.length * 2, runner: totals });
  }, 120_000);
  afterAll(() => h.teardown());

  it('reconciles, and the duplicates changed nothing in backup (same keys, ETags and LastModified)', () => {
    expect(result.report.violations).toEqual([]);
    expect(after).toEqual(before);
    expect(result.dlqBodies).toEqual([]);
  });

  it('counted each duplicate as already backed up, each object copied once', () => {
    expect(totals.copied).toBe(result.report.rawObjects);
    expect(totals['already-backed-up']).toBeGreaterThanOrEqual(2 * result.report.rawObjects);
  });
});

describe(
  'backup: poison messages reach the DLQ, ' + 'and backup-lambda:reconcile repairs the objects they stood for',
  () => {
    const h = new PipelineHarness({ name: 'backup poison + DLQ + reconcile', motoEndpoint: motoEndpoint(), seed: 402 });
    let result: ScenarioResult;
    const poisoned: string[] = [];
    let poisonBodies: string[] = [];
    let missingBeforeRepair: string[] = [];
    let repair: CliResult;
    let rerun: CliResult;
    let totals: Record<string, number> = {};

    beforeAll(async () => {
      await h.setup();
      // no runner yet: the events of the run wait in the queue
      await runFor(h, Math.min(config.scenarioSeconds, 10));
      // Three real events are taken off the queue and put back corrupted: poison standing for real objects.
      for (let i = 0; poisoned.length < 3 && i < 20; i++) {
        const out = await h.stack.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: h.stack.queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
        );
        const m = out.Messages?.[0];
        if (!m?.Body) continue;
        await h.stack.sqs.send(
          new DeleteMessageCommand({ QueueUrl: h.stack.queueUrl, ReceiptHandle: m.ReceiptHandle }),
        );
        const parsed = JSON.parse(m.Body) as { Records?: { s3: { object: { key: string } } }[] };
        const record = parsed.Records?.[0];
        if (!record) {
          await sendBodies(h.stack.sqs, h.stack.queueUrl, [m.Body]); // the TestEvent: back as it was
          continue;
        }
        poisoned.push(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')));
        poisonBodies.push(m.Body.slice(0, Math.floor(m.Body.length / 2)));
      }
      poisonBodies = [
        ...poisonBodies,
        'not json at all',
        JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: {} }] }),
      ];
      await sendBodies(h.stack.sqs, h.stack.queueUrl, poisonBodies.slice(poisoned.length));
      await sendBodies(h.stack.sqs, h.stack.queueUrl, poisonBodies.slice(0, poisoned.length));
      await h.startBackupRunner();
      // poison is received maxReceiveCount (3) times, 2 s apart, then moved to the DLQ
      await waitForEmptyQueue(h);
      await h.backupRunner?.stop();
      totals = totalsOf(h);
      const backup = new Set((await listObjects(h.stack.s3, h.stack.backupBucket)).map((o) => o.key));
      missingBeforeRepair = (await listObjects(h.stack.s3, h.stack.rawBucket, 'raw/'))
        .map((o) => o.key)
        .filter((k) => !backup.has(k));
      const env = {
        ...baseEnv(),
        ...awsEnv(h.stack.endpoint),
        OBJECT_STORE: 's3',
        S3_FORCE_PATH_STYLE: 'true',
        RAW_BUCKET: h.stack.rawBucket,
        BACKUP_BUCKET: h.stack.backupBucket,
      };
      repair = await runCli(BUNDLES.reconcile, ['--prefix', 'raw/'], env);
      rerun = await runCli(BUNDLES.reconcile, ['--prefix', 'raw/'], env);
      result = await h.collect({
        poison: poisonBodies.length,
        missingBeforeRepair: missingBeforeRepair.length,
        repair: repair.stdout.trim(),
        runner: totals,
      });
    }, 150_000);
    afterAll(() => h.teardown());

    it('moved exactly the poison messages to the DLQ, and only their objects were missing from backup', () => {
      expect(poisoned.length).toBe(3);
      expect([...result.dlqBodies].sort()).toEqual([...poisonBodies].sort());
      expect([...missingBeforeRepair].sort()).toEqual([...poisoned].sort());
      expect(totals['invalid-message']).toBeGreaterThanOrEqual(poisonBodies.length * h.stack.maxReceiveCount);
    });

    it('reconcile copied what was missing (exit 0), a second run copies nothing, and the pipeline reconciles', () => {
      expect(repair.code, repair.stderr).toBe(0);
      expect(repair.stdout).toMatch(new RegExp(`copied ${missingBeforeRepair.length},`));
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.stdout).toMatch(/up to date \d+, copied 0,/);
      expect(result.report.violations).toEqual([]);
    });
  },
);

describe('backup: S3 errors on copy (500, 503 SlowDown, 200 with <Error>) through a proxy in front of moto', () => {
  const h = new PipelineHarness({
    name: 'backup S3 copy errors',
    motoEndpoint: motoEndpoint(),
    seed: 403,
    stack: { maxReceiveCount: 6 },
  });
  let result: ScenarioResult;
  const plan: S3CopyFaultPlan = { failEveryCopy: 3 };
  let counters: { copies: number; failed: number };
  let totals: Record<string, number> = {};

  beforeAll(async () => {
    await h.setup();
    const faults = s3CopyFaults(plan);
    counters = faults.counters;
    h.s3Proxy.setHandler(faults.handler);
    await h.startBackupRunner();
    await runFor(h, config.scenarioSeconds, async (running) => {
      // a burst where every copy fails until the runner has reported a message whose copy failed through the SDK's
      // own retries (it goes back to SQS): ended by that event, not after a fixed 2.5 s, which under load could pass
      // with no copy attempted at all
      await sleep(running.app.startedAt + 4000 - Date.now());
      plan.failAllCopies = true;
      await until(async () => h.backupRunner?.logs().some((l) => l.message === 'backup failed') ?? false);
      plan.failAllCopies = false;
    });
    await h.settle();
    await h.backupRunner?.stop();
    totals = totalsOf(h);
    result = await h.collect({
      copyFaults: Object.fromEntries(['copy-500', 'copy-503', 'copy-200-error'].map((l) => [l, h.s3Proxy.count(l)])),
      runner: totals,
    });
  }, 150_000);
  afterAll(() => h.teardown());

  it('injected every kind of copy error, and some messages failed and were redelivered', () => {
    for (const label of ['copy-500', 'copy-503', 'copy-200-error']) expect(h.s3Proxy.count(label)).toBeGreaterThan(0);
    expect(counters.failed).toBeGreaterThan(0);
    expect(totals.failed ?? 0).toBeGreaterThan(0);
  });

  it('reconciles: every raw object reached backup with the right bytes, nothing in the DLQ', () => {
    expect(result.report.violations).toEqual([]);
    expect(result.dlqBodies).toEqual([]);
    for (const p of result.report.perProduct) expect(p.backupDistinct).toBe(p.due);
  });
});
