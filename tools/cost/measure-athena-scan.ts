// `npx nx run infra:measure-athena-scan -- <bench data dir>`: the bytes Athena would scan for the same query over raw
// NDJSON and over silver Parquet, read off the query bench's data (`npx nx run query:bench` leaves it in
// tmp/query-bench/30d-v2: raw NDJSON objects by arrival hour, and the compactor's silver partitions).
// - raw: Athena reads whole objects of every `datehour` partition the query's arrival window names (the range, 300 s
//   before it, the 600 s late slack after it): the sum of their sizes.
// - silver: Athena reads only the column chunks the silver relation names (apps/query athena-source.sql.ts), of every
//   file in the event-hour partitions of the range (the folder, as Athena lists it): the sum of those chunks'
//   compressed sizes from the Parquet footers. Partition columns (product_id, dt, hour) cost nothing.
// Athena bills at least 10 MB per query. docs/cost.md takes its Athena table from docs/measurements/athena-scan.json.
import { parquetMetadata } from 'hyparquet';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const SILVER_COLUMNS_READ = [
  'record_id',
  'status',
  'price',
  'exchange_time',
  'scheduled_time',
  'ingest_time',
  'reason',
  'lexical_forms',
  'event_time',
];
const BUFFER_S = 300;
const LATE_SLACK_S = 600;
const HOUR_MS = 3_600_000;

const args = process.argv.slice(2);
const writeAt = args.indexOf('--write');
const outFile = writeAt >= 0 ? args[writeAt + 1] : undefined;
const dir = args.find((a, i) => (writeAt < 0 || i !== writeAt + 1) && !a.startsWith('--'));
if (!dir) throw new Error('usage: measure-athena-scan <bench data dir, e.g. tmp/query-bench/30d-v2> [--write <json>]');

const files = (root: string): string[] =>
  readdirSync(root, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(root, e.name)) : [join(root, e.name)],
  );

const hourKey = (ms: number) => new Date(ms).toISOString().slice(0, 13);

// raw: bytes per arrival hour (raw/YYYY/MM/dd/HH/...)
const rawRoot = join(dir, 'raw-ndjson', 'raw');
const rawByHour = new Map<string, number>();
for (const f of files(rawRoot)) {
  const [y, m, d, h] = f.slice(rawRoot.length + 1).split('/');
  const key = `${y}-${m}-${d}T${h}`;
  rawByHour.set(key, (rawByHour.get(key) ?? 0) + statSync(f).size);
}

// silver: bytes of the columns read, per event hour (product_id=/dt=/hour=/*.parquet)
const silverRoot = join(dir, 'silver', 'silver', 'ticks');
const silverByHour = new Map<string, number>();
let silverFiles = 0;
for (const f of files(silverRoot)) {
  if (!f.endsWith('.parquet')) continue;
  const dt = /dt=(\d{4}-\d{2}-\d{2})/.exec(f)?.[1];
  const hour = /hour=(\d{2})/.exec(f)?.[1];
  if (!dt || !hour) continue;
  const meta = parquetMetadata(readFileSync(f));
  let bytes = 0;
  for (const group of meta.row_groups) {
    for (const column of group.columns) {
      const name = column.meta_data?.path_in_schema[0];
      if (name && SILVER_COLUMNS_READ.includes(name)) bytes += Number(column.meta_data?.total_compressed_size ?? 0);
    }
  }
  silverFiles += 1;
  const key = `${dt}T${hour}`;
  silverByHour.set(key, (silverByHour.get(key) ?? 0) + bytes);
}
if (rawByHour.size === 0 || silverByHour.size === 0) throw new Error(`${dir}: no raw objects or no silver files found`);

const sumHours = (byHour: Map<string, number>, fromMs: number, toMs: number) => {
  let total = 0;
  for (let t = Math.floor(fromMs / HOUR_MS) * HOUR_MS; t < toMs; t += HOUR_MS) total += byHour.get(hourKey(t)) ?? 0;
  return total;
};

// the newest full day of the data, and the 30 days before its end (the query bench's range)
const lastHour = [...silverByHour.keys()].sort().at(-1) as string;
const endMs = Date.parse(`${lastHour.slice(0, 10)}T00:00:00Z`);
const scan = (days: number) => {
  const fromMs = endMs - days * 86_400_000;
  return {
    days,
    from: new Date(fromMs).toISOString(),
    to: new Date(endMs).toISOString(),
    rawBytes: sumHours(rawByHour, fromMs - BUFFER_S * 1000, endMs + LATE_SLACK_S * 1000),
    silverBytes: sumHours(silverByHour, fromMs, endMs),
  };
};
const result = {
  measuredAt: new Date().toISOString(),
  command: `npx nx run infra:measure-athena-scan -- tmp/query-bench/${basename(dir)}`,
  rawObjects: [...rawByHour.values()].length,
  silverFiles,
  silverColumnsRead: SILVER_COLUMNS_READ,
  ranges: [scan(1), scan(30)],
};
console.log(JSON.stringify(result, null, 2));
if (outFile) writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
