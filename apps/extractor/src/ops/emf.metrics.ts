import type { PriceTick } from '@btc-etl/price-schema';
import type { Clock } from '@btc-etl/resilience';

/** CloudWatch namespace and dimension every service of the pipeline publishes under (CONTRACTS.md). */
export const EMF_NAMESPACE = 'BtcEtl';
export const EMF_SERVICE = 'extractor';

/** The CloudWatch units EMF accepts that these metrics use. */
export type EmfUnit = 'Count' | 'None' | 'Bytes' | 'Milliseconds';

/** One interval of the extractor's health, as counted by {@link EmfHealthCounter}. */
export interface HealthSample {
  /** Ticks due in the interval (polling: one per product per interval; a stream: one per record it emitted). */
  due: number;
  ok: number;
  /** Missed records per reason (`timeout`, `http_429`, ...). */
  missedByReason: Readonly<Record<string, number>>;
  spoolBytes: number;
  spoolCapBytes: number;
  /** Age of the oldest tick not yet acknowledged by the sink; 0 when none. */
  deliveryLagMs: number;
}

/** One EMF document: a JSON log line CloudWatch turns into metrics, with no agent and no API call. */
export interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: EmfUnit }[];
    }[];
  };
  [property: string]: unknown;
}

const ratio = (part: number, whole: number) => (whole > 0 ? Math.min(1, Math.max(0, part / whole)) : 0);

/**
 * The EMF documents of one interval: one with every health metric under dimension `Service`, then one per miss
 * reason with `TicksMissed` under `Service, Reason`. A reason gets its own document because one document holds one
 * value per metric name, and the first already carries the total. Pure: same sample and time, same documents.
 *
 * @example
 * for (const doc of buildEmfDocuments(sample, Date.now())) process.stdout.write(`${JSON.stringify(doc)}\n`);
 */
export function buildEmfDocuments(sample: HealthSample, timestamp: number): EmfDocument[] {
  const missed = Object.values(sample.missedByReason).reduce((sum, n) => sum + n, 0);
  const health: EmfDocument = {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: EMF_NAMESPACE,
          Dimensions: [['Service']],
          Metrics: [
            { Name: 'TicksDue', Unit: 'Count' },
            { Name: 'TicksOk', Unit: 'Count' },
            { Name: 'TicksMissed', Unit: 'Count' },
            { Name: 'MissedRatio', Unit: 'None' },
            { Name: 'SpoolBytes', Unit: 'Bytes' },
            { Name: 'SpoolFillRatio', Unit: 'None' },
            { Name: 'DeliveryLagMs', Unit: 'Milliseconds' },
          ],
        },
      ],
    },
    Service: EMF_SERVICE,
    TicksDue: sample.due,
    TicksOk: sample.ok,
    TicksMissed: missed,
    // of the records produced (ok + missed): a due tick still in flight is neither yet
    MissedRatio: ratio(missed, sample.ok + missed),
    SpoolBytes: sample.spoolBytes,
    SpoolFillRatio: ratio(sample.spoolBytes, sample.spoolCapBytes),
    DeliveryLagMs: Math.max(0, Math.round(sample.deliveryLagMs)),
  };
  const perReason = Object.entries(sample.missedByReason)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([reason, n]): EmfDocument => ({
        _aws: {
          Timestamp: timestamp,
          CloudWatchMetrics: [
            {
              Namespace: EMF_NAMESPACE,
              Dimensions: [['Service', 'Reason']],
              Metrics: [{ Name: 'TicksMissed', Unit: 'Count' }],
            },
          ],
        },
        Service: EMF_SERVICE,
        Reason: reason,
        TicksMissed: n,
      }),
    );
  return [health, ...perReason];
}

/** Counts due, ok and missed ticks between two EMF lines. */
export class EmfHealthCounter {
  private due = 0;
  private ok = 0;
  private missed = new Map<string, number>();

  /** A due tick (polling sources count at the due time; streaming ones per record, see {@link recordTick}). */
  countDue(): void {
    this.due++;
  }

  recordTick(tick: PriceTick): void {
    if (tick.status === 'ok') this.ok++;
    else {
      const reason = tick.reason ?? 'unknown';
      this.missed.set(reason, (this.missed.get(reason) ?? 0) + 1);
    }
  }

  /** The counts since the last take, and start counting afresh. */
  take(): Pick<HealthSample, 'due' | 'ok' | 'missedByReason'> {
    const counts = { due: this.due, ok: this.ok, missedByReason: Object.fromEntries(this.missed) };
    this.due = 0;
    this.ok = 0;
    this.missed = new Map();
    return counts;
  }
}

export interface EmfReporterOptions {
  counter: EmfHealthCounter;
  /** The gauges at the time of the line. */
  gauges: () => Pick<HealthSample, 'spoolBytes' | 'spoolCapBytes' | 'deliveryLagMs'>;
  intervalMs: number;
  /** Where a line goes (default stdout, where the awslogs driver picks it up). One call per line. */
  write?: (line: string) => void;
  clock: Clock;
}

/** Writes the EMF lines every `intervalMs` until stopped; `stop` writes the last, partial interval. */
export class EmfReporter {
  private timer: unknown;
  private stopped = false;
  private readonly write: (line: string) => void;

  constructor(private readonly options: EmfReporterOptions) {
    this.write = options.write ?? ((line) => process.stdout.write(line));
  }

  start(): void {
    const tick = () => {
      this.emit();
      if (!this.stopped) this.timer = this.options.clock.setTimeout(tick, this.options.intervalMs);
    };
    this.timer = this.options.clock.setTimeout(tick, this.options.intervalMs);
  }

  /** Write the lines for the counts since the last ones. */
  emit(): void {
    const sample: HealthSample = { ...this.options.counter.take(), ...this.options.gauges() };
    for (const doc of buildEmfDocuments(sample, this.options.clock.now())) this.write(`${JSON.stringify(doc)}\n`);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.emit();
  }
}
