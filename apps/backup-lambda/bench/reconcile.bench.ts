// `npx nx run backup-lambda:bench-reconcile [-- --keys 50000,200000]`: peak heap of reconcile over a local store as
// the bucket grows, the streaming merge-join against the collect-all approach it replaced, measured in the same run
// on the same files. Each measurement runs in its own Node process (fresh heap, --expose-gc). Numbers, never
// assertions: rewrites only the "backup reconcile" section of docs/benchmarks.md.
import { type ObjectInfo, type ObjectStore, createObjectStore } from '@btc-etl/object-store';
import { hourlyPrefixes } from '@btc-etl/s3-keys';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { reconcile } from '../src/reconcile/reconcile';

const root = resolve(import.meta.dirname, '../../..');
const RAW = 'btc-etl-raw';
const BACKUP = 'btc-etl-backup';
const KEYS_PER_HOUR = 100;
const FIRST_HOUR = new Date('2026-01-01T00:00:00Z');
const HOUR_MS = 3_600_000;

/** The hour prefixes holding the first `keys` keys. */
function prefixesFor(keys: number): string[] {
  const hours = Math.ceil(keys / KEYS_PER_HOUR);
  return hourlyPrefixes('raw/', FIRST_HOUR, new Date(FIRST_HOUR.getTime() + (hours - 1) * HOUR_MS), {
    maxHours: 100_000,
  });
}

/** The same plain files under raw and backup (no sidecars: the store serves them with their MD5). */
async function makeTree(dataDir: string, keys: number): Promise<void> {
  for (const [h, prefix] of prefixesFor(keys).entries()) {
    const count = Math.min(KEYS_PER_HOUR, keys - h * KEYS_PER_HOUR);
    for (const bucket of [RAW, BACKUP]) {
      const dir = join(dataDir, bucket, prefix);
      await mkdir(dir, { recursive: true });
      await Promise.all(
        Array.from({ length: count }, (_, i) =>
          writeFile(join(dir, `btc-etl-ticks-1-${String(h * KEYS_PER_HOUR + i).padStart(8, '0')}`), `{"i":${i}}\n`),
        ),
      );
    }
  }
}

/**
 * A store whose listings are generated page by page (1000 keys, S3's page size, one macrotask between pages as a
 * network read would be): reconcile's own memory without a file system's cost, so the key count can grow to S3 sizes.
 */
function generatedStore(keys: number): ObjectStore {
  const lastModified = new Date(0);
  async function* listAll(bucket: string): AsyncGenerator<ObjectInfo> {
    for (let page = 0; page * 1000 < keys; page++) {
      await new Promise<void>((r) => setImmediate(r));
      for (let i = page * 1000; i < Math.min(keys, (page + 1) * 1000); i++) {
        const key = `raw/2026/01/01/00/btc-etl-ticks-1-${String(i).padStart(9, '0')}`;
        yield { bucket, key, size: 1024, etag: i.toString(16).padStart(32, '0'), lastModified, metadata: {} };
      }
    }
  }
  return { listAll } as unknown as ObjectStore;
}

/**
 * The approach reconcile used before: collect both listings of the whole scope (it took one prefix, e.g.
 * `raw/2026/`), index the backup in a Map, then compare.
 */
async function collectAll(store: ObjectStore, prefixes: readonly string[]): Promise<number> {
  const sources: ObjectInfo[] = [];
  const backups: ObjectInfo[] = [];
  for (const prefix of prefixes) {
    for await (const o of store.listAll(RAW, prefix)) sources.push(o);
    for await (const o of store.listAll(BACKUP, prefix)) backups.push(o);
  }
  const byKey = new Map(backups.map((b) => [b.key, b]));
  let upToDate = 0;
  for (const s of sources) {
    const b = byKey.get(s.key);
    if (b && b.etag === s.etag && b.size === s.size) upToDate++;
  }
  return upToDate;
}

