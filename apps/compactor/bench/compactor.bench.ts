// `npx nx run compactor:bench`: the silver targets of issue 13, each next to a baseline measured in the same run.
// Rewrites only the "Silver" section of docs/benchmarks.md. Numbers, never assertions (it refuses to report a run
// whose silver does not hold exactly the distinct records generated).
//   BENCH_RECORDS (default 1,800,000: one event hour of a 500 msg/s stream); BENCH_KEEP_DIR=1 keeps the data folder
import { LocalObjectStore } from '@btc-etl/object-store';
import { encodeNdjsonLine, recordId, type PriceTick } from '@btc-etl/price-schema';
import { seededRandom } from '@btc-etl/price-schema/testing';
import { buildFirehoseKey } from '@btc-etl/s3-keys';
import { DuckDBInstance } from '@duckdb/node-api';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readSilver } from '../test/silver.reader';

const root = resolve(import.meta.dirname, '../../..');
const mainJs = join(root, 'dist/apps/compactor/main.js');
const docs = join(root, 'docs/benchmarks.md');
const RAW = 'btc-etl-raw';
const SILVER = 'btc-etl-silver';
const records = Number(process.env.BENCH_RECORDS ?? 1_800_000);
const rate = 500;
const HEAP = process.env.BENCH_HEAP ?? '--max-old-space-size=256';
const hourStart = Date.UTC(2026, 10, 27, 19);

/**
 * One hour of a WebSocket ticker at `rate` msg/s, as the extractor's ws source writes it; 0.3% sent twice. The objects
 * go through the local store's put, as the extractor's local delivery stream writes them (with the sidecar that holds
 * their ETag, as S3 holds it): a file placed by hand has none, and the store hashes all its bytes at its first
 * listing, which no deployment does.
 */
async function generate(dataDir: string): Promise<{ rawBytes: number; distinct: number; lines: number }> {
  const store = new LocalObjectStore({ root: dataDir });
  const rand = seededRandom(13);
  let price = 9_712_345;
  let volume = 1_234_567_890_123;
  let rawBytes = 0;
  let lines = 0;
  const perObject = rate * 60; // Firehose flushes every 60 s
  let body: string[] = [];
  let resend: string[] = [];
  const flush = async (i: number) => {
    const arrival = new Date(hourStart + Math.floor(i / rate) * 1000 + 2000);
    const key = buildFirehoseKey({ streamName: 'btc-etl-ticks', arrival });
    const text = body.join('') + resend.join('');
    await store.put(RAW, key, text);
    rawBytes += Buffer.byteLength(text);
    lines += body.length + resend.length;
    body = [];
    resend = [];
  };
  for (let i = 0; i < records; i++) {
    price += Math.floor(rand() * 5) - 2;
    volume += Math.floor(rand() * 100_000);
    const micros = hourStart * 1000 + Math.floor((i * 1_000_000) / rate) + Math.floor(rand() * 1000);
    const us = String(micros % 1_000_000).padStart(6, '0');
    const exchange = `${new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19)}.${us}Z`;
    const sequence = 90_000_000_000 + i * 3;
    const p = `${Math.floor(price / 100)}.${String(price % 100).padStart(2, '0')}`;
    const tick: PriceTick = {
      record_id: recordId({ productId: 'BTC-USD', source: 'coinbase-ws-ticker', sequence }),
      product_id: 'BTC-USD',
      source: 'coinbase-ws-ticker',
      status: 'ok',
      price: p,
      exchange_time: exchange,
      scheduled_time: null,
      ingest_time: new Date(Math.floor(micros / 1000) + 40).toISOString(),
      reason: null,
      bid: `${Math.floor((price - 1) / 100)}.${String((price - 1) % 100).padStart(2, '0')}`,
      ask: p,
      volume_24h: `${Math.floor(volume / 1e8)}.${String(volume % 1e8).padStart(8, '0')}`,
      trade_id: 700_000_000 + i,
      sequence,
    };
    const line = encodeNdjsonLine(tick);
    body.push(line);
    if (rand() < 0.003) resend.push(line);
    if ((i + 1) % perObject === 0) await flush(i);
  }
  if (body.length > 0) await flush(records - 1);
  return { rawBytes, distinct: records, lines };
}

