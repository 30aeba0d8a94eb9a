// The whole monthly bill of the deployment as the stacks build it: the always-on parts (Fargate task, its network
// path, EFS, CloudWatch) around the data path the e2e bench measures (Firehose, S3, SQS, backup Lambda). Pure: the
// CLI (cost.cli.ts) feeds it the measured inputs and writes docs/cost.md.

/** Hours in the month the model bills (30 days, as the data-path model). */
export const HOURS_PER_MONTH = 720;
const GIB = 1024 ** 3;

/**
 * us-east-1 list prices (USD) as published by AWS in 2025, recalled on 2026-12-01 without internet access here: check
 * them against the pricing pages before budgeting. Spot is not a list price: see `fargateSpotDiscount`.
 */
export const WHOLE_BILL_PRICES = {
  /** Fargate Linux/ARM (Graviton), per vCPU-hour and per GB-hour. */
  fargateArmVcpuHour: 0.03238,
  fargateArmGbHour: 0.00356,
  /** Fargate Spot runs "up to 70 %" below on-demand; its price moves. Modelled at the usual ~70 % off. */
  fargateSpotDiscount: 0.7,
  /** A public IPv4 address, in use or idle, per hour (since February 2024); a NAT gateway's address pays it too. */
  publicIpv4Hour: 0.005,
  /** NAT gateway, per hour and per GB processed. */
  natGatewayHour: 0.045,
  natGatewayPerGb: 0.045,
  /** Interface VPC endpoint, per endpoint per AZ per hour, and per GB processed. */
  interfaceEndpointHour: 0.01,
  interfaceEndpointPerGb: 0.01,
  /** EFS Standard storage per GB-month; Elastic throughput per GB read and per GB written. */
  efsStandardGbMonth: 0.3,
  efsElasticReadPerGb: 0.03,
  efsElasticWritePerGb: 0.06,
  /** CloudWatch Logs (standard class): ingestion per GB; storage per GB-month (billed compressed, modelled raw). */
  logsIngestPerGb: 0.5,
  logsStoragePerGbMonth: 0.03,
  /** A custom metric (EMF creates them) per month, first 10,000. */
  customMetricMonth: 0.3,
  /** A standard-resolution metric alarm per month. */
  alarmMonth: 0.1,
  /** A CloudWatch dashboard per month (an account's first 3 are free: not applied). */
  dashboardMonth: 3,
  /** Lambda arm64 per GB-second, and per million requests. */
  lambdaArmGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  /** EventBridge Scheduler per million invocations (14 million free a month: not applied). */
  schedulerPerMillion: 1,
  /** S3 Standard requests per 1,000: PUT/COPY/POST/LIST, and GET/HEAD. Storage per GB-month. */
  s3PutPer1000: 0.005,
  s3GetPer1000: 0.0004,
  s3StorageGbMonth: 0.023,
  /** ECR private storage per GB-month. */
  ecrGbMonth: 0.1,
} as const;
export type WholeBillPrices = typeof WHOLE_BILL_PRICES;

/** What was measured or read from the stacks (each field says where it comes from in docs/cost.md). */
export interface WholeBillInputs {
  /** Fargate task size (ExtractorStack's EXTRACTOR_TASK). */
  task: { vcpu: number; memoryGb: number };
  /** Bytes the extractor writes to stdout/stderr per hour (tools/cost/measure-extractor-logs.ts). */
  extractorLogBytesPerHour: number;
  /** Distinct EMF metrics each service publishes in a month (dimension combinations). */
  extractorMetrics: number;
  compactorMetrics: number;
  /** Alarms and dashboards of the Ops stack. */
  alarms: number;
  dashboards: number;
  /** Log retention (days) of every log group (context logRetentionDays). */
  logRetentionDays: number;
  /** NDJSON bytes per tick and ticks per month (data-path measurement). */
  bytesPerTick: number;
  ticksPerMonth: number;
  /** Bytes the extractor exchanges with the outside per tick (Coinbase request + response, Firehose call), for NAT. */
  networkBytesPerTick: number;
  /** EFS: bytes metered per spool write (an fsync per tick; Elastic throughput meters small writes up). */
  efsBytesPerTickWrite: number;
  /** The data-path month (Firehose, S3, SQS, backup Lambda) of docs/cost-data-path.md, default packing. */
  dataPathMonthly: number;
  /** Backup Lambda invocations and the log bytes each writes (platform START/END/REPORT lines in JSON). */
  backupInvocations: number;
  backupLogBytesPerInvocation: number;
  /** Compactor: runs per month, seconds per run, memory, S3 requests per run, log bytes per run. */
  compactor: {
    runsPerMonth: number;
    secondsPerRun: number;
    memoryGb: number;
    putsPerRun: number;
    getsPerRun: number;
    logBytesPerRun: number;
    /** Silver bytes per raw byte (compactor bench). */
    silverBytesPerRawByte: number;
  };
  /** The extractor image in ECR. */
  imageGb: number;
}

