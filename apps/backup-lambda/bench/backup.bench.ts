// `npx nx run backup-lambda:bench`: the issue's four targets, each against a baseline measured in the same run, on a
// private moto. Rewrites only the backup-lambda section of docs/benchmarks.md. Numbers, never assertions (the bench
// does refuse to report a run whose handler did not copy every object, or whose requests bypassed the proxy).
// BENCH_S3_LATENCY_MS=15-30 sets the latency proxy's per-request delay (see s3-latency.proxy.ts).
import {
  CopyObjectCommand,
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { motoClientEnv, startMoto } from '@btc-etl/testing';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { s3NotificationBody, sqsEvent, sqsRecordFactory } from '../src/__fixtures__/event.factories';
import { queueArn, uniqueName } from '../src/__fixtures__/moto-pipeline';
import type { BackupCounters } from '../src/core/backup.counters';
import { SqsEventSource } from '../src/runner/sqs-event-source';

const execFileAsync = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const dist = join(root, 'dist/apps/backup-lambda');
const docs = join(root, 'docs/benchmarks.md');
type Handler = (e: SQSEvent, c: Context) => Promise<SQSBatchResponse>;
/** One loaded copy of the built bundle: its handler and its own running totals. */
interface LoadedHandler {
  handler: Handler;
  counters: BackupCounters;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN;
// The runner's own lines would only add noise to the bench output.
const ignore = (): void => undefined;
const quiet = { debug: ignore, info: ignore, warn: ignore, error: ignore } as never;
const benchStart = performance.now();
/** Where the bench is, on stderr (a run takes a few minutes). */
const progress = (what: string) =>
  console.error(`[bench ${((performance.now() - benchStart) / 1000).toFixed(0)}s] ${what}`);

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

let runSeq = 0;

/**
 * Target 1: objects/s for one handler invocation of n messages vs a sequential CopyObject loop. Every run copies
 * fresh keys (a key already in the backup would be skipped as a duplicate, which is not what is being measured), and
 * the handler's own counters must show n copies. `loopS3` is the loop's client (raw moto or the latency proxy);
 * `stats` reads the proxy's request counts, so the run also yields S3 requests per object.
 */
async function throughput(
  s3: S3Client,
  loopS3: S3Client,
  loaded: LoadedHandler[],
  n: number,
  stats?: () => Promise<Record<string, number>>,
) {
  const raw = uniqueName('raw');
  const seqBackup = uniqueName('seq');
  await s3.send(new CreateBucketCommand({ Bucket: raw }));
  await s3.send(new CreateBucketCommand({ Bucket: seqBackup }));
  const batches = [];
  for (let i = 0; i <= loaded.length; i++) batches.push(await putObjects(s3, raw, n, `r${++runSeq}-n${n}`));

  await stats?.();
  let t = performance.now();
  for (const o of batches[0] ?? []) {
    await loopS3.send(
      new CopyObjectCommand({
        Bucket: seqBackup,
        Key: o.key,
        CopySource: `${raw}/${o.key}`,
        CopySourceIfMatch: `"${o.etag}"`,
      }),
    );
  }
  const sequentialMs = performance.now() - t;
  const loopRequests = total(await stats?.());

  const handlers = [];
  for (const [i, { handler, counters }] of loaded.entries()) {
    const objects = batches[i + 1] ?? [];
    const event = sqsEvent(...objects.map((o) => sqsRecordFactory(s3NotificationBody({ bucket: raw, ...o }))));
    const copiedBefore = counters.get('copied');
    t = performance.now();
    const response = await handler(event, {} as Context);
    const handlerMs = performance.now() - t;
    const requests = await stats?.();
    if (response.batchItemFailures.length > 0) throw new Error(`bench batch had failures: ${JSON.stringify(response)}`);
    const copied = counters.get('copied') - copiedBefore;
    if (copied !== n) throw new Error(`the handler copied ${copied} of ${n} objects: not a copy benchmark`);
    if (stats && total(requests) < 2 * n)
      throw new Error(`only ${total(requests)} requests went through the latency proxy for ${n} objects`);
    handlers.push({ perS: (n / handlerMs) * 1000, requestsPerObject: total(requests) / n, requests });
  }
  return { n, sequentialPerS: (n / sequentialMs) * 1000, loopRequestsPerObject: loopRequests / n, handlers };
}

const total = (counts: Record<string, number> | undefined) => Object.values(counts ?? {}).reduce((a, b) => a + b, 0);

/** Median over runs of each variant's rate, plus the loop's. */
function summarise(runs: Awaited<ReturnType<typeof throughput>>[]) {
  const first = runs[0];
  return {
    n: first?.n ?? 0,
    loopPerS: median(runs.map((r) => r.sequentialPerS)),
    loopRequestsPerObject: first?.loopRequestsPerObject ?? NaN,
    handlers: (first?.handlers ?? []).map((_, i) => ({
      perS: median(runs.map((r) => r.handlers[i]?.perS ?? NaN)),
      requestsPerObject: median(runs.map((r) => r.handlers[i]?.requestsPerObject ?? NaN)),
      requests: first?.handlers[i]?.requests,
    })),
  };
}

/** The latency proxy in its own process (its work must not run on the event loop being measured). */
async function startLatencyProxy(
  target: string,
  minMs: number,
  maxMs: number,
): Promise<{ endpoint: string; child: ChildProcess; stats: () => Promise<Record<string, number>> }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 's3-latency.proxy.ts'),
      '--target',
      target,
      '--min-ms',
      String(minMs),
      '--max-ms',
      String(maxMs),
    ],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<string>((resolvePort, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m?.[1]) resolvePort(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`latency proxy exited with ${code}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    child,
    stats: async () => (await (await fetch(`${endpoint}/__proxy/stats?reset=1`)).json()) as Record<string, number>,
  };
}

interface ColdVariant {
  name: string;
  bundle: string;
  /** NODE_OPTIONS for the probe (the Lambda runtime passes the function's NODE_OPTIONS to node). */
  nodeOptions?: string;
}

/**
 * Target 3: fresh process -> first handler result, minus the copy (the same process's warm invocation of a second
 * object of the same size). The variants' probes are interleaved, so a burst of load from other work on the machine
 * lands on all of them rather than on one; each variant reports medians and the spread of its cold totals.
 */
async function coldStart(
  env: Record<string, string>,
  raw: string,
  objects: { key: string; size: number; etag: string }[],
  runs: number,
  variants: ColdVariant[],
) {
  const samples = new Map<string, { boot: number; importMs: number; first: number; warm: number }[]>(
    variants.map((v) => [v.name, []]),
  );
  let next = 0;
  for (let i = 0; i < runs; i++) {
    for (const variant of variants) {
      const a = objects[next++];
      const b = objects[next++];
      if (!a || !b) throw new Error('cold-start probe: not enough objects');
      const script = `
      const boot = performance.now();
      const s3Record = (o) => ({
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: {
          bucket: { name: ${JSON.stringify(raw)} },
          object: { key: encodeURIComponent(o.key), size: o.size, eTag: o.etag },
        },
      });
      const ev = (o) => ({
        Records: [{
          messageId: o.key, receiptHandle: 'r', body: JSON.stringify({ Records: [s3Record(o)] }),
          attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, md5OfBody: '',
          eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:0:q', awsRegion: 'us-east-1',
        }],
      });
      const { handler } = await import(${JSON.stringify(variant.bundle)});
      const imported = performance.now();
      const r1 = await handler(ev(${JSON.stringify(a)}), {});
      const first = performance.now() - imported;
      const t = performance.now();
      const r2 = await handler(ev(${JSON.stringify(b)}), {});
      const warm = performance.now() - t;
      if (r1.batchItemFailures.length || r2.batchItemFailures.length) process.exit(3);
      console.log(JSON.stringify({ boot, importMs: imported - boot, first, warm }));`;
      // Asynchronously: a blocked event loop would stop draining moto's stderr (one log line per request), and
      // once that pipe is full moto, and with it the probe, stalls.
      const res = await execFileAsync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
        env: { ...process.env, ...env, POWERTOOLS_LOG_LEVEL: 'SILENT', NODE_OPTIONS: variant.nodeOptions ?? '' },
        encoding: 'utf8',
        timeout: 30_000,
      }).catch((error: unknown) => {
        throw new Error(`cold-start probe ${variant.name} failed`, { cause: error });
      });
      samples.get(variant.name)?.push(JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}'));
    }
  }
  return variants.map((variant) => {
    const s = samples.get(variant.name) ?? [];
    const pick = (f: (x: (typeof s)[number]) => number) => median(s.map(f));
    const cold = s.map((x) => x.boot + x.importMs + x.first - x.warm);
    return {
      name: variant.name,
      bundle: variant.bundle,
      runs: s.length,
      bootMs: pick((x) => x.boot),
      importMs: pick((x) => x.importMs),
      firstMinusCopyMs: pick((x) => x.first - x.warm),
      coldMs: median(cold),
      coldMinMs: Math.min(...cold),
      coldMaxMs: Math.max(...cold),
      within150: cold.filter((c) => c <= 150).length,
      copyMs: pick((x) => x.warm),
    };
  });
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
      return (
        (JSON.parse(body) as { Records?: { s3: { object: { key: string } } }[] }).Records?.map((r) =>
          decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')),
        ) ?? []
      );
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
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: twin, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      const now = performance.now();
      for (const m of out.Messages ?? []) for (const k of keysOf(m.Body ?? '')) receivedAt.set(k, now);
      if (out.Messages?.length) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: twin,
            Entries: out.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
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
  while ((copiedAt.size < n || receivedAt.size < n) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  controller.abort();
  await Promise.all([running, twinLoop.catch(() => undefined)]);
  const lat = [...putAt].filter(([k]) => copiedAt.has(k)).map(([k, t]) => (copiedAt.get(k) ?? 0) - t);
  const base = [...putAt].filter(([k]) => receivedAt.has(k)).map(([k, t]) => (receivedAt.get(k) ?? 0) - t);
  return {
    n,
    copied: lat.length,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    baseP50: percentile(base, 50),
    baseP99: percentile(base, 99),
  };
}

/** `BENCH_S3_LATENCY_MS`: `15-30` (uniform) or one number. */
function latencyRange(spec: string): { minMs: number; maxMs: number } {
  const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(spec.trim());
  const minMs = Number(m?.[1]);
  const maxMs = Number(m?.[2] ?? m?.[1]);
  if (!m || maxMs < minMs) throw new Error(`BENCH_S3_LATENCY_MS must be like 15-30 or 20, got ${JSON.stringify(spec)}`);
  return { minMs, maxMs };
}

/**
 * One more instance of the built bundle (a query string makes a new ES module): its configuration is read from
 * process.env while it loads, so each instance keeps its own COPY_CONCURRENCY and S3_TRUST_SERVER_CONDITIONS.
 */
async function loadHandler(tag: string, env: Record<string, string | undefined>): Promise<LoadedHandler> {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return (await import(`${pathToFileURL(join(dist, 'index.mjs')).href}?${tag}`)) as LoadedHandler;
}

async function main() {
  if (!existsSync(join(dist, 'index.mjs'))) throw new Error('run `npx nx run backup-lambda:build` first');
  const { minMs, maxMs } = latencyRange(process.env.BENCH_S3_LATENCY_MS ?? '15-30');
  const loadStart = loadavg();
  const moto = await startMoto();
  let proxy: Awaited<ReturnType<typeof startLatencyProxy>> | undefined;
  const coldDir = mkdtempSync(join(tmpdir(), 'backup-lambda-cold-'));
  try {
    proxy = await startLatencyProxy(moto.endpoint, minMs, maxMs);
    const backup = uniqueName('backup');
    const env = {
      ...motoClientEnv(moto.endpoint),
      BACKUP_BUCKET: backup,
      S3_FORCE_PATH_STYLE: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
    Object.assign(process.env, env);
    // Explicit endpoints: these clients stay on raw moto (or the proxy) whatever AWS_ENDPOINT_URL says later.
    const s3 = new S3Client({ forcePathStyle: true, endpoint: moto.endpoint });
    const slowS3 = new S3Client({ forcePathStyle: true, endpoint: proxy.endpoint });
    const sqs = new SQSClient({ endpoint: moto.endpoint });
    await s3.send(new CreateBucketCommand({ Bucket: backup }));
    // The deployed configuration against moto: AWS_ENDPOINT_URL is set, so S3_TRUST_SERVER_CONDITIONS defaults to
    // false and each copy heads its source (moto ignores CopySourceIfMatch).
    // What the same bundle sends on AWS (trusting S3's CopySourceIfMatch) is correct only where the server enforces
    // the condition: on moto it is used for timing only (the bench's sources never change under it).
    const loadVariants = async (endpoint: string) => {
      // The SDK settles on its endpoint once, so each mode gets its own instances, loaded with AWS_ENDPOINT_URL set.
      process.env.AWS_ENDPOINT_URL = endpoint;
      const loaded = [
        await loadHandler(`default-${endpoint}`, {
          S3_TRUST_SERVER_CONDITIONS: undefined,
          COPY_CONCURRENCY: undefined,
        }),
        await loadHandler(`aws-${endpoint}`, { S3_TRUST_SERVER_CONDITIONS: 'true', COPY_CONCURRENCY: undefined }),
        await loadHandler(`aws-64-${endpoint}`, { S3_TRUST_SERVER_CONDITIONS: 'true', COPY_CONCURRENCY: '64' }),
      ];
      delete process.env.S3_TRUST_SERVER_CONDITIONS;
      delete process.env.COPY_CONCURRENCY;
      return loaded;
    };
    const variants = await loadVariants(moto.endpoint);
    const onMoto = variants[0];
    if (!onMoto) throw new Error('no handler loaded');

    // Phase 1, raw moto on loopback.
    progress('throughput on raw moto');
    await throughput(s3, s3, variants, 10); // warm-up: connections, moto's first-request costs
    const rawRates = [];
    for (const n of [10, 100]) {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await throughput(s3, s3, variants, n));
      rawRates.push(summarise(runs));
    }

    progress('cold starts');
    const zipBytes = statSync(join(dist, 'backup-lambda.zip')).size;
    // Cold starts run what the zip holds (no source map beside it), extracted as Lambda would.
    execFileSync('python3', ['-m', 'zipfile', '-e', join(dist, 'backup-lambda.zip'), coldDir]);
    const external = join(dist, 'bench/sdk-external.mjs');
    execFileSync(
      process.execPath,
      [
        'tools/bundle.mjs',
        '--entry',
        'apps/backup-lambda/src/lambda/handler.ts',
        '--outfile',
        external,
        '--minify',
        '--main-fields',
        'module,main',
        '--external',
        '@aws-sdk/*',
      ],
      { cwd: root },
    );
    const cjsBuilds = join(dist, 'bench/cjs-main-fields.mjs');
    execFileSync(
      process.execPath,
      ['tools/bundle.mjs', '--entry', 'apps/backup-lambda/src/lambda/handler.ts', '--outfile', cjsBuilds, '--minify'],
      { cwd: root },
    );
    const coldVariants: ColdVariant[] = [
      { name: 'zip', bundle: join(coldDir, 'index.mjs') },
      {
        name: 'zip, NODE_OPTIONS=--enable-source-maps',
        bundle: join(coldDir, 'index.mjs'),
        nodeOptions: '--enable-source-maps',
      },
      {
        name: 'with its 2.7 MB source map beside it, --enable-source-maps',
        bundle: join(dist, 'index.mjs'),
        nodeOptions: '--enable-source-maps',
      },
      { name: "bundled from the packages' CommonJS builds (esbuild's default main fields)", bundle: cjsBuilds },
      { name: "SDK left external (the runtime's copy; here node_modules)", bundle: external },
    ];
    const coldRuns = 9;
    const coldRaw = uniqueName('raw');
    await s3.send(new CreateBucketCommand({ Bucket: coldRaw }));
    const coldObjects = await putObjects(s3, coldRaw, 2 * coldRuns * coldVariants.length, 'cold');
    const cold = await coldStart(env, coldRaw, coldObjects, coldRuns, coldVariants);
    progress('put -> backup latency through the local runner');
    const lat = await latency(s3, sqs, onMoto.handler, 100);

    // Phase 2, through the latency proxy, with handler instances of their own (throughput() checks that the proxy
    // saw their requests).
    const slowVariants = await loadVariants(proxy.endpoint);
    progress(`throughput through the latency proxy (${minMs}-${maxMs} ms)`);
    await throughput(s3, slowS3, slowVariants, 10, proxy.stats); // warm-up: new connections to the proxy
    const slowRates = [];
    for (const n of [10, 100]) {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await throughput(s3, slowS3, slowVariants, n, proxy.stats));
      slowRates.push(summarise(runs));
    }
    process.env.AWS_ENDPOINT_URL = moto.endpoint;
    const loadEnd = loadavg();

    const fmt = (x: number, d = 0) => x.toFixed(d);
    const ratio = (h: number, l: number) => `${fmt(h / l, 1)}x`;
    const verdict = (h: number, l: number) => (h / l >= 10 ? 'meets' : 'misses');
    const rateRows = (mode: string, rates: ReturnType<typeof summarise>[]) =>
      rates.map((r) => {
        const [d, a, w] = r.handlers;
        const cell = (h: typeof d) => (h ? `${fmt(h.perS)}/s = **${ratio(h.perS, r.loopPerS)}**` : '-');
        return (
          `| ${mode} | ${r.n} | ${fmt(r.loopPerS)}/s | ${cell(d)} (${verdict(d?.perS ?? 0, r.loopPerS)}) ` +
          `| ${cell(a)} (${verdict(a?.perS ?? 0, r.loopPerS)}) | ${cell(w)} |`
        );
      });
    const perObject = (r: ReturnType<typeof summarise> | undefined, i: number) => {
      const h = r?.handlers[i];
      const parts = Object.entries(h?.requests ?? {}).map(([k, v]) => `${fmt(v / (r?.n ?? 1), 1)} ${k}`);
      return `${fmt(h?.requestsPerObject ?? NaN, 1)} (${parts.join(' + ')})`;
    };
    const slow100 = slowRates.at(-1);
    const [zipCold, ...otherCold] = cold;
    const coldCell = (c: (typeof cold)[number]) =>
      `${fmt(c.coldMs)} ms (min ${fmt(c.coldMinMs)}, max ${fmt(c.coldMaxMs)}) = boot ${fmt(c.bootMs)} + ` +
      `import ${fmt(c.importMs)} + first call ${fmt(c.firstMinusCopyMs)}`;
    const lines = [
      `Command: \`npx nx run backup-lambda:bench\` (moto 5.2.1 started by the bench; handler = the built ` +
        `\`dist/apps/backup-lambda/index.mjs\`, ` +
        `loaded three times with different settings; default COPY_CONCURRENCY 16).`,
      `Machine: ${cpus().length} cores (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()}), ` +
        `Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z. Load average at the ` +
        `start ${loadStart.map((l) => l.toFixed(1)).join(' ')}, at the ` +
        `end ${loadEnd.map((l) => l.toFixed(1)).join(' ')} (other engineers' builds and tests share the machine).`,
      '',
      '### Throughput: objects copied per second, ' +
        'one invocation of n messages (one small object each), median of 3 runs',
      '',
      `Goal: >= 10x a sequential CopyObject loop measured in the same run, on moto. Two modes: **raw moto** on ` +
        `loopback, and **moto behind a latency proxy** (\`bench/s3-latency.proxy.ts\`, ${minMs}-${maxMs} ms added to ` +
        `every request, uniform; a stand-in for S3's network round trip from a Lambda, set with ` +
        `\`BENCH_S3_LATENCY_MS\`). The loop and the handlers use the same mode within a row, and every handler run ` +
        `copies fresh keys (checked with the handler's own counters).`,
      '',
      '| mode | n | loop: 1 CopyObject per object | handler as deployed against moto (HEAD backup + HEAD source + ' +
        'CopyObject) | handler with the AWS request pattern (`S3_TRUST_SERVER_CONDITIONS=true`: HEAD backup + ' +
        'CopyObject) | AWS pattern, `COPY_CONCURRENCY=64` (not the default) |',
      '|---|---|---|---|---|---|',
      ...rateRows('raw moto', rawRates),
      ...rateRows(`moto + ${minMs}-${maxMs} ms per request`, slowRates),
      '',
      `S3 requests per object, counted by the proxy (n = 100): ` +
        `loop ${fmt(slow100?.loopRequestsPerObject ?? NaN, 1)}; handler as deployed against ` +
        `moto ${perObject(slow100, 0)}; AWS pattern ${perObject(slow100, 1)}.`,
      '',
      '| target | measured | baseline (same run) | goal |',
      '|---|---|---|---|',
      `| deployment zip | ${fmt(zipBytes / 1024, 1)} KiB (AWS SDK v3 bundled from its ESM builds) | - | <= 500 KiB |`,
      `| cold start: fresh process -> first handler result, minus the copy (the zip's index.mjs, median ` +
        `of ${zipCold?.runs} interleaved runs) | ${zipCold ? coldCell(zipCold) : '-'} (copy ` +
        `itself ${fmt(zipCold?.copyMs ?? NaN)} ms) ` +
        `| ${otherCold.map((c) => `${c.name}: ${coldCell(c)}`).join('<br>')} | <= 150 ms + the copies |`,
      `| raw put -> backup copy via the local runner (${lat.copied}/${lat.n} objects, 1 put / 20 ms) | ` +
        `p50 ${fmt(lat.p50)} ms, p99 ${fmt(lat.p99)} ms | put -> message received on a twin queue: ` +
        `p50 ${fmt(lat.baseP50)} ms, p99 ${fmt(lat.baseP99)} ms | p99 <= 2 s |`,
    ];
    const body = `${[...lines, '', ...notes(rawRates, slowRates, cold, minMs, maxMs)].join('\n')}`;
    writeSection(body);
    console.log(body);
  } finally {
    rmSync(coldDir, { recursive: true, force: true });
    proxy?.child.kill('SIGTERM');
    await moto.stop();
  }
}