/** Silver must hold exactly `distinct` records, each once: the bench reports no run that lost or doubled one. */
async function checkSilver(dir: string, distinct: number): Promise<void> {
  const ids = new Set<string>();
  let rowsRead = 0;
  await readSilver(new LocalObjectStore({ root: dir }), SILVER, (t) => {
    rowsRead++;
    ids.add(t.record_id);
  });
  if (rowsRead !== distinct || ids.size !== distinct) {
    throw new Error(`silver holds ${rowsRead} records (${ids.size} distinct), expected ${distinct} distinct`);
  }
}

/** One raw object arriving three hours after the hour, with a record (a new id) from inside it. */
async function putLateRecord(dataDir: string): Promise<void> {
  const sequence = 1;
  const tick: PriceTick = {
    record_id: recordId({ productId: 'BTC-USD', source: 'coinbase-ws-ticker', sequence }),
    product_id: 'BTC-USD',
    source: 'coinbase-ws-ticker',
    status: 'ok',
    price: '97123.45',
    exchange_time: new Date(hourStart + 1_800_000).toISOString().replace('Z', '001Z'),
    scheduled_time: null,
    ingest_time: new Date(hourStart + 3 * 3_600_000).toISOString(),
    reason: null,
    sequence,
  };
  const arrival = new Date(hourStart + 3 * 3_600_000 + 10_000);
  await new LocalObjectStore({ root: dataDir }).put(
    RAW,
    buildFirehoseKey({ streamName: 'btc-etl-ticks', arrival }),
    encodeNdjsonLine(tick),
  );
}

function dirBytes(dir: string): number {
  const out = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  return Number(out.stdout.split('\t')[0]);
}

