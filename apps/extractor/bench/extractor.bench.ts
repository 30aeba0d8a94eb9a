// npx nx run extractor:bench — the three targets of issue 3, each against its baseline in the same run; rewrites the
// extractor section of docs/benchmarks.md. BENCH_SECONDS shortens the cadence run (default 60).
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import { encodeNdjsonLine, PriceTickSchema, type PriceTick } from '@btc-etl/price-schema';
import { missedTick, okTick } from '@btc-etl/price-schema/testing';
import { startFakeCoinbase, type FakeRequest } from '@btc-etl/testing';
import { startFirehoseStub } from '../test/firehose-stub';
import { DeliveryPipeline } from '../src/delivery/delivery.pipeline';
import { createFirehosePutter } from '../src/sinks/firehose.client';
import { billedBytes } from '../src/sinks/firehose.packing';
import { FirehoseSink, type FirehosePutter } from '../src/sinks/firehose.sink';
import { silentLogger } from '../src/ops/logger';
import { Spool } from '../src/delivery/spool';
import type { SinkEntry } from '../src/sinks/tick-sink.port';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bundle = join(root, 'dist/apps/extractor/main.js');
const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
const f1 = (n: number) => n.toFixed(1);
/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

// ---- 1. cadence ------------------------------------------------------------------------------------------------
interface CadenceResult {
  requests: number;
  dueTicks: number;
  p50: number;
  p99: number;
  max: number;
  driftPerTick: number;
  lastError: number;
}

function cadenceOf(errors: number[], dueTicks: number): CadenceResult {
  const abs = errors.map(Math.abs).sort((a, b) => a - b);
  return {
    requests: errors.length,
    dueTicks,
    p50: pct(abs, 50),
    p99: pct(abs, 99),
    max: abs.at(-1) ?? NaN,
    driftPerTick: slope(
      errors.map((_, i) => i),
      errors,
    ),
    lastError: errors.at(-1) ?? NaN,
  };
}

async function benchCadence(): Promise<{ extractor: CadenceResult; baseline: CadenceResult }> {
  const fake = await startFakeCoinbase({ seed: 42 });
  // every answer takes 50-900 ms
  fake.setFaults([{ endpoint: 'ticker', delayMs: { min: 50, max: 900 } }]);
  const dir = mkdtempSync(join(tmpdir(), 'extractor-bench-'));
  const child = spawn(process.execPath, [bundle], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      NODE_NO_WARNINGS: '1',
      DATA_DIR: './data',
      PRODUCTS: 'BTC-USD',
      COINBASE_EXCHANGE_URL: fake.exchangeUrl,
      COINBASE_API_URL: fake.apiUrl,
      METRICS_PORT: '0',
      LOG_LEVEL: 'error',
    },
    stdio: 'inherit',
  });
  // the baseline: poll, then sleep 1 s after the work (ETH-USD so the fake tells the two apart)
  const baselineStop = { stop: false };
  const baseline = (async () => {
    while (!baselineStop.stop) {
      await fetch(`${fake.exchangeUrl}/products/ETH-USD/ticker`).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const startedAt = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000 + 1500));
  baselineStop.stop = true;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await baseline;
  // leave out the extractor's warm-up request before its first due tick: not a scheduled poll
  const ours = fake
    .requestsTo({ endpoint: 'ticker', productId: 'BTC-USD' })
    .filter((r) => !String(r.headers['user-agent']).includes('warm-up'));
  const theirs = fake.requestsTo({ endpoint: 'ticker', productId: 'ETH-USD' });
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
  // the extractor's due times are whole seconds: error = arrival - its due second
  const oursErrors = ours.map((r: FakeRequest) => r.receivedAt - Math.round(r.receivedAt / 1000) * 1000);
  // the baseline meant to poll at t0 + k s
  const t0 = theirs[0]?.receivedAt ?? startedAt;
  const theirsErrors = theirs.map((r, k) => r.receivedAt - (t0 + k * 1000));
  const dueTicks = Math.round(((ours.at(-1)?.receivedAt ?? 0) - (ours[0]?.receivedAt ?? 0)) / 1000) + 1;
  return {
    extractor: cadenceOf(oursErrors, dueTicks),
    baseline: cadenceOf(theirsErrors, Math.floor(((theirs.at(-1)?.receivedAt ?? 0) - t0) / 1000) + 1),
  };
}

