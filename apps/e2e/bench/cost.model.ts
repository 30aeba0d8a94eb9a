// The AWS cost of one product at 1 Hz for a 30-day month, from counts an e2e run measured, against the naive
// one-PutRecord-per-tick design. Pure: the bench (e2e.bench.ts) feeds it measurements
// and writes docs/cost-data-path.md.

/** us-east-1 list prices used (see `PRICES_AS_OF`). */
export const PRICES = {
  /** Firehose Direct PUT ingestion, first 500 TB/month, per GB; every record rounded up to a 5 KiB multiple. */
  firehosePerGb: 0.029,
  firehoseRecordUnitBytes: 5 * 1024,
  /** S3 Standard PUT, COPY, POST, LIST per 1,000 requests. */
  s3PutPer1000: 0.005,
  /** S3 Standard GET (and HEAD) per 1,000 requests. */
  s3GetPer1000: 0.0004,
  /** S3 Standard storage per GB-month (first 50 TB). */
  s3StoragePerGbMonth: 0.023,
  /** SQS standard queue per million requests (after the first million free per month, not applied here). */
  sqsPerMillion: 0.4,
  /** Lambda x86 per GB-second, and per million requests. */
  lambdaPerGbSecond: 0.0000166667,
  lambdaPerMillionRequests: 0.2,
  /** Athena per TB scanned, with a 10 MB minimum per query. */
  athenaPerTb: 5,
  athenaMinBytesPerQuery: 10 * 1024 * 1024,
} as const;

/**
 * When the prices above were taken from the AWS pricing pages (no internet here to re-check: verify before budgeting).
 */
export const PRICES_AS_OF =
  'AWS us-east-1 list prices as published in 2025 (Firehose, ' +
  'S3 Standard, SQS standard, Lambda x86, Athena); used on 2026-11-27';

/** What one e2e run on moto measured (the inputs of the model). */
export interface Measured {
  /** Ticks (records of the price schema) delivered, per product. */
  ticksPerProduct: number;
  products: number;
  seconds: number;
  /** NDJSON bytes per tick (mean). */
  bytesPerTick: number;
  /** PutRecordBatch calls and Firehose records the extractor made (through the proxy). */
  putRecordBatchCalls: number;
  firehoseRecords: number;
  /** S3 requests the backup handler made per object (HEAD backup, HEAD source, CopyObject), from the S3 proxy log. */
  s3RequestsPerObject: { head: number; copy: number };
  /** Mean handler duration per invocation of one message (ms), measured by invoking the built handler. */
  handlerMsPerInvocation: number;
}

export interface Design {
  name: string;
  /** Firehose records per month and their billed bytes. */
  firehoseRecords: number;
  firehoseBilledBytes: number;
  firehoseUsd: number;
  /** Firehose -> S3 objects per month (one per buffer interval or size). */
  objects: number;
  s3Usd: number;
  sqsRequests: number;
  sqsUsd: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  lambdaUsd: number;
  storageGb: number;
  storageUsd: number;
}

export interface Assumptions {
  /** Firehose buffer interval (infra default 60 s): one raw object per interval at this volume. */
  bufferIntervalS: number;
  /** FIREHOSE_MAX_LATENCY_MS of the extractor: ticks of one window share one Firehose record. */
  extractorMaxLatencyMs: number;
  lambdaMemoryMb: number;
  /** Lambda's SQS pollers long-poll the queue around the clock even when idle (AWS: ~5 pollers, 20 s waits). */
  idlePollers: number;
  /** Dashboard: hours open per day and seconds between refreshes. */
  dashboardHoursPerDay: number;
  dashboardRefreshS: number;
  /** Hourly partitions each dashboard query reads (window + late-arrival slack), for 1m candles. */
  dashboardPartitions: Record<string, number>;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  bufferIntervalS: 60,
  extractorMaxLatencyMs: 1000,
  lambdaMemoryMb: 256,
  idlePollers: 5,
  dashboardHoursPerDay: 8,
  dashboardRefreshS: 60,
  // 1m view: ohlc 3 h, latest 24 h, completeness and gaps 3 h (hour-aligned), freshness 24 h over raw and backup;
  // +1 partition each for records arriving after their hour (Firehose keys are arrival time)
  dashboardPartitions: { ohlc: 4, latest: 25, completeness: 5, gaps: 5, freshness: 50 },
};

const MONTH_S = 30 * 86_400;
const GB = 1024 ** 3;
const TB = 1024 ** 4;
const billed = (bytes: number) =>
  Math.max(1, Math.ceil(bytes / PRICES.firehoseRecordUnitBytes)) * PRICES.firehoseRecordUnitBytes;

