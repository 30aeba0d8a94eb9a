// `npx nx run backup-lambda:bench`: the four targets, each against a baseline measured in the same run, on a
// private moto. Rewrites only the backup-lambda section of docs/benchmarks.md. Numbers, never assertions.
import { CopyObjectCommand, CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { motoClientEnv, startMoto } from '@btc-etl/testing';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { s3NotificationBody, sqsEvent, sqsRecordFactory } from '../src/__fixtures__/event.factories';
import { queueArn, uniqueName } from '../src/__fixtures__/moto-pipeline';
import { SqsEventSource } from '../src/sqs-event-source';

const root = resolve(import.meta.dirname, '../../..');
const dist = join(root, 'dist/apps/backup-lambda');
const docs = join(root, 'docs/benchmarks.md');
type Handler = (e: SQSEvent, c: Context) => Promise<SQSBatchResponse>;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN;
// The runner's own lines would only add noise to the bench output.
const ignore = (): void => undefined;
const quiet = { debug: ignore, info: ignore, warn: ignore, error: ignore } as never;

async function putObjects(s3: S3Client, bucket: string, n: number, tag: string) {
  const out: { key: string; size: number; etag: string }[] = [];
  for (let i = 0; i < n; i++) {
    const key = `raw/2026/11/27/19/${tag}-${i}.json`;
    const body = `{"product_id":"BTC-USD","price":"97123.45","i":${i}}\n`;
    const res = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    out.push({ key, size: Buffer.byteLength(body), etag: (res.ETag ?? '').replace(/"/g, '') });
  }
  return out;
}

/** Target 1: objects/s for one handler invocation of n messages vs a sequential CopyObject loop. */
async function throughput(s3: S3Client, handler: Handler, n: number) {
  const raw = uniqueName('raw');
  const seqBackup = uniqueName('seq');
  await s3.send(new CreateBucketCommand({ Bucket: raw }));
  await s3.send(new CreateBucketCommand({ Bucket: seqBackup }));
  const objects = await putObjects(s3, raw, n, `t${n}`);

  let t = performance.now();
  for (const o of objects) {
    await s3.send(new CopyObjectCommand({ Bucket: seqBackup, Key: o.key, CopySource: `${raw}/${o.key}`, CopySourceIfMatch: `"${o.etag}"` }));
  }
  const sequentialMs = performance.now() - t;

  const event = sqsEvent(...objects.map((o) => sqsRecordFactory(s3NotificationBody({ bucket: raw, ...o }))));
  t = performance.now();
  const response = await handler(event, {} as Context);
  const handlerMs = performance.now() - t;
  if (response.batchItemFailures.length > 0) throw new Error(`bench batch had failures: ${JSON.stringify(response)}`);
  return { n, sequentialPerS: (n / sequentialMs) * 1000, handlerPerS: (n / handlerMs) * 1000 };
}

/**
 * Target 3: fresh process -> first handler result, minus the copy (the same process's warm invocation of a second
 * object of the same size). `bundle` picks the file: the deployed one, or a variant with the SDK left external.
 */
function coldStart(env: Record<string, string>, raw: string, objects: { key: string; size: number; etag: string }[], runs: number, bundle = join(dist, 'index.mjs')) {
  const samples: { boot: number; importMs: number; first: number; warm: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const a = objects[2 * i];
    const b = objects[2 * i + 1];
    if (!a || !b) break;
    const script = `
      const boot = performance.now();
      const ev = (o) => ({ Records: [{ messageId: o.key, receiptHandle: 'r', body: JSON.stringify({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: ${JSON.stringify(raw)} }, object: { key: encodeURIComponent(o.key), size: o.size, eTag: o.etag } } }] }), attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:0:q', awsRegion: 'us-east-1' }] });
      const { handler } = await import(${JSON.stringify(bundle)});
      const imported = performance.now();
      const r1 = await handler(ev(${JSON.stringify(a)}), {});
      const first = performance.now() - imported;
      const t = performance.now();
      const r2 = await handler(ev(${JSON.stringify(b)}), {});
      const warm = performance.now() - t;
      if (r1.batchItemFailures.length || r2.batchItemFailures.length) process.exit(3);
      console.log(JSON.stringify({ boot, importMs: imported - boot, first, warm }));`;
    const res = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { env: { ...process.env, ...env, POWERTOOLS_LOG_LEVEL: 'SILENT' }, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`cold-start probe failed: ${res.stderr}`);
    samples.push(JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}'));
  }
  const pick = (f: (s: (typeof samples)[number]) => number) => median(samples.map(f));
  return {
    bootMs: pick((s) => s.boot),
    importMs: pick((s) => s.importMs),
    firstMinusCopyMs: pick((s) => s.first - s.warm),
    coldMs: pick((s) => s.boot + s.importMs + s.first - s.warm),
    copyMs: pick((s) => s.warm),
  };
}

/** Target 4: raw put -> backup copy through the local runner (p50/p99) vs put -> message received on a twin queue. */
async function latency(s3: S3Client, sqs: SQSClient, handler: Handler, n: number) {
  const raw = uniqueName('raw');
  await s3.send(new CreateBucketCommand({ Bucket: raw }));
  const main = (await sqs.send(new CreateQueueCommand({ QueueName: `${raw}-events` }))).QueueUrl ?? '';
  const twin = (await sqs.send(new CreateQueueCommand({ QueueName: `${raw}-twin` }))).QueueUrl ?? '';
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: raw,
      NotificationConfiguration: {
        QueueConfigurations: [
          { Id: 'backup', QueueArn: await queueArn(sqs, main), Events: ['s3:ObjectCreated:*'] },
          { Id: 'twin', QueueArn: await queueArn(sqs, twin), Events: ['s3:ObjectCreated:*'] },
        ],
      },
    }),
  );
  const putAt = new Map<string, number>();
  const copiedAt = new Map<string, number>();
  const receivedAt = new Map<string, number>();
  const keysOf = (body: string): string[] => {
    try {
      return (JSON.parse(body) as { Records?: { s3: { object: { key: string } } }[] }).Records?.map((r) => decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '))) ?? [];
    } catch {
      return [];
    }
  };
  const timed: Handler = async (event, context) => {
    const response = await handler(event, context);
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    const now = performance.now();
    for (const r of event.Records) if (!failed.has(r.messageId)) for (const k of keysOf(r.body)) copiedAt.set(k, now);
    return response;
  };
  const controller = new AbortController();
  const runner = new SqsEventSource({ sqs, queueUrl: main, handler: timed, logger: quiet, waitTimeSeconds: 1 });
  const running = runner.run(controller.signal);
  const twinLoop = (async () => {
    while (!controller.signal.aborted) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: twin, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      const now = performance.now();
      for (const m of out.Messages ?? []) for (const k of keysOf(m.Body ?? '')) receivedAt.set(k, now);
      if (out.Messages?.length) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: twin, Entries: out.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
      }
    }
  })();
  for (let i = 0; i < n; i++) {
    const key = `raw/2026/11/27/19/lat-${i}.json`;
    putAt.set(key, performance.now());
    await s3.send(new PutObjectCommand({ Bucket: raw, Key: key, Body: `{"i":${i}}\n` }));
    await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 30_000;
  while ((copiedAt.size < n || receivedAt.size < n) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  controller.abort();
  await Promise.all([running, twinLoop.catch(() => undefined)]);
  const lat = [...putAt].filter(([k]) => copiedAt.has(k)).map(([k, t]) => (copiedAt.get(k) ?? 0) - t);
  const base = [...putAt].filter(([k]) => receivedAt.has(k)).map(([k, t]) => (receivedAt.get(k) ?? 0) - t);
  return { n, copied: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99), baseP50: percentile(base, 50), baseP99: percentile(base, 99) };
}

async function main() {
  if (!existsSync(join(dist, 'index.mjs'))) throw new Error('run `npx nx run backup-lambda:build` first');
  const moto = await startMoto();
  try {
    const backup = uniqueName('backup');
    const env = { ...motoClientEnv(moto.endpoint), BACKUP_BUCKET: backup, S3_FORCE_PATH_STYLE: 'true', POWERTOOLS_LOG_LEVEL: 'SILENT' };
    Object.assign(process.env, env);
    const s3 = new S3Client({ forcePathStyle: true });
    const sqs = new SQSClient({});
    await s3.send(new CreateBucketCommand({ Bucket: backup }));
    const { handler } = (await import(join(dist, 'index.mjs'))) as { handler: Handler };

    await throughput(s3, handler, 10); // warm-up: connections, moto's first-request costs
    const rates = [];
    for (const n of [10, 100]) {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await throughput(s3, handler, n));
      rates.push({ n, sequentialPerS: median(runs.map((r) => r.sequentialPerS)), handlerPerS: median(runs.map((r) => r.handlerPerS)) });
    }

    const zipBytes = statSync(join(dist, 'backup-lambda.zip')).size;
    const coldRaw = uniqueName('raw');
    await s3.send(new CreateBucketCommand({ Bucket: coldRaw }));
    const coldObjects = await putObjects(s3, coldRaw, 20, 'cold');
    const cold = coldStart(env, coldRaw, coldObjects.slice(0, 10), 5);
    // The alternative: leave @aws-sdk/* to the Lambda runtime's copy (loaded from node_modules here).
    const external = join(dist, 'bench/sdk-external.mjs');
    execFileSync(process.execPath, ['tools/bundle.mjs', '--entry', 'apps/backup-lambda/src/handler.ts', '--outfile', external, '--minify', '--external', '@aws-sdk/*'], { cwd: root });
    const coldExternal = coldStart(env, coldRaw, coldObjects.slice(10), 5, external);
    const lat = await latency(s3, sqs, handler, 100);

    const fmt = (x: number, d = 0) => x.toFixed(d);
    const lines = [
      `Command: \`npx nx run backup-lambda:bench\` (moto ${'5.2.1'} started by the bench; handler = the built \`dist/apps/backup-lambda/index.mjs\`, default COPY_CONCURRENCY 16).`,
      `Machine: ${cpus().length} cores (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
      '',
      '| target | measured | baseline (same run) | goal |',
      '|---|---|---|---|',
      ...rates.map(
        (r) =>
          `| objects/s, batch of ${r.n} small objects (one invocation, ${r.n} messages) | ${fmt(r.handlerPerS)}/s (${fmt(r.handlerPerS / r.sequentialPerS, 1)}x) | sequential CopyObject loop ${fmt(r.sequentialPerS)}/s | >= 10x the loop |`,
      ),
      `| deployment zip | ${fmt(zipBytes / 1024, 1)} KiB (AWS SDK v3 bundled) | - | <= 500 KiB |`,
      `| cold start: fresh process -> first handler result, minus the copy | ${fmt(cold.coldMs)} ms = node boot ${fmt(cold.bootMs)} + import ${fmt(cold.importMs)} + first call ${fmt(cold.firstMinusCopyMs)} (copy itself ${fmt(cold.copyMs)} ms) | SDK external (runtime's copy): ${fmt(coldExternal.coldMs)} ms = boot ${fmt(coldExternal.bootMs)} + import ${fmt(coldExternal.importMs)} + first call ${fmt(coldExternal.firstMinusCopyMs)} | <= 150 ms + the copies |`,
      `| raw put -> backup copy via the local runner (${lat.copied}/${lat.n} objects, 1 put / 20 ms) | p50 ${fmt(lat.p50)} ms, p99 ${fmt(lat.p99)} ms | put -> message received on a twin queue: p50 ${fmt(lat.baseP50)} ms, p99 ${fmt(lat.baseP99)} ms | p99 <= 2 s |`,
      '',
      `Load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (other engineers' builds and tests share the machine).`,
      '',
      'Each object costs three S3 requests in the handler (HEAD backup for the idempotence check, HEAD source for the',
      "size and the ETag precondition, CopyObject) against the loop's one; moto is a single Python process on the same",
      '2 cores, so the speed-up is bounded by moto, not by the handler\'s concurrency.',
    ];
    writeSection(lines.join('\n'));
    console.log(lines.join('\n'));
  } finally {
    await moto.stop();
  }
}

function writeSection(body: string) {
  const begin = '<!-- bench:backup-lambda:begin -->';
  const end = '<!-- bench:backup-lambda:end -->';
  const section = `${begin}\n## backup-lambda\n\n${body}\n${end}`;
  const current = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf(begin);
  const stop = current.indexOf(end);
  const next = start >= 0 && stop > start ? current.slice(0, start) + section + current.slice(stop + end.length) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(docs, next);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
