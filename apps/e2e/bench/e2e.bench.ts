// `npx nx run e2e:bench`: end-to-end freshness (tick due time -> object in raw, -> object in backup; p50, p99) on
// moto and on the local stores, against a same-run baseline (one PutObject per second straight into raw on moto: the
// S3 -> SQS -> backup hop alone). Also measures the counts the cost model needs and writes docs/cost-data-path.md.
// Rewrites only the e2e section of docs/benchmarks.md (and the intro at its top). Numbers, never assertions.
import { PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { decodeNdjson, type PriceTick } from '@btc-etl/price-schema';
import { motoClientEnv, startFakeCoinbase, startMoto } from '@btc-etl/testing';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLES, WORKSPACE_ROOT, baseEnv, startApp } from '../src/harness/app.processes';
import { firehoseFaults, s3CopyFaults } from '../src/harness/aws.faults';
import { PipelineHarness, runFor, INTERVAL_MS } from '../src/harness/pipeline.harness';
import { listObjects, readBucketRecords } from '../src/harness/pipeline.stack';
import { renderCostDoc, type Measured } from './cost.model';
import { filesUnder } from '../src/harness/local-files';
import { sleep } from '@btc-etl/resilience';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const BASELINE_OBJECTS = 15;
const BENCH_DOC = join(WORKSPACE_ROOT, 'docs/benchmarks.md');
const COST_DOC = join(WORKSPACE_ROOT, 'docs/cost-data-path.md'); // docs/cost.md is the whole bill (infra:cost)
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] ??
  Number.NaN;

/** First time each key was seen by polling a listing every `everyMs` (the measurement's resolution). */
function watch(list: () => Promise<string[]>, everyMs = 100): { seen: Map<string, number>; stop: () => Promise<void> } {
  const seen = new Map<string, number>();
  let on = true;
  const loop = (async () => {
    while (on) {
      const before = Date.now();
      try {
        for (const k of await list()) if (!seen.has(k)) seen.set(k, before);
      } catch {
        // the bucket or folder does not exist yet
      }
      await sleep(Math.max(0, everyMs - (Date.now() - before)));
    }
  })();
  return { seen, stop: async () => ((on = false), await loop) };
}

interface Latency {
  raw: number[];
  backup: number[];
  ticks: number;
}

/** Latency of each tick: first sighting of its object minus its due time. */
function latencies(
  records: PriceTick[],
  keyOf: string[],
  rawSeen: Map<string, number>,
  backupSeen: Map<string, number>,
): Latency {
  const out: Latency = { raw: [], backup: [], ticks: records.length };
  records.forEach((r, i) => {
    const due = Date.parse(r.scheduled_time ?? '');
    const key = keyOf[i] ?? '';
    const raw = rawSeen.get(key);
    const backup = backupSeen.get(key);
    if (raw !== undefined) out.raw.push(raw - due);
    if (backup !== undefined) out.backup.push(backup - due);
  });
  return out;
}