/** How the extractor runs and reaches the internet: the shapes a user can pick with context. */
export interface ExtractorShape {
  name: string;
  context: string;
  capacity: 'fargate' | 'fargate-spot';
  network: 'public-ip' | 'private-nat' | 'private-endpoints';
  /** Refused by the config (no route to Coinbase): shown for its price only. */
  refused?: string;
}

export const EXTRACTOR_SHAPES: readonly ExtractorShape[] = [
  { name: 'as deployed by default', context: '(no context)', capacity: 'fargate', network: 'public-ip' },
  {
    name: 'cheapest safe',
    context: '-c extractorCapacity=fargate-spot',
    capacity: 'fargate-spot',
    network: 'public-ip',
  },
  { name: 'no public IP', context: '-c extractorNetwork=private-nat', capacity: 'fargate', network: 'private-nat' },
  {
    name: 'no public IP, Spot',
    context: '-c extractorCapacity=fargate-spot -c extractorNetwork=private-nat',
    capacity: 'fargate-spot',
    network: 'private-nat',
  },
  {
    name: 'VPC endpoints only',
    context: '(refused)',
    capacity: 'fargate',
    network: 'private-endpoints',
    refused: 'no route to Coinbase: every tick missed',
  },
];

/** One line of the bill. */
export interface BillLine {
  item: string;
  monthly: number;
  how: string;
}

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The data path's monthly total (default packing, without Athena) from the e2e bench's docs/cost-data-path.md. */
export function dataPathTotal(markdown: string): number | undefined {
  const row = markdown.split('\n').find((l) => l.startsWith('| **total without Athena**'));
  const value = Number(row?.split('|')[3]?.trim().replace(/[*$]/g, ''));
  return Number.isFinite(value) && row ? value : undefined;
}

/** The lines that depend on the extractor's shape: compute and network path. */
export function extractorLines(shape: ExtractorShape, i: WholeBillInputs, p: WholeBillPrices = WHOLE_BILL_PRICES) {
  const h = HOURS_PER_MONTH;
  const onDemandHour = i.task.vcpu * p.fargateArmVcpuHour + i.task.memoryGb * p.fargateArmGbHour;
  const hour = shape.capacity === 'fargate-spot' ? onDemandHour * (1 - p.fargateSpotDiscount) : onDemandHour;
  const lines: BillLine[] = [
    {
      item: `Fargate task (${shape.capacity === 'fargate-spot' ? 'Spot' : 'on-demand'}, arm64)`,
      monthly: hour * h,
      how:
        `${i.task.vcpu} vCPU x $${p.fargateArmVcpuHour} + ${i.task.memoryGb} GB x $${p.fargateArmGbHour} per hour` +
        `${shape.capacity === 'fargate-spot' ? `, ${p.fargateSpotDiscount * 100} % off` : ''}, ${h} h`,
    },
  ];
  const networkGb = (i.networkBytesPerTick * i.ticksPerMonth) / GIB;
  if (shape.network === 'public-ip') {
    lines.push({
      item: 'public IPv4 address (task)',
      monthly: p.publicIpv4Hour * h,
      how: `$${p.publicIpv4Hour}/h x ${h} h`,
    });
  } else if (shape.network === 'private-nat') {
    lines.push({
      item: 'NAT gateway (1) + its public IPv4',
      monthly: (p.natGatewayHour + p.publicIpv4Hour) * h + networkGb * p.natGatewayPerGb,
      how:
        `($${p.natGatewayHour} + $${p.publicIpv4Hour})/h x ${h} h + ` +
        `${networkGb.toFixed(2)} GB x $${p.natGatewayPerGb}`,
    });
  } else {
    // ECR api, ECR dkr, CloudWatch Logs, Firehose interface endpoints in 2 AZs (S3 is a free gateway endpoint)
    const endpoints = 4 * 2;
    lines.push({
      item: 'interface VPC endpoints (4 services x 2 AZs)',
      monthly: endpoints * p.interfaceEndpointHour * h + networkGb * p.interfaceEndpointPerGb,
      how:
        `${endpoints} x $${p.interfaceEndpointHour}/h x ${h} h + ` +
        `${networkGb.toFixed(2)} GB x $${p.interfaceEndpointPerGb}`,
    });
  }
  return lines;
}

