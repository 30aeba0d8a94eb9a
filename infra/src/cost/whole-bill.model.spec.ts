import { describe, expect, it } from 'vitest';
import {
  EXTRACTOR_SHAPES,
  HOURS_PER_MONTH,
  WHOLE_BILL_PRICES as P,
  dataPathTotal,
  renderWholeBill,
  wholeBill,
  type WholeBillInputs,
} from './whole-bill.model';

const inputs: WholeBillInputs = {
  task: { vcpu: 0.25, memoryGb: 0.5 },
  extractorLogBytesPerHour: 40_000,
  extractorMetrics: 9,
  compactorMetrics: 7,
  alarms: 11,
  dashboards: 1,
  logRetentionDays: 30,
  bytesPerTick: 371,
  ticksPerMonth: 2_592_000,
  networkBytesPerTick: 4096,
  efsBytesPerTickWrite: 4096,
  dataPathMonthly: 1.04,
  backupInvocations: 43_200,
  backupLogBytesPerInvocation: 1200,
  compactor: {
    runsPerMonth: 8640,
    secondsPerRun: 1,
    memoryGb: 1,
    putsPerRun: 4,
    getsPerRun: 10,
    logBytesPerRun: 2000,
    silverBytesPerRawByte: 0.13,
  },
  imageGb: 0.08,
};
const shape = (name: string) => {
  const found = EXTRACTOR_SHAPES.find((s) => s.name === name);
  if (!found) throw new Error(name);
  return found;
};
const line = (bill: ReturnType<typeof wholeBill>, prefix: string) => bill.lines.find((l) => l.item.startsWith(prefix));

describe('wholeBill', () => {
  it('bills the task all month from its size, and its public address by the hour', () => {
    const bill = wholeBill(shape('as deployed by default'), inputs);
    expect(line(bill, 'Fargate')?.monthly).toBeCloseTo(
      (0.25 * P.fargateArmVcpuHour + 0.5 * P.fargateArmGbHour) * 720,
      6,
    );
    expect(line(bill, 'public IPv4')?.monthly).toBeCloseTo(P.publicIpv4Hour * HOURS_PER_MONTH, 6);
    expect(bill.total).toBeCloseTo(
      bill.lines.reduce((s, l) => s + l.monthly, 0),
      9,
    );
  });

  it('takes the Spot discount off the task only', () => {
    const standard = wholeBill(shape('as deployed by default'), inputs);
    const spot = wholeBill(shape('cheapest safe'), inputs);
    expect(line(spot, 'Fargate')?.monthly).toBeCloseTo(
      (line(standard, 'Fargate')?.monthly ?? 0) * (1 - P.fargateSpotDiscount),
      6,
    );
    expect(standard.total - spot.total).toBeCloseTo(
      (line(standard, 'Fargate')?.monthly ?? 0) * P.fargateSpotDiscount,
      6,
    );
  });

  it('charges a NAT gateway its hours, its own public address and the bytes through it', () => {
    const nat = line(wholeBill(shape('no public IP'), inputs), 'NAT');
    const gb = (4096 * 2_592_000) / 1024 ** 3;
    expect(nat?.monthly).toBeCloseTo((P.natGatewayHour + P.publicIpv4Hour) * 720 + gb * P.natGatewayPerGb, 6);
  });

  it('ranks the shapes: Spot + public IP is the cheapest one the config accepts', () => {
    const totals = EXTRACTOR_SHAPES.filter((s) => !s.refused).map((s) => [s.name, wholeBill(s, inputs).total] as const);
    const cheapest = [...totals].sort((a, b) => a[1] - b[1])[0];
    expect(cheapest?.[0]).toBe('cheapest safe');
  });

  it('counts every monitoring item: metrics, alarms, dashboard', () => {
    const bill = wholeBill(shape('as deployed by default'), inputs);
    expect(line(bill, 'custom metrics')?.monthly).toBeCloseTo(16 * P.customMetricMonth, 9);
    expect(line(bill, 'alarms')?.monthly).toBeCloseTo(11 * P.alarmMonth, 9);
    expect(line(bill, 'dashboard')?.monthly).toBe(P.dashboardMonth);
  });
});

describe('renderWholeBill', () => {
  it('headlines the true total of the default shape and of the cheapest safe one', () => {
    const page = renderWholeBill(inputs, ['measured: x']);
    const standard = wholeBill(shape('as deployed by default'), inputs).total;
    const spot = wholeBill(shape('cheapest safe'), inputs).total;
    expect(page.split('\n')[2]).toBe(
      `**$${standard.toFixed(2)} a month as deployed by default; $${spot.toFixed(2)} in the cheapest safe shape ` +
        `(\`-c extractorCapacity=fargate-spot\`).** Athena for a ` +
        `dashboard left open comes on top (docs/cost-data-path.md).`,
    );
    expect(page).toContain('- measured: x');
  });
});

describe('dataPathTotal', () => {
  it.each([
    ['| **total without Athena** | **$1.19** | **$1.04** | **$0.86** |', 1.04],
    ['| something else | $1 | $2 |', undefined],
  ])('reads the default-packing column of %s', (row, expected) => {
    expect(dataPathTotal(`# t\n\n${row}\n`)).toBe(expected);
  });
});