async function onMoto(
  endpoint: string,
): Promise<{ latency: Latency; measured: Measured; baseline: Latency; reconciled: string }> {
  const h = await new PipelineHarness({
    name: 'bench moto',
    motoEndpoint: endpoint,
    products: ['BTC-USD'],
    seed: 900,
  }).setup();
  try {
    const firehose = firehoseFaults({});
    h.firehoseProxy.setHandler(firehose.handler);
    h.s3Proxy.setHandler(s3CopyFaults({}).handler);
    await h.startBackupRunner();
    const rawW = watch(async () => (await listObjects(h.stack.s3, h.stack.rawBucket, 'raw/')).map((o) => o.key));
    const backupW = watch(async () => (await listObjects(h.stack.s3, h.stack.backupBucket, 'raw/')).map((o) => o.key));
    await runFor(h, SECONDS);
    await h.settle();
    await rawW.stop();
    await backupW.stop();
    await h.backupRunner?.stop();
    const s3Log = [...h.s3Proxy.log];
    const raw = await readBucketRecords(h.stack.s3, h.stack.rawBucket);
    const latency = latencies(raw.records, raw.keyOf, rawW.seen, backupW.seen);
    const result = await h.collect();
    const objects = raw.objects.length;
    const ticks = raw.records.length;
    const bytes = raw.objects.reduce((n, o) => n + o.size, 0);

    // Lambda duration: the built handler, in this process, one message per invocation (as at one object a minute)
    process.env.BACKUP_BUCKET = 'btc-etl-backup-bench';
    process.env.S3_FORCE_PATH_STYLE = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
    await h.stack.s3.send(new CreateBucketCommand({ Bucket: 'btc-etl-backup-bench' }));
    const { handler } = (await import(
      pathToFileURL(join(WORKSPACE_ROOT, 'dist/apps/backup-lambda/index.mjs')).href
    )) as {
      handler: (e: SQSEvent, c: Context) => Promise<SQSBatchResponse>;
    };
    const durations: number[] = [];
    for (const [i, o] of raw.objects.entries()) {
      const body = JSON.stringify({
        Records: [
          {
            eventVersion: '2.1',
            eventSource: 'aws:s3',
            awsRegion: 'us-east-1',
            eventTime: new Date().toISOString(),
            eventName: 'ObjectCreated:Put',
            s3: {
              bucket: { name: h.stack.rawBucket },
              object: { key: encodeURIComponent(o.key), size: o.size, eTag: o.etag },
            },
          },
        ],
      });
      const event = {
        Records: [
          {
            messageId: `m${i}`,
            receiptHandle: `r${i}`,
            body,
            attributes: {
              ApproximateReceiveCount: '1',
              SentTimestamp: String(Date.now()),
              SenderId: 'e2e',
              ApproximateFirstReceiveTimestamp: String(Date.now()),
            },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q',
            awsRegion: 'us-east-1',
          },
        ],
      } as SQSEvent;
      const context = {
        functionName: 'bench',
        awsRequestId: `req-${i}`,
        getRemainingTimeInMillis: () => 60_000,
      } as unknown as Context;
      const started = performance.now();
      const out = await handler(event, context);
      if (out.batchItemFailures.length > 0) throw new Error(`handler failed on ${o.key}`);
      durations.push(performance.now() - started);
    }
    const warm = durations.slice(1);

    // baseline: one PutObject a second straight into raw, through the same notification, queue and runner
    await h.startBackupRunner();
    const baseW = watch(async () =>
      (await listObjects(h.stack.s3, h.stack.backupBucket, 'raw/baseline/')).map((o) => o.key),
    );
    const baseline: Latency = { raw: [], backup: [], ticks: BASELINE_OBJECTS };
    const due = new Map<string, number>();
    for (let i = 0; i < BASELINE_OBJECTS; i++) {
      const t = Math.ceil(Date.now() / 1000) * 1000;
      await sleep(t - Date.now());
      const key = `raw/baseline/${i}.ndjson`;
      await h.stack.s3.send(new PutObjectCommand({ Bucket: h.stack.rawBucket, Key: key, Body: '{"baseline":true}\n' }));
      baseline.raw.push(Date.now() - t);
      due.set(key, t);
    }
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && baseW.seen.size < BASELINE_OBJECTS) await sleep(100);
    await baseW.stop();
    for (const [key, t] of due) {
      const seen = baseW.seen.get(key);
      if (seen !== undefined) baseline.backup.push(seen - t);
    }

    const measured: Measured = {
      ticksPerProduct: ticks,
      products: 1,
      seconds: SECONDS,
      bytesPerTick: bytes / ticks,
      putRecordBatchCalls: firehose.counters.calls,
      firehoseRecords: firehose.counters.recordsSeen,
      s3RequestsPerObject: {
        head: s3Log.filter((e) => e.method === 'HEAD').length / objects,
        copy: s3Log.filter((e) => e.label === 'copy-forwarded').length / objects,
      },
      handlerMsPerInvocation: warm.reduce((n, x) => n + x, 0) / Math.max(1, warm.length),
    };
    return {
      latency,
      measured,
      baseline,
      reconciled:
        result.report.violations.length === 0 ? 'reconciled' : `${result.report.violations.length} violations`,
    };
  } finally {
    await h.teardown();
  }
}