/** The month's bill for one product at 1 Hz, packed (this project) and naive (one PutRecord per tick). */
export function monthlyCost(
  m: Measured,
  a: Assumptions = DEFAULT_ASSUMPTIONS,
): { designs: Design[]; athena: AthenaCost } {
  const ticks = MONTH_S; // one product, one tick per second
  const objects = MONTH_S / a.bufferIntervalS;
  const ticksPerRecordMeasured = (m.ticksPerProduct * m.products) / m.firehoseRecords;
  // the run packed `products` products' ticks of one window into each record; one product alone gets
  // (measured ticks per record per product) x (window in seconds) ticks per record
  // measured for the run's window; a longer window is modelled as window / 1 s ticks (one product at 1 Hz)
  const ticksPerRecord = (latencyMs: number) =>
    latencyMs === a.extractorMaxLatencyMs ? ticksPerRecordMeasured / m.products : Math.max(1, latencyMs / 1000);
  const lambda = (invocations: number) => {
    const gbS = invocations * (Math.max(1, Math.ceil(m.handlerMsPerInvocation)) / 1000) * (a.lambdaMemoryMb / 1024);
    return { gbS, usd: gbS * PRICES.lambdaPerGbSecond + (invocations / 1e6) * PRICES.lambdaPerMillionRequests };
  };
  // per object: S3 sends 1 message; the poller's receive and the delete batch; plus idle long polls all month
  const idlePolls = a.idlePollers * (MONTH_S / 20);
  const design = (name: string, records: number, bytesPerRecord: number): Design => {
    const billedBytes = records * billed(bytesPerRecord);
    const sqsRequests = objects * 3 + idlePolls;
    const l = lambda(objects);
    const s3Requests = objects * (1 /* Firehose PUT */ + m.s3RequestsPerObject.copy);
    const s3Gets = objects * m.s3RequestsPerObject.head;
    const storageGb = (2 * ticks * m.bytesPerTick) / GB; // raw + backup, end of the first month
    return {
      name,
      firehoseRecords: records,
      firehoseBilledBytes: billedBytes,
      firehoseUsd: (billedBytes / GB) * PRICES.firehosePerGb,
      objects,
      s3Usd: (s3Requests / 1000) * PRICES.s3PutPer1000 + (s3Gets / 1000) * PRICES.s3GetPer1000,
      sqsRequests,
      sqsUsd: (sqsRequests / 1e6) * PRICES.sqsPerMillion,
      lambdaInvocations: objects,
      lambdaGbSeconds: l.gbS,
      lambdaUsd: l.usd,
      storageGb,
      storageUsd: storageGb * PRICES.s3StoragePerGbMonth,
    };
  };
  const packed = (latencyMs: number) =>
    design(
      `packed, FIREHOSE_MAX_LATENCY_MS=${latencyMs} (${ticksPerRecord(latencyMs).toFixed(2)} ` +
        `ticks/record, ${latencyMs === a.extractorMaxLatencyMs ? 'measured' : 'modelled'})`,
      ticks / ticksPerRecord(latencyMs),
      ticksPerRecord(latencyMs) * m.bytesPerTick,
    );
  return {
    designs: [
      design('naive: one PutRecord per tick', ticks, m.bytesPerTick),
      packed(a.extractorMaxLatencyMs),
      packed(60_000),
    ],
    athena: athenaCost(m, a),
  };
}

export interface AthenaCost {
  refreshesPerMonth: number;
  queriesPerMonth: number;
  bytesScannedPerRefresh: number;
  billedBytesPerRefresh: number;
  usdIfScanned: number;
  usdBilled: number;
}

/** The dashboard's five queries on Athena: bytes its partitions hold, and what is billed with the 10 MB minimum. */
export function athenaCost(m: Measured, a: Assumptions = DEFAULT_ASSUMPTIONS): AthenaCost {
  const bytesPerHour = 3600 * m.bytesPerTick;
  const parts = Object.values(a.dashboardPartitions);
  const scanned = parts.reduce((n, p) => n + p * bytesPerHour, 0);
  const billedBytes = parts.reduce((n, p) => n + Math.max(PRICES.athenaMinBytesPerQuery, p * bytesPerHour), 0);
  const refreshes = ((a.dashboardHoursPerDay * 3600) / a.dashboardRefreshS) * 30;
  return {
    refreshesPerMonth: refreshes,
    queriesPerMonth: refreshes * parts.length,
    bytesScannedPerRefresh: scanned,
    billedBytesPerRefresh: billedBytes,
    usdIfScanned: ((refreshes * scanned) / TB) * PRICES.athenaPerTb,
    usdBilled: ((refreshes * billedBytes) / TB) * PRICES.athenaPerTb,
  };
}

const usd = (x: number) => `$${x < 0.01 ? x.toFixed(4) : x.toFixed(2)}`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');