/** The lines every shape shares. */
export function sharedLines(i: WholeBillInputs, p: WholeBillPrices = WHOLE_BILL_PRICES): BillLine[] {
  const h = HOURS_PER_MONTH;
  const c = i.compactor;
  const extractorLogGb = (i.extractorLogBytesPerHour * h) / GIB;
  const lambdaLogGb = (i.backupInvocations * i.backupLogBytesPerInvocation + c.runsPerMonth * c.logBytesPerRun) / GIB;
  const logGb = extractorLogGb + lambdaLogGb;
  // retention r days: the stored volume settles at r/30 months of ingestion (capped at none for shorter retention)
  const storedGb = logGb * (i.logRetentionDays / 30);
  const efsWriteGb = (i.efsBytesPerTickWrite * i.ticksPerMonth) / GIB;
  const metrics = i.extractorMetrics + i.compactorMetrics;
  const compactorGbSeconds = c.runsPerMonth * c.secondsPerRun * c.memoryGb;
  const rawGb = (i.bytesPerTick * i.ticksPerMonth) / GIB;
  return [
    {
      item: 'data path: Firehose, S3 raw + backup, SQS, backup Lambda',
      monthly: i.dataPathMonthly,
      how: 'docs/cost-data-path.md (e2e:bench), default packing, without Athena',
    },
    {
      item: 'CloudWatch Logs ingestion',
      monthly: logGb * p.logsIngestPerGb,
      how:
        `extractor ${(extractorLogGb * 1024).toFixed(1)} MiB ` +
        `(measured ${Math.round(i.extractorLogBytesPerHour)} B/h) ` +
        `+ Lambdas ${(lambdaLogGb * 1024).toFixed(1)} MiB, x $${p.logsIngestPerGb}/GB`,
    },
    {
      item: `CloudWatch Logs storage (${i.logRetentionDays} days kept)`,
      monthly: storedGb * p.logsStoragePerGbMonth,
      how:
        `${(storedGb * 1024).toFixed(1)} MiB at steady state x $${p.logsStoragePerGbMonth} ` +
        `(uncompressed: an upper bound)`,
    },
    {
      item: 'custom metrics (EMF)',
      monthly: metrics * p.customMetricMonth,
      how: `${i.extractorMetrics} extractor + ${i.compactorMetrics} compactor metrics x $${p.customMetricMonth}`,
    },
    { item: 'alarms', monthly: i.alarms * p.alarmMonth, how: `${i.alarms} x $${p.alarmMonth}` },
    {
      item: 'dashboard',
      monthly: i.dashboards * p.dashboardMonth,
      how: `${i.dashboards} x $${p.dashboardMonth} (free if the account has fewer than 3)`,
    },
    {
      item: 'EFS spool (Elastic throughput)',
      monthly: efsWriteGb * p.efsElasticWritePerGb + (1 / 1024) * p.efsStandardGbMonth,
      how:
        `${efsWriteGb.toFixed(1)} GB written x $${p.efsElasticWritePerGb} ` +
        `(${i.efsBytesPerTickWrite} B metered per tick); ` +
        `~1 MiB held`,
    },
    {
      item: 'compactor Lambda + Scheduler',
      monthly:
        compactorGbSeconds * p.lambdaArmGbSecond +
        (c.runsPerMonth / 1e6) * (p.lambdaPerMillionRequests + p.schedulerPerMillion),
      how: `${c.runsPerMonth} runs x ${c.secondsPerRun} s x ${c.memoryGb} GB arm64`,
    },
    {
      item: 'compactor S3 requests + silver storage',
      monthly:
        (c.runsPerMonth * c.putsPerRun * p.s3PutPer1000) / 1000 +
        (c.runsPerMonth * c.getsPerRun * p.s3GetPer1000) / 1000 +
        rawGb * c.silverBytesPerRawByte * p.s3StorageGbMonth,
      how:
        `${c.putsPerRun} PUT/LIST + ${c.getsPerRun} GET per run; ` +
        `silver ${(rawGb * c.silverBytesPerRawByte * 1024).toFixed(0)} MiB/month added`,
    },
    { item: 'ECR image', monthly: i.imageGb * p.ecrGbMonth, how: `${i.imageGb} GB x $${p.ecrGbMonth}` },
  ];
}