async function child(approach: string, kind: string, dataDir: string, keys: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const store = kind === 'local' ? createObjectStore({ kind: 'local', root: dataDir }) : generatedStore(keys);
  const prefixes = kind === 'local' ? prefixesFor(keys) : ['raw/'];
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  // Live heap, not garbage: a full GC before each sample (the listing's garbage would otherwise dominate).
  const sample = setInterval(() => {
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 100);
  const started = performance.now();
  let upToDate: number;
  if (approach === 'stream') {
    const report = await reconcile(store, {
      sourceBucket: RAW,
      prefixes,
      target: { backupBucket: BACKUP, backupPrefix: '' },
      concurrency: 16,
      dryRun: true,
    });
    upToDate = report.counts.upToDate;
  } else {
    upToDate = await collectAll(store, prefixes);
  }
  const seconds = (performance.now() - started) / 1000;
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  clearInterval(sample);
  console.log(JSON.stringify({ approach, store: kind, keys, upToDate, peakHeapMiB: (peak - base) / 2 ** 20, seconds }));
}

interface Result {
  approach: string;
  store: string;
  keys: number;
  upToDate: number;
  peakHeapMiB: number;
  seconds: number;
}

function measure(approach: string, kind: string, dataDir: string, keys: number): Result {
  const out = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      import.meta.filename,
      '--child',
      approach,
      '--store',
      kind,
      '--data',
      dataDir,
      '--keys',
      String(keys),
    ],
    { cwd: root, encoding: 'utf8', env: { ...process.env, TSX_TSCONFIG_PATH: 'apps/backup-lambda/tsconfig.json' } },
  );
  const line = out.stdout.trim().split('\n').at(-1) ?? '';
  if (out.status !== 0 || !line.startsWith('{')) throw new Error(`bench child failed: ${out.stderr.slice(-2000)}`);
  return JSON.parse(line) as Result;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      store: { type: 'string', default: 'generated' },
      data: { type: 'string' },
      keys: { type: 'string', default: '50000,200000' },
      'local-keys': { type: 'string', default: '5000,20000' },
    },
  });
  if (values.child) return child(values.child, values.store ?? '', values.data ?? '', Number(values.keys));

  const sizesOf = (flag: string, list: string | undefined) => {
    const sizes = (list ?? '')
      .split(',')
      .map(Number)
      .sort((a, b) => a - b);
    if (sizes.some((n) => !Number.isInteger(n) || n < KEYS_PER_HOUR)) throw new Error(`--${flag}: ${list}`);
    return sizes;
  };
  const generated = sizesOf('keys', values.keys);
  const local = sizesOf('local-keys', values['local-keys']);
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-reconcile-'));
  try {
    const t0 = performance.now();
    // The largest tree holds every smaller one as its first hours.
    await makeTree(dataDir, local.at(-1) ?? 0);
    console.error(`tree of ${local.at(-1)} keys x 2 buckets in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const results: Result[] = [];
    for (const [kind, sizes] of [
      ['local', local],
      ['generated', generated],
    ] as const) {
      for (const keys of sizes) {
        for (const approach of ['collect', 'stream']) {
          const r = measure(approach, kind, dataDir, keys);
          if (r.upToDate !== keys) throw new Error(`${approach} at ${keys} keys found ${r.upToDate} up to date`);
          console.error(JSON.stringify(r));
          results.push(r);
        }
      }
    }
    writeSection(results);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

function writeSection(results: Result[]): void {
  const rows = results.map(
    (r) =>
      `| ${r.store === 'local' ? 'local directory' : 'generated listing'} | ${r.keys.toLocaleString('en-US')} ` +
      `| ${r.approach === 'stream' ? 'streaming merge-join (now)' : 'collect both listings + Map (before)'} ` +
      `| ${r.peakHeapMiB.toFixed(1)} | ${r.seconds.toFixed(1)} |`,
  );
  const body = [
    'Command: `npx nx run backup-lambda:bench-reconcile` (defaults `-- --local-keys 5000,20000 --keys 50000,200000`).',
    'Both sides hold the same N keys, so reconcile (a dry run: ' +
      'list, merge, compare) finds all up to date. Each row is a',
    'fresh Node process; every 100 ms a full GC, then `heapUsed`: ' +
      'the peak live heap minus the live heap before the run.',
    `"local directory": the local ObjectStore over plain files ` +
      `in a temp folder (${KEYS_PER_HOUR} per Firehose hour folder;`,
    'its listing re-walks folders per page and hashes files without sidecars, so it is slow at scale). "generated',
    'listing": pages of 1000 made on the fly, as S3 would send them, so the key count can reach S3 sizes. Both',
    'approaches run on the same data in the same run; "before" collects both listings of the scope, then a Map.',
    '',
    '| store | keys (each side) | approach | peak live heap growth (MiB) | seconds |',
    '| --- | ---: | --- | ---: | ---: |',
    ...rows,
    '',
    `Machine: ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)} at the end (shared with other jobs: the`,
    'seconds are noisy, and include the sampling GCs, ' +
      'which cost more the larger the live heap; the heap is not noisy).',
  ].join('\n');
  const file = join(root, 'docs/benchmarks.md');
  const begin = '<!-- bench:backup-reconcile:begin -->';
  const end = '<!-- bench:backup-reconcile:end -->';
  const section = `${begin}\n## backup reconcile\n\n${body}\n${end}`;
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const at = doc.indexOf(begin);
  const next =
    at >= 0
      ? doc.slice(0, at) + section + doc.slice(doc.indexOf(end) + end.length)
      : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  console.log(body);
}

await main();
