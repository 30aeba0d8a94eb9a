import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '../assets';
import { readInfraConfig } from '../infra.config';
import { InfraError } from '../infra.errors';
import { CompactorContextSchema } from '../stacks/compactor.stack';
import { EXTRACTOR_TASK } from '../stacks/extractor.stack';
import { ALARM_IDS } from '../stacks/ops.stack';
import { renderAthenaScan, type AthenaScan } from './athena-scan.model';
import { dataPathTotal, renderWholeBill, type WholeBillInputs } from './whole-bill.model';

// `npx nx run infra:cost`: docs/cost.md, the whole bill, from what was measured (the extractor's log bytes, the data
// path of the e2e bench) and what the stacks build (task size, alarms, defaults). Assumptions are named in the page.
const root = WORKSPACE_ROOT;
const read = (path: string) => {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch (error) {
    const how = path.includes('athena-scan')
      ? 'run `npx nx run infra:measure-athena-scan -- <query bench data>`'
      : path.endsWith('.json')
        ? 'run `npx nx run infra:measure-logs`'
        : 'run `npx nx run e2e:bench`';
    throw new InfraError(`${path} is missing: ${how}`, { path }, { cause: error });
  }
};

const requireNumber = (value: number | undefined, missing: string): number => {
  if (value === undefined) throw new InfraError(missing);
  return value;
};

try {
  const logs = JSON.parse(read('docs/measurements/extractor-logs.json')) as {
    measuredAt: string;
    command: string;
    ranSeconds: number;
    stdoutBytesPerHour: number;
    emfBytesPerHour: number;
    coinbaseRequests: number;
  };
  const dataPath = read('docs/cost-data-path.md');
  const bytesPerTick = Number(/NDJSON bytes per tick \(mean\) \| ([\d.]+)/.exec(dataPath)?.[1]);
  if (!Number.isFinite(bytesPerTick)) throw new InfraError('docs/cost-data-path.md has no bytes-per-tick row to read');
  const config = readInfraConfig(() => undefined);
  const compactor = CompactorContextSchema.parse({});
  const ticksPerMonth = 30 * 86_400;
  const inputs: WholeBillInputs = {
    task: { vcpu: EXTRACTOR_TASK.cpu / 1024, memoryGb: EXTRACTOR_TASK.memoryMiB / 1024 },
    extractorLogBytesPerHour: logs.stdoutBytesPerHour,
    // 7 under Service, plus TicksMissed under Service+Reason for each reason seen (2 assumed: timeout, http_429)
    extractorMetrics: 7 + 2,
    compactorMetrics: 7,
    alarms: ALARM_IDS.length,
    dashboards: 1,
    logRetentionDays: config.logRetentionDays,
    bytesPerTick,
    ticksPerMonth,
    networkBytesPerTick: 4096,
    efsBytesPerTickWrite: 4096,
    dataPathMonthly: requireNumber(dataPathTotal(dataPath), 'docs/cost-data-path.md has no "total without Athena" row'),
    backupInvocations: ticksPerMonth / config.firehoseBufferIntervalSeconds,
    backupLogBytesPerInvocation: 1200,
    compactor: {
      runsPerMonth: (30 * 1440) / compactor.compactIntervalMinutes,
      secondsPerRun: 1,
      memoryGb: compactor.compactorMemoryMb / 1024,
      putsPerRun: 4,
      getsPerRun: 10,
      logBytesPerRun: 2000,
      silverBytesPerRawByte: 0.13,
    },
    imageGb: 0.08,
  };
  const provenance = [
    `Extractor log bytes: **measured** ${logs.stdoutBytesPerHour} B/h (of which EMF ${logs.emfBytesPerHour} B/h) by ` +
      `\`${logs.command}\` on ${logs.measuredAt.slice(0, 10)}: the built bundle with the container's settings ` +
      `(SINK=firehose on moto, METRICS_EMF=true, LOG_LEVEL info) against the fake Coinbase for ${logs.ranSeconds} s ` +
      `(${logs.coinbaseRequests} requests); start/stop lines and Node 20's SDK warning are counted as if every hour ` +
      `had them (an upper bound; Node 22 in the container has no warning). Raw numbers: ` +
      `docs/measurements/extractor-logs.json.`,
    `Task size: ${inputs.task.vcpu} vCPU / ${inputs.task.memoryGb} GB arm64 (EXTRACTOR_TASK in ` +
      `infra/src/stacks/extractor.stack.ts), running all ${ticksPerMonth / 86_400} days.`,
    `Data path: **measured** by the e2e bench (docs/cost-data-path.md): ${bytesPerTick} B per tick, ` +
      `$${inputs.dataPathMonthly.toFixed(2)} a month with the default 1 s packing.`,
    `Alarms: ${inputs.alarms} (ALARM_IDS, Ops stack), 1 dashboard. Custom metrics: extractor 7 + TicksMissed for 2 ` +
      `miss reasons (assumed), compactor 7.`,
    `Log retention ${inputs.logRetentionDays} days (logRetentionDays default). Lambda logs (assumed): ` +
      `backup ${inputs.backupLogBytesPerInvocation} B per invocation (platform lines in JSON) ` +
      `x ${inputs.backupInvocations} invocations (one per ${config.firehoseBufferIntervalSeconds} s Firehose ` +
      `object); compactor ${inputs.compactor.logBytesPerRun} B per run.`,
    `Compactor (assumed from compactor:bench, idle rerun 0.3 s, 47.6 B/record silver vs 366 ` +
      `raw): ${inputs.compactor.runsPerMonth} runs (every ${compactor.compactIntervalMinutes} min), 1 s ` +
      `at ${compactor.compactorMemoryMb} MB, ${inputs.compactor.putsPerRun} PUT/LIST ` +
      `+ ${inputs.compactor.getsPerRun} GET per run.`,
    `Network (assumed): ${inputs.networkBytesPerTick} B in and out per tick (Coinbase request and answer, the ` +
      `Firehose call, TLS); EFS (assumed): ${inputs.efsBytesPerTickWrite} B metered per tick (one small write + ` +
      `fsync each second, metered up), nothing held once delivered.`,
  ];
  const athena = JSON.parse(read('docs/measurements/athena-scan.json')) as AthenaScan;
  writeFileSync(join(root, 'docs/cost.md'), `${renderWholeBill(inputs, provenance)}\n${renderAthenaScan(athena)}`);
  console.log('docs/cost.md written');
} catch (error) {
  if (!(error instanceof InfraError)) throw error;
  console.error(`cost: ${error.message}`);
  process.exit(2);
}