/** The month for one shape: its own lines, the shared ones, and the total. */
export function wholeBill(shape: ExtractorShape, i: WholeBillInputs, p: WholeBillPrices = WHOLE_BILL_PRICES) {
  const lines = [...extractorLines(shape, i, p), ...sharedLines(i, p)];
  return { shape, lines, total: lines.reduce((sum, l) => sum + l.monthly, 0) };
}

/** docs/cost.md: the headline total, the default shape's lines, the shapes side by side. */
export function renderWholeBill(inputs: WholeBillInputs, provenance: string[], p: WholeBillPrices = WHOLE_BILL_PRICES) {
  const bills = EXTRACTOR_SHAPES.map((s) => wholeBill(s, inputs, p));
  const [standard] = bills;
  if (!standard) throw new Error('no shapes');
  const cheapest = bills.find((b) => b.shape.name === 'cheapest safe') ?? standard;
  const out = [
    '# What the pipeline costs on AWS: the whole bill, one product at 1 Hz, 30-day month',
    '',
    `**${usd(standard.total)} a month as deployed by default; ${usd(cheapest.total)} in the cheapest safe shape ` +
      `(\`${cheapest.shape.context}\`).** Athena for a dashboard left open comes on top (docs/cost-data-path.md).`,
    '',
    'Generated by `npx nx run infra:cost` from the inputs below; do not edit by hand. The data path (Firehose, S3,',
    "SQS, backup Lambda) is the e2e bench's model, `docs/cost-data-path.md`; this page adds everything around it.",
    '',
    '## Inputs',
    '',
    ...provenance.map((line) => `- ${line}`),
    '',
    'Prices: us-east-1 list prices as published by AWS in 2025, recalled without internet access (verify before ' +
      'budgeting); Spot modelled at 70 % off.',
    '',
    `## The month as deployed by default (${standard.shape.context})`,
    '',
    '| item | per month | how |',
    '|---|---:|---|',
    ...standard.lines.map((l) => `| ${l.item} | ${usd(l.monthly)} | ${l.how} |`),
    `| **total** | **${usd(standard.total)}** | |`,
    '',
    '## What grows month over month',
    '',
    `- S3 raw + backup: +${((2 * inputs.bytesPerTick * inputs.ticksPerMonth) / GIB).toFixed(2)} GB a month ` +
      `(+$${((2 * inputs.bytesPerTick * inputs.ticksPerMonth * p.s3StorageGbMonth) / GIB).toFixed(2)} on each later ` +
      `month's bill, less once the raw objects move to STANDARD_IA and the backups to GLACIER_IR); Object Lock adds ` +
      `nothing while nothing is overwritten.`,
    `- Silver: ` +
      `+${((inputs.bytesPerTick * inputs.ticksPerMonth * inputs.compactor.silverBytesPerRawByte) / GIB).toFixed(2)} ` +
      `GB a month. Logs stay flat at the retention (${inputs.logRetentionDays} days).`,
    '- A backup replica (context `backupReplicaRegion`) doubles backup storage and adds replication requests and ' +
      'inter-region transfer ($0.02/GB): cents at this volume.',
    '',
    '## Shapes side by side',
    '',
    '| shape | context | compute | network path | everything else | total |',
    '|---|---|---:|---:|---:|---:|',
    ...bills.map((b) => {
      const [compute, network] = b.lines;
      const rest = b.total - (compute?.monthly ?? 0) - (network?.monthly ?? 0);
      const total = b.shape.refused ? `${usd(b.total)} (refused: ${b.shape.refused})` : `**${usd(b.total)}**`;
      return (
        `| ${b.shape.name} | \`${b.shape.context}\` | ${usd(compute?.monthly ?? 0)} | ${usd(network?.monthly ?? 0)} ` +
        `| ${usd(rest)} | ${total} |`
      );
    }),
    '',
    '- **Fargate Spot** is the cheapest safe shape: ' +
      'an interruption is a SIGTERM with two minutes notice; the extractor',
    '  drains (90 s deadline) into its spool on EFS, ECS starts a replacement, which takes the spool lease and replays',
    '  it. The seconds without a task show as missed ticks in `gaps` and are backfilled; nothing acknowledged is lost.',
    '  Spot has no on-demand fallback: without Spot capacity the task stays pending and `ExtractorNotRunning` pages.',
    "- **No public IP**: a NAT gateway costs ~10x the task's public address. VPC endpoints would cost more still and",
    '  cannot reach Coinbase at all, so the config refuses them. The public-IP task accepts no inbound traffic',
    '  (security group with no ingress rule); its outbound is HTTPS only.',
    '- The fixed monitoring items (custom metrics, alarms, dashboard) are about half of the bill at this volume.',
    '',
  ];
  return out.join('\n');
}