async function onLocal(): Promise<Latency> {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-bench-local-'));
  const fake = await startFakeCoinbase({ seed: 901 });
  fake.setFaults([{ endpoint: 'ticker', delayMs: { min: 5, max: 60 } }]);
  const data = join(dir, 'data');
  const rawDir = join(data, 'btc-etl-raw');
  const backupDir = join(data, 'btc-etl-backup');
  const backup = startApp('backup-local', BUNDLES.backupRunner, {
    ...baseEnv(),
    DATA_DIR: data,
    RECONCILE_INTERVAL_MS: '1000',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  });
  const rawW = watch(async () => filesUnder(rawDir).filter((f) => f.startsWith('raw/')));
  const backupW = watch(async () => filesUnder(backupDir).filter((f) => f.startsWith('raw/')));
  const extractor = startApp('extractor-local', BUNDLES.extractor, {
    ...baseEnv(),
    SINK: 'local',
    DATA_DIR: data,
    BUFFER_INTERVAL_S: '1',
    PRODUCTS: 'BTC-USD',
    INTERVAL_MS: String(INTERVAL_MS),
    COINBASE_EXCHANGE_URL: fake.exchangeUrl,
    COINBASE_API_URL: fake.apiUrl,
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
  });
  try {
    await sleep(SECONDS * 1000);
    await extractor.stop();
    await sleep(3000);
    await rawW.stop();
    await backupW.stop();
    await backup.stop();
    const records: PriceTick[] = [];
    const keyOf: string[] = [];
    for (const key of filesUnder(rawDir).filter((f) => f.startsWith('raw/'))) {
      for (const r of decodeNdjson(readFileSync(join(rawDir, key), 'utf8'))) {
        records.push(r);
        keyOf.push(key);
      }
    }
    return latencies(records, keyOf, rawW.seen, backupW.seen);
  } finally {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function replaceSection(doc: string, name: string, body: string): string {
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${begin}\n${body.trim()}\n${end}`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) return doc.slice(0, i) + block + doc.slice(j + end.length);
  return `${doc.trimEnd()}\n\n${block}\n`;
}

/** The intro at the top of docs/benchmarks.md: between its own markers, above every project's section. */
function withIntro(doc: string, machine: string): string {
  const intro = [
    '<!-- bench:intro:begin -->',
    'Every benchmark of the project, each in its own section written by its own bench target; every number is measured',
    'against its baseline in the same run, never copied by hand.',
    '',
    '- Reproduce all: `npm run bench` (= `nx run-many -t bench --parallel=1`: the targets build what they need first).',
    '- One project: `npx nx run extractor:bench`, `npx nx run backup-lambda:bench`, `npx nx run query:bench`,',
    '  `npx nx run e2e:bench` (the e2e bench also regenerates docs/cost-data-path.md).',
    `- Machine of the runs below: ${machine}, ` +
      `shared with other engineers' builds and tests (each section notes its load).`,
    '  moto 5.2.1 stands in for AWS; nothing here measured real AWS latency.',
    '<!-- bench:intro:end -->',
  ].join('\n');
  const b = '<!-- bench:intro:begin -->';
  const e = '<!-- bench:intro:end -->';
  const i = doc.indexOf(b);
  const j = doc.indexOf(e);
  if (i >= 0 && j > i) return doc.slice(0, i) + intro + doc.slice(j + e.length);
  const lines = doc.split('\n');
  const title = lines[0]?.startsWith('# ') ? `${lines[0]}\n\n` : '# Benchmarks\n\n';
  const rest = lines[0]?.startsWith('# ') ? lines.slice(1).join('\n').replace(/^\n+/, '') : doc;
  return `${title}${intro}\n\n${rest}`;
}

async function main(): Promise<void> {
  const moto = await startMoto();
  Object.assign(process.env, motoClientEnv(moto.endpoint));
  const machine = `${cpus().length} cores (nproc ${cpus().length}), Node ${process.version}`;
  const date = new Date().toISOString().slice(0, 10);
  try {
    const m = await onMoto(moto.endpoint);
    const local = await onLocal();
    const row = (name: string, l: Latency, note: string) =>
      `| ${name} | ${l.ticks} | ${pct(l.raw, 50).toFixed(0)} ms | ${pct(l.raw, 99).toFixed(0)} ms ` +
      `| ${pct(l.backup, 50).toFixed(0)} ms | ${pct(l.backup, 99).toFixed(0)} ms | ${note} |`;
    const section = [
      '## e2e',
      '',
      `Command: \`npx nx run e2e:bench\` (BENCH_SECONDS=${SECONDS}, BTC-USD every ${INTERVAL_MS} ms from the fake ` +
        `Coinbase answering in 5-60 ms). Machine: ${machine}, ${date}.`,
      'Latency of a tick = first sighting of the object holding it (listing polled every 100 ms: +-100 ms ' +
        "resolution) minus the tick's due time.",
      '',
      '| path | ticks | due -> raw p50 | p99 | due -> backup p50 | p99 | how |',
      '|---|---|---|---|---|---|---|',
      row(
        'moto: extractor (SINK=firehose, FIREHOSE_MAX_LATENCY_MS=1000) ' +
          '-> moto Firehose -> raw -> S3 event -> SQS -> backup runner',
        m.latency,
        `built bundles; ${m.reconciled}`,
      ),
      row(
        'local: extractor (SINK=local, BUFFER_INTERVAL_S=1) -> DATA_DIR raw -> backup runner local mode ' +
          '(RECONCILE_INTERVAL_MS=1000)',
        local,
        'built bundles, local ObjectStore',
      ),
      row(
        'baseline (same run, moto): PutObject into raw on each second, no extractor or Firehose',
        m.baseline,
        'raw = PutObject round trip',
      ),
      '',
      `Load average after the run: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}.`,
      "moto's Firehose writes one object per PutRecordBatch call, " +
        "with no buffering: on AWS, add the delivery stream's buffer",
      'interval (infra default 60 s; objects appear up to that long ' +
        'after their oldest record) to due -> raw and due -> backup.',
      "The extractor's own share is its flush window (FIREHOSE_MAX_LATENCY_MS, " +
        '1 s); the backup hop adds what the baseline shows.',
      `Cost model inputs measured by the same run are in docs/cost-data-path.md (${m.measured.firehoseRecords} ` +
        `Firehose records in ${m.measured.putRecordBatchCalls} calls, ${m.measured.bytesPerTick.toFixed(1)} bytes ` +
        `per tick, handler ${m.measured.handlerMsPerInvocation.toFixed(1)} ms per one-message invocation).`,
    ].join('\n');
    const doc = existsSync(BENCH_DOC) ? readFileSync(BENCH_DOC, 'utf8') : '# Benchmarks\n';
    writeFileSync(BENCH_DOC, withIntro(replaceSection(doc, 'e2e', section), machine));
    writeFileSync(COST_DOC, renderCostDoc(m.measured, { command: 'npx nx run e2e:bench', machine, date }));
    console.log(section);
  } finally {
    await moto.stop();
  }
}

await main();