// ---- 2. Firehose billing ---------------------------------------------------------------------------------------
const TICK_POOL: PriceTick[] = Array.from({ length: 10_000 }, (_, i) => {
  const scheduled_time = new Date(Date.UTC(2026, 10, 27) + i * 1000).toISOString();
  return i % 50 === 49
    ? missedTick('timeout', { scheduled_time })
    : okTick({
        scheduled_time,
        price: (97000 + (i % 997) / 100).toFixed(2),
        bid: '97000.01',
        ask: '97000.02',
        volume_24h: '12345.67890123',
        trade_id: 86326522 + i,
      });
});
const LINES = TICK_POOL.map(encodeNdjsonLine);

interface BillingResult {
  label: string;
  ticks: number;
  calls: number;
  records: number;
  billedKiBPerTick: number;
  callsPerMillion: number;
}

function billing(label: string, ticks: number, records: readonly string[], calls: number): BillingResult {
  const billed = records.reduce((n, r) => n + billedBytes(Buffer.byteLength(r)), 0);
  return {
    label,
    ticks,
    calls,
    records: records.length,
    billedKiBPerTick: billed / 1024 / ticks,
    callsPerMillion: (calls / ticks) * 1e6,
  };
}

async function benchBaselinePutRecord(ticks: number): Promise<BillingResult> {
  const stub = await startFirehoseStub(() => ({ kind: 'ok' }));
  const client = new FirehoseClient({ endpoint: stub.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  for (let i = 0; i < ticks; i++) {
    await client.send(
      new PutRecordCommand({
        DeliveryStreamName: 'btc-etl-ticks',
        Record: { Data: Buffer.from(LINES[i % LINES.length] as string) },
      }),
    );
  }
  const result = billing('baseline: one PutRecord per tick', ticks, stub.accepted, stub.calls.length);
  await stub.stop();
  return result;
}

/**
 * The real FirehoseSink against the stub. `perWindow` ticks arrive within each max-latency window (products x rate x
 * latency): the window is shortened to 20 ms of real time, which changes nothing about how ticks are packed.
 */
async function benchPacked(label: string, ticks: number, perWindow: number): Promise<BillingResult> {
  const stub = await startFirehoseStub(() => ({ kind: 'ok' }));
  const client = new FirehoseClient({ endpoint: stub.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  let delivered = 0;
  let wake: (() => void) | undefined;
  const sink = new FirehoseSink({
    client: createFirehosePutter(client),
    streamName: 'btc-etl-ticks',
    maxLatencyMs: 20,
    logger: silentLogger,
    onDelivered: (entries) => {
      delivered += entries.length;
      wake?.();
    },
  });
  for (let sent = 0; sent < ticks; ) {
    const n = Math.min(perWindow, ticks - sent);
    const entries: SinkEntry[] = [];
    for (let i = 0; i < n; i++) {
      const line = LINES[(sent + i) % LINES.length] as string;
      entries.push({ line, bytes: Buffer.byteLength(line), segment: 1, acceptedAt: Date.now() });
    }
    sent += n;
    sink.write(entries);
    while (delivered < sent) await new Promise<void>((r) => (wake = r));
  }
  sink.close();
  const result = billing(label, ticks, stub.accepted, stub.calls.length);
  await stub.stop();
  return result;
}

// ---- 3. sink path throughput -----------------------------------------------------------------------------------
interface ThroughputResult {
  label: string;
  ticks: number;
  ticksPerSecond: number;
  cpuTicksPerSecond: number;
  heapMiB: number[];
  rssMiB: number[];
}

const mib = (n: number) => n / 1024 / 1024;

async function benchSinkPath(ticks: number): Promise<ThroughputResult> {
  const dir = mkdtempSync(join(tmpdir(), 'extractor-bench-spool-'));
  // Firehose answering at once, in process: what is measured is validate + encode + spool (+fdatasync) + pack
  const instant: FirehosePutter = {
    putRecordBatch: async (_stream, records) => ({
      failedPutCount: 0,
      responses: records.map(() => ({ recordId: 'x' })),
    }),
  };
  const spool = Spool.open({ dir, capBytes: 1 << 30, fsync: true });
  const pipeline = new DeliveryPipeline({
    spool,
    logger: silentLogger,
    createSink: (onDelivered) =>
      new FirehoseSink({ client: instant, streamName: 's', onDelivered, logger: silentLogger }),
  });
  const heap: number[] = [];
  const rss: number[] = [];
  global.gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < ticks; i++) {
    pipeline.accept(TICK_POOL[i % TICK_POOL.length] as PriceTick);
    if (i % 2000 === 1999) await new Promise((r) => setImmediate(r)); // one event-loop turn: spool write + fdatasync
    if (i % (ticks / 10) === 0) {
      global.gc?.(); // live memory, not garbage waiting for a lazy collector
      const m = process.memoryUsage();
      heap.push(mib(m.heapUsed));
      rss.push(mib(m.rss));
    }
  }
  await pipeline.drain();
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  global.gc?.();
  const m = process.memoryUsage();
  heap.push(mib(m.heapUsed));
  rss.push(mib(m.rss));
  spool.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    label: 'pipeline: validate, encode, spool (fdatasync per batch), pack, acknowledge',
    ticks,
    ticksPerSecond: ticks / elapsed,
    cpuTicksPerSecond: ticks / ((cpu.user + cpu.system) / 1e6),
    heapMiB: heap,
    rssMiB: rss,
  };
}

/** Baseline: the obvious durable loop, parse + stringify + write + fdatasync per tick. */
function benchNaiveSpool(ticks: number): ThroughputResult {
  const dir = mkdtempSync(join(tmpdir(), 'extractor-bench-naive-'));
  const fd = openSync(join(dir, 'spool.ndjson'), 'a');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < ticks; i++) {
    const tick = PriceTickSchema.parse(TICK_POOL[i % TICK_POOL.length]);
    writeSync(fd, `${JSON.stringify(tick)}\n`);
    fdatasyncSync(fd);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  const m = process.memoryUsage();
  return {
    label: 'baseline: validate + write + fdatasync per tick',
    ticks,
    ticksPerSecond: ticks / elapsed,
    cpuTicksPerSecond: ticks / ((cpu.user + cpu.system) / 1e6),
    heapMiB: [mib(m.heapUsed)],
    rssMiB: [mib(m.rss)],
  };
}

// ---- report ------------------------------------------------------------------------------------------------------
function section(
  c: { extractor: CadenceResult; baseline: CadenceResult },
  bills: BillingResult[],
  path: ThroughputResult,
  naive: ThroughputResult,
): string {
  const e = c.extractor;
  const b = c.baseline;
  const range = (xs: number[]) => `${f1(Math.min(...xs))}-${f1(Math.max(...xs))}`;
  return [
    '## extractor',
    '',
    `Command: \`npx nx run extractor:bench\` (BENCH_SECONDS=${seconds}). Machine: ${cpus().length} cores (nproc), ` +
      `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `**Cadence** (the built bundle, BTC-USD every 1000 ms, against the fake Coinbase answering in 50-900 ms; error = ` +
      `request arrival at the server - due time; goal p99 <= 5 ms, no drift):`,
    '',
    '| loop | requests / due seconds | p50 error | p99 error | max | drift (slope) | error of the last request |',
    '|---|---|---|---|---|---|---|',
    `| extractor (wall-clock schedule) | ${e.requests} / ${e.dueTicks} | ${f1(e.p50)} ms | ${f1(e.p99)} ms ` +
      `| ${f1(e.max)} ms | ${e.driftPerTick.toFixed(3)} ms/tick | ${f1(e.lastError)} ms |`,
    `| baseline: sleep 1 s after the work | ${b.requests} / ${b.dueTicks} | ${f1(b.p50)} ms | ${f1(b.p99)} ms ` +
      `| ${f1(b.max)} ms | ${f1(b.driftPerTick)} ms/tick | ${f1(b.lastError)} ms |`,
    '',
    '**Firehose billing** (real FirehoseSink and AWS SDK against a local PutRecordBatch stub; billed = every record ' +
      'rounded up to 5 KiB; goal <= 0.5 KiB/tick):',
    '',
    '| setup | ticks | calls | records | billed KiB / tick | API calls / million ticks |',
    '|---|---|---|---|---|---|',
    ...bills.map(
      (r) =>
        `| ${r.label} | ${r.ticks} | ${r.calls} | ${r.records} | ${r.billedKiBPerTick.toFixed(3)} ` +
        `| ${Math.round(r.callsPerMillion).toLocaleString('en-US')} |`,
    ),
    '',
    'Ticks per record = ticks arriving within one `FIREHOSE_MAX_LATENCY_MS` window (products x polls/s x latency). ' +
      'With the default 1 s and one product each record holds one tick: 5 KiB billed and one call per tick, no ' +
      'better than the baseline. The 0.5 KiB goal needs >= 10 ticks per window: 10 products, or ' +
      '`FIREHOSE_MAX_LATENCY_MS` >= 10000 for one (Firehose itself buffers 60-900 s before writing to S3, so this ' +
      'adds no visible delay; the spool keeps those ticks safe meanwhile).',
    '',
    '**Sink path** (validate, encode, spool with fdatasync per event-loop batch, pack into Firehose records, ' +
      'acknowledge; Firehose answering in process; goal >= 100,000 ticks/s on one core, flat memory):',
    '',
    '| path | ticks | ticks/s (wall) | ticks/s per CPU second | live heap MiB after GC (10 samples) | RSS MiB |',
    '|---|---|---|---|---|---|',
    `| ${path.label} | ${path.ticks.toLocaleString('en-US')} ` +
      `| ${Math.round(path.ticksPerSecond).toLocaleString('en-US')} ` +
      `| ${Math.round(path.cpuTicksPerSecond).toLocaleString('en-US')} ` +
      `| ${range(path.heapMiB)} | ${range(path.rssMiB)} |`,
    `| ${naive.label} | ${naive.ticks.toLocaleString('en-US')} ` +
      `| ${Math.round(naive.ticksPerSecond).toLocaleString('en-US')} ` +
      `| ${Math.round(naive.cpuTicksPerSecond).toLocaleString('en-US')} ` +
      `| ${range(naive.heapMiB)} | ${range(naive.rssMiB)} |`,
    '',
  ].join('\n');
}

function writeSection(text: string): void {
  const file = join(root, 'docs/benchmarks.md');
  const begin = '<!-- bench:extractor:begin -->';
  const end = '<!-- bench:extractor:end -->';
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${begin}\n${text}${end}`;
  const from = current.indexOf(begin);
  const to = current.indexOf(end);
  const next =
    from !== -1 && to > from
      ? current.slice(0, from) + block + current.slice(to + end.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}

if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npx nx run extractor:build first`);
if (!global.gc) console.warn('run with --expose-gc for live-heap samples (the bench target does)');
// the sink path first, on a fresh heap
console.log('sink path...');
const naive = benchNaiveSpool(5_000);
const path = await benchSinkPath(1_000_000);
console.log(JSON.stringify({ path, naive }));
console.log(`cadence: ${seconds} s of the built extractor and the baseline loop against the fake Coinbase...`);
const cadence = await benchCadence();
console.log(JSON.stringify(cadence));
console.log('Firehose billing...');
const bills = [
  await benchBaselinePutRecord(2_000),
  await benchPacked('packed, 1 tick per window (1 product, default FIREHOSE_MAX_LATENCY_MS=1000)', 2_000, 1),
  await benchPacked('packed, 10 ticks per window (10 products, 1000 ms)', 20_000, 10),
  await benchPacked('packed, 60 ticks per window (1 product, FIREHOSE_MAX_LATENCY_MS=60000)', 60_000, 60),
  await benchPacked('packed, spool replay after an outage (full batches)', 200_000, 200_000),
];
console.table(bills);
writeSection(section(cadence, bills, path, naive));
console.log('docs/benchmarks.md: extractor section written');