/** Run a command under /usr/bin/time: user+sys CPU seconds, peak RSS, wall seconds. */
function timed(cmd: string[], env: Record<string, string>) {
  const started = process.hrtime.bigint();
  const res = spawnSync('/usr/bin/time', ['-f', 'BENCHTIME %U %S %M', ...cmd], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (res.status !== 0) throw new Error(`${cmd.join(' ')} failed (${res.status}): ${res.stderr.slice(-2000)}`);
  const m = /BENCHTIME ([\d.]+) ([\d.]+) (\d+)/.exec(res.stderr);
  if (!m) throw new Error(`no /usr/bin/time line in ${res.stderr.slice(-500)}`);
  return { cpu: Number(m[1]) + Number(m[2]), rssMiB: Number(m[3]) / 1024, wall, stdout: res.stdout };
}

/** One markdown table row. */
const row = (...cells: string[]) => `| ${cells.join(' | ')} |`;
/** A whole count with thousands separators. */
const count = (n: number) => Math.round(n).toLocaleString('en');

async function duckdbBaseline(dataDir: string, out: string) {
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  await connection.run(
    `COPY (SELECT * FROM read_json('${dataDir}/${RAW}/raw/**/*', format = 'newline_delimited')
           ORDER BY exchange_time, record_id)
     TO '${out}' (FORMAT parquet, COMPRESSION snappy)`,
  );
  connection.closeSync();
  instance.closeSync();
  const cpu = process.cpuUsage(cpuStart);
  return { cpu: (cpu.user + cpu.system) / 1e6, wall: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'compactor-bench-'));
  try {
    const gen = await generate(dir);
    // the heap cap the Lambda and the nx run/serve targets use too: V8 collects before growing past it
    const env = { DATA_DIR: dir, COMPACT_MAX_HOURS: '4', SILVER_GC_GRACE_S: '0', NODE_OPTIONS: HEAP };
    // the generator's 630 MiB go to disk first: the kernel's write-back would otherwise run beside the measured runs
    spawnSync('sync');
    // five runs from scratch (the same raw objects each time), the median by CPU: a shared machine's noise
    const runs = [1, 2, 3, 4, 5].map(() => {
      rmSync(join(dir, SILVER), { recursive: true, force: true });
      return timed([process.execPath, mainJs, 'run'], env);
    });
    const run = [...runs].sort((a, b) => a.cpu - b.cpu)[2] as (typeof runs)[number];
    const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}').report;
    const silverBytes = dirBytes(join(dir, SILVER, 'silver'));
    await checkSilver(dir, gen.distinct);
    // incremental: a second run over the same data with nothing new
    const idle = timed([process.execPath, mainJs, 'run'], env);
    // a late record: one raw object three hours later holding a record of the compacted hour
    await putLateRecord(dir);
    const late = timed([process.execPath, mainJs, 'run'], env);
    await checkSilver(dir, gen.distinct + 1);
    const duck = await duckdbBaseline(dir, join(dir, 'duck.parquet'));
    const duckBytes = statSync(join(dir, 'duck.parquet')).size;
    const perCpu = report.recordsIn / run.cpu;
    const rows = [
      `Run: ${new Date().toISOString()}, ${cpus().length} cores (load ${loadavg()[0]?.toFixed(1)}), ` +
        `Node ${process.version}.`,
      `Data: one event hour of a ${rate} msg/s WebSocket ticker: ${gen.lines.toLocaleString('en')} raw lines ` +
        `(${gen.distinct.toLocaleString('en')} distinct, 0.3% sent twice) in ` +
        `${Math.ceil(records / (rate * 60))} NDJSON objects, ` +
        `${(gen.rawBytes / 2 ** 20).toFixed(1)} MiB.`,
      '',
      '| measure | compactor | baseline (same run) | target |',
      '| --- | --- | --- | --- |',
      row(
        'throughput (records / CPU-second, user+sys of the CLI)',
        `${count(perCpu)} (${run.cpu.toFixed(1)} CPU-s, ${run.wall.toFixed(1)} s wall; median of 5 runs: ` +
          `${runs.map((r) => count(report.recordsIn / r.cpu)).join(', ')})`,
        `DuckDB 1 thread NDJSON -> sorted Parquet: ${count(gen.lines / duck.cpu)} (${duck.cpu.toFixed(1)} CPU-s)`,
        '>= 200,000',
      ),
      row(
        `peak RSS compacting the hour (NODE_OPTIONS=${HEAP})`,
        `${Math.max(...runs.map((r) => r.rssMiB)).toFixed(0)} MiB (the most of the 5 runs)`,
        `idle rerun (nothing new): ${idle.rssMiB.toFixed(0)} MiB`,
        '<= 512 MiB',
      ),
      row(
        'storage, bytes / record',
        `${(silverBytes / gen.distinct).toFixed(1)} (silver Parquet)`,
        `${(gen.rawBytes / gen.lines).toFixed(1)} (raw NDJSON); DuckDB Parquet ${(duckBytes / gen.lines).toFixed(1)}`,
        `<= 1/5 of raw: ratio ${(silverBytes / gen.distinct / (gen.rawBytes / gen.lines)).toFixed(3)}`,
      ),
      row(
        'incremental rerun with nothing new',
        `${idle.wall.toFixed(2)} s wall, ${idle.cpu.toFixed(2)} CPU-s`,
        '',
        'reads no raw object',
      ),
      row(
        'a late record merged into the compacted hour (one raw object 3 h later)',
        `${late.cpu.toFixed(1)} CPU-s, ${late.wall.toFixed(1)} s wall, peak RSS ${late.rssMiB.toFixed(0)} MiB`,
        `compacting the hour from raw: ${run.cpu.toFixed(1)} CPU-s`,
        'rewrites the partition, not the raw hour',
      ),
      '',
      `Freshness: a record is in silver at most COMPACT_INTERVAL_S + one run after its raw object lands ` +
        `(${run.wall.toFixed(0)} s for this hour's worth of data in one run); an hour is declared complete (the ` +
        `watermark readers use) COMPACT_LATE_SLACK_S after it closes, at the first run after that: with the defaults ` +
        `(300 s, 1,200 s) an hour is queryable from silver within ${(300 + 1200 + run.wall).toFixed(0)} s of its end.`,
      '',
      'Command: `npx nx run compactor:bench` (BENCH_RECORDS to change the size).',
    ];
    writeSection(rows.join('\n'));
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    if (process.env.BENCH_KEEP_DIR) process.stdout.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function writeSection(body: string) {
  const heading = '## Silver (compactor)';
  const text = readFileSync(docs, 'utf8');
  const section = `${heading}\n\n${body}\n`;
  const start = text.indexOf(heading);
  if (start === -1) {
    writeFileSync(docs, `${text.trimEnd()}\n\n${section}`);
    return;
  }
  const next = text.indexOf('\n## ', start + heading.length);
  writeFileSync(docs, text.slice(0, start) + section + (next === -1 ? '' : text.slice(next)));
}

await main();