/** The explanation under the tables, with this run's numbers in it. */
function notes(
  rawRates: ReturnType<typeof summarise>[],
  slowRates: ReturnType<typeof summarise>[],
  cold: Awaited<ReturnType<typeof coldStart>>,
  minMs: number,
  maxMs: number,
): string[] {
  const fmt = (x: number, d = 0) => x.toFixed(d);
  const slow100 = slowRates.at(-1);
  const k = (i: number) => slow100?.handlers[i]?.requestsPerObject ?? NaN;
  // moto's request ceiling in this run: the best rate any handler got out of it on loopback, in requests per second.
  const ceiling = Math.max(...rawRates.flatMap((r) => r.handlers.map((h, i) => h.perS * k(i))));
  const rawLoop = median(rawRates.map((r) => r.loopPerS));
  const slowLoop = median(slowRates.map((r) => r.loopPerS));
  const meeting = [
    ...rawRates.map((r) => ['raw moto', r] as const),
    ...slowRates.map((r) => ['latency proxy', r] as const),
  ].flatMap(([mode, r]) =>
    r.handlers
      .slice(0, 2)
      .flatMap((h, i) =>
        h.perS / r.loopPerS >= 10
          ? [`${mode}, n = ${r.n}, ${i === 0 ? 'as deployed against moto' : 'AWS pattern'}`]
          : [],
      ),
  );
  const gain = (rates: ReturnType<typeof summarise>[]) =>
    rates.map((r) => `${fmt(((r.handlers[1]?.perS ?? NaN) / (r.handlers[0]?.perS ?? NaN) - 1) * 100)} %`).join(' / ');
  const byName = (prefix: string) => cold.find((c) => c.name.startsWith(prefix));
  const zip = cold[0];
  const zipMaps = byName('zip, NODE_OPTIONS');
  const withMap = byName('with its');
  const cjs = byName('bundled from');
  // What a zip holding the map as well would weigh (deflate, as python's zipfile writes it).
  const zipWithMapKiB =
    (statSync(join(dist, 'backup-lambda.zip')).size +
      deflateRawSync(readFileSync(join(dist, 'index.mjs.map'))).length) /
    1024;
  return [
    meeting.length === 0
      ? '**Throughput goal (>= 10x the loop): not met, in either mode, ' +
        'for either batch size.** Neither mode can meet it on this machine, for the reasons below.'
      : `**Throughput goal (>= 10x the loop): met for ${meeting.join('; ')}; not met for the other rows.**`,
    '',
    `- Raw moto is a contest for moto's CPU. moto is one Python process (one core at a time) sharing the 2 cores ` +
      `with the bench and other work; in this run it served at most ~${fmt(ceiling)} requests/s (best handler rate x ` +
      `its requests per object). The sequential loop alone already drives it at ~${fmt(rawLoop)} requests/s, since ` +
      `on loopback most of a CopyObject's ${fmt(1000 / rawLoop, 1)} ms is moto's own CPU. A handler that needs k ` +
      `requests per object can reach at most ${fmt(ceiling)} / (k x ${fmt(rawLoop)}) of the ` +
      `loop: ${fmt(ceiling / (3 * rawLoop), 1)}x for k = 3, ${fmt(ceiling / (2 * rawLoop), 1)}x for k = 2. ` +
      `Concurrency cannot add CPU to moto, so no handler reaches 10x here.`,
    `- With ${minMs}-${maxMs} ms per request the loop waits on round trips (${fmt(slowLoop)} objects/s) and the ` +
      `handler overlaps them, but two bounds remain. A batch of 10 runs all 10 copies at once, yet each needs k ` +
      `dependent round trips (the idempotence HEAD on the backup, then the copy; against moto also the source HEAD) ` +
      `where the loop needs 10 single ones: at most 10/k = ${fmt(10 / 3, 1)}x (k = 3) or ${fmt(10 / 2, 1)}x (k = 2), ` +
      `whatever the concurrency. The skip-if-already-backed-up check the issue requires is what makes k >= 2. For ` +
      `100 objects the round trips overlap 16 (or 64) at a time until moto's CPU is the limit again: 10x the loop ` +
      `would be ${fmt(10 * slowLoop)} objects/s, i.e. ${fmt(10 * slowLoop * 2)} requests/s at k = 2, against the ` +
      `~${fmt(ceiling)} moto managed.`,
    `- What was cut: against AWS the handler now makes ${fmt(k(1), 1)} S3 requests per small object instead ` +
      `of ${fmt(k(0), 1)}. With \`S3_TRUST_SERVER_CONDITIONS\` (default on unless ` +
      `AWS_ENDPOINT_URL/AWS_ENDPOINT_URL_S3 points elsewhere) the S3 adapter sends CopyObject with CopySourceIfMatch ` +
      `and uses the event's size to choose CopyObject over multipart, instead of heading the source first; a 412 is ` +
      `then the ETag check. Effect measured here: AWS pattern vs as-deployed-on-moto ${gain(rawRates)} (raw, n = 10 ` +
      `/ 100), ${gain(slowRates)} (latency proxy). Against moto the source HEAD stays, because moto 5.2.1 ignores ` +
      `CopySourceIfMatch: the changed-source tests run on moto with the default and still refuse the stale copy, and ` +
      `an object-store test pins moto's behaviour.`,
    '- Earlier versions of this section reported 1.6-1.9x on raw moto: those runs reused the same keys, so after the ' +
      'first run the handler only made its idempotence HEAD and skipped every object. Every run now copies fresh ' +
      "keys and the bench checks the handler's copy count.",
    '',
    `**Cold start goal (<= 150 ms + the copies): ${(zip?.coldMs ?? Infinity) <= 150 ? 'met' : 'not met'} at the ` +
      `median** (${fmt(zip?.coldMs ?? NaN)} ms, node's own boot included); ${zip?.within150} of ${zip?.runs} runs ` +
      `within 150 ms, the slowest ${fmt(zip?.coldMaxMs ?? NaN)} ms (load ` +
      `from other work on the machine shows up as single slow runs).`,
    '',
    `- The Lambda bundle now takes the ESM builds of its packages (\`--main-fields module,main\`, an additive option ` +
      `of tools/bundle.mjs): esbuild can drop the unused parts of client-s3 and the browser user-agent parser from ` +
      `them. Same run: import ${fmt(cjs?.importMs ?? NaN)} -> ${fmt(zip?.importMs ?? NaN)} ms, ` +
      `cold ${fmt(cjs?.coldMs ?? NaN)} -> ${fmt(zip?.coldMs ?? NaN)} ms; ` +
      `bundle ${fmt(statSync(cjs?.bundle ?? '').size / 1024)} -> ${fmt(statSync(zip?.bundle ?? '').size / 1024)} KiB ` +
      `before zipping. The handler also builds the S3 adapter directly rather than through the factory, which leaves ` +
      `the local-directory adapter out of the zip.`,
    `- \`--enable-source-maps\`: infra does not set NODE_OPTIONS for this function ` +
      `(infra/src/stacks/backup.stack.ts). With the flag and no map in the zip (the bundle's sourceMappingURL ` +
      `comment then names a missing file) it costs ${fmt((zipMaps?.coldMs ?? NaN) - (zip?.coldMs ?? NaN))} ms at the ` +
      `median, small next to the ${fmt((zip?.coldMaxMs ?? NaN) - (zip?.coldMinMs ?? NaN))} ms spread between runs of ` +
      `the zip alone: close to harmless. Shipping the map to make the flag useful would ` +
      `cost ${fmt((withMap?.coldMs ?? NaN) - (zip?.coldMs ?? NaN))} ms of cold start and make the zip ` +
      `~${fmt(zipWithMapKiB)} KiB, over the 500 KiB goal, so the map stays out.`,
    `- What is left: node's boot (~${fmt(zip?.bootMs ?? NaN)} ms, Lambda's runtime has its own), import ` +
      `~${fmt(zip?.importMs ?? NaN)} ms (by one-package bundles measured apart from this bench: the S3 client ~40 ms ` +
      `of it, zod ~10, Powertools Logger ~5), and the first call's ~${fmt(zip?.firstMinusCopyMs ?? NaN)} ms over a ` +
      `warm one (first-time code paths of the SDK's request pipeline and of the handler; no single item stood out in ` +
      `a CPU profile). Leaving the SDK to the runtime's copy is slower (last cold-start row: it loads from many ` +
      `separate files). Measured and not taken: zod/mini would save ~6 ms of import but drops zod's English ` +
      `messages, which the bad-config and bad-message errors rely on; ` +
      `loading lib-storage lazily saved nothing measurable.`,
  ];
}

function writeSection(body: string) {
  const begin = '<!-- bench:backup-lambda:begin -->';
  const end = '<!-- bench:backup-lambda:end -->';
  const section = `${begin}\n## backup-lambda\n\n${body}\n${end}`;
  const current = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf(begin);
  const stop = current.indexOf(end);
  const next =
    start >= 0 && stop > start
      ? current.slice(0, start) + section + current.slice(stop + end.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(docs, next);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