/** docs/cost-data-path.md, from the measurements (docs/cost.md, the whole bill, builds on it). */
export function renderCostDoc(
  m: Measured,
  meta: { command: string; machine: string; date: string },
  a: Assumptions = DEFAULT_ASSUMPTIONS,
): string {
  const { designs, athena } = monthlyCost(m, a);
  const [naive, packed, packed60] = designs as [Design, Design, Design];
  const total = (d: Design) => d.firehoseUsd + d.s3Usd + d.sqsUsd + d.lambdaUsd + d.storageUsd;
  const row = (label: string, f: (d: Design) => string) => `| ${label} | ${designs.map(f).join(' | ')} |`;
  const partitions = Object.entries(a.dashboardPartitions)
    .map(([q, p]) => `${q} ${p}`)
    .join(', ');
  return [
    '# The data path on AWS (Firehose, S3, SQS, backup Lambda, Athena): one product at 1 Hz for a 30-day month',
    '',
    `Generated by \`${meta.command}\` on ${meta.date} (${meta.machine}) ` +
      `from the counts an end-to-end run on moto measured;`,
    'do not edit by hand. Prices: ' + PRICES_AS_OF + '.',
    '',
    '## Measured in the run',
    '',
    '| measured | value |',
    '|---|---|',
    `| run | ${m.products} products x ${m.seconds} s, ${int(m.ticksPerProduct)} ticks per product |`,
    `| NDJSON bytes per tick (mean) | ${m.bytesPerTick.toFixed(1)} |`,
    `| PutRecordBatch calls / Firehose records | ${int(m.putRecordBatchCalls)} / ${int(m.firehoseRecords)} ` +
      `(${((m.ticksPerProduct * m.products) / m.firehoseRecords).toFixed(2)} ticks per record) |`,
    `| backup handler S3 requests per object | ${m.s3RequestsPerObject.head} ` +
      `HEAD + ${m.s3RequestsPerObject.copy} CopyObject |`,
    `| backup handler duration per one-message invocation (built handler, moto) ` +
      `| ${m.handlerMsPerInvocation.toFixed(1)} ms |`,
    '',
    '## Assumptions',
    '',
    `- Firehose buffers ${a.bufferIntervalS} s (infra default): one raw object per interval at this volume, so one ` +
      `S3 event, one SQS message and one Lambda invocation per object.`,
    `- The extractor packs the ticks of one \`FIREHOSE_MAX_LATENCY_MS\` window into one Firehose record: the run ` +
      `measured the ticks per record of the default ${a.extractorMaxLatencyMs} ms window (a window boundary ` +
      `sometimes catches two ticks); a 60000 ms window is modelled as 60 ticks per record (Firehose ` +
      `buffers ${a.bufferIntervalS} s anyway, so freshness would not change).`,
    `- Lambda ${a.lambdaMemoryMb} MB (infra default), duration rounded up to 1 ms; SQS: 1 SendMessage (S3) + 1 ` +
      `Receive + 1 DeleteMessageBatch per object, plus ${a.idlePollers} idle long-polling pollers (20 s waits) all ` +
      `month; free tiers not applied.`,
    `- Dashboard on Athena: open ${a.dashboardHoursPerDay} h/day, refreshing every ${a.dashboardRefreshS} s, 1m ` +
      `candles: five queries reading ${partitions} hourly partitions (the dashboard as built runs the local engine ` +
      `over S3 instead; this is the cost of the same queries on Athena).`,
    '',
    '## Month',
    '',
    `| item | ${designs.map((d) => d.name).join(' | ')} |`,
    `|---|${designs.map(() => '---').join('|')}|`,
    row('Firehose records', (d) => int(d.firehoseRecords)),
    row('Firehose billed GB (5 KiB rounding)', (d) => (d.firehoseBilledBytes / GB).toFixed(3)),
    row('Firehose', (d) => usd(d.firehoseUsd)),
    row('raw objects (= S3 events = invocations)', (d) => int(d.objects)),
    row('S3 requests (Firehose PUT + backup HEAD/COPY)', (d) => usd(d.s3Usd)),
    row('SQS requests', (d) => `${int(d.sqsRequests)} = ${usd(d.sqsUsd)}`),
    row('Lambda GB-s', (d) => `${d.lambdaGbSeconds.toFixed(1)} = ${usd(d.lambdaUsd)}`),
    row('S3 storage (raw + backup, GB)', (d) => `${d.storageGb.toFixed(3)} = ${usd(d.storageUsd)}`),
    row('**total without Athena**', (d) => `**${usd(total(d))}**`),
    '',
    `Athena for the dashboard: ${int(athena.refreshesPerMonth)} refreshes = ${int(athena.queriesPerMonth)} ` +
      `queries; ${(athena.bytesScannedPerRefresh / 1024).toFixed(0)} KiB of partitions per refresh`,
    `would cost ${usd(athena.usdIfScanned)} a month, but the 10 MB minimum per query ` +
      `bills ${(athena.billedBytesPerRefresh / 1024 ** 2).toFixed(0)} MiB per refresh: ` +
      `**${usd(athena.usdBilled)} a month**.`,
    'At this volume the minimum, not the data, is the Athena bill: ' +
      'fewer, wider queries (one query for the whole dashboard),',
    'a longer refresh, or the local engine over S3 (GETs at $0.0004 per 1,000) are what cut it.',
    '',
    `Firehose: naive ${usd(naive.firehoseUsd)}, packed with the default 1 s window ${usd(packed.firehoseUsd)} (one ` +
      `product at 1 Hz has one or two ticks per`,
    `window, each record still billed 5 KiB), ` +
      `packed with a 60 s window ${usd(packed60.firehoseUsd)}. Everything downstream of Firehose`,
    "is the same in all three, because Firehose's buffer, not the producer, decides the object count.",
    '',
  ].join('\n');
}
