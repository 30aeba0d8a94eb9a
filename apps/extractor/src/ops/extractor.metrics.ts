import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric the extractor exports, on its own registry (so tests and benches can make fresh ones).
 * Names follow Prometheus conventions: `_total` counters, `_seconds` histograms.
 */
export class ExtractorMetrics {
  readonly registry = new Registry();
  readonly ticksDue: Counter<'product'>;
  readonly ticks: Counter<'product' | 'status' | 'reason'>;
  readonly ticksRejected: Counter<'reason'>;
  readonly recordsPut: Counter<'sink'>;
  readonly recordsFailed: Counter<'sink' | 'code'>;
  readonly recordsRetried: Counter<'sink'>;
  readonly sinkCalls: Counter<'sink' | 'outcome'>;
  readonly ticksDelivered: Counter<'sink'>;
  readonly spoolDepth: Gauge;
  readonly spoolBytes: Gauge;
  readonly spoolCapBytes: Gauge;
  readonly pollLatency: Histogram<'product'>;
  readonly deliveryLatency: Histogram<'sink'>;
  readonly lastSuccessAge: Gauge<'product'>;
  private readonly lastSuccess = new Map<string, number>();

  constructor(options: { defaultMetrics?: boolean; now?: () => number } = {}) {
    const registers = [this.registry];
    const now = options.now ?? Date.now;
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    this.ticksDue = new Counter({
      name: 'extractor_ticks_due_total',
      help: 'Due ticks, one per product per interval',
      labelNames: ['product'],
      registers,
    });
    this.ticks = new Counter({
      name: 'extractor_ticks_total',
      help: 'Records produced by status and miss reason (reason "" for ok)',
      labelNames: ['product', 'status', 'reason'],
      registers,
    });
    this.ticksRejected = new Counter({
      name: 'extractor_ticks_rejected_total',
      help: 'Ticks not accepted: spool full or invalid record (each also logged at error level)',
      labelNames: ['reason'],
      registers,
    });
    this.recordsPut = new Counter({
      name: 'extractor_sink_records_put_total',
      help: 'Sink records (Firehose records or objects) accepted by the destination',
      labelNames: ['sink'],
      registers,
    });
    this.recordsFailed = new Counter({
      name: 'extractor_sink_records_failed_total',
      help: 'Sink records the destination refused (to be resent)',
      labelNames: ['sink', 'code'],
      registers,
    });
    this.recordsRetried = new Counter({
      name: 'extractor_sink_records_retried_total',
      help: 'Sink records sent again after a failure',
      labelNames: ['sink'],
      registers,
    });
    this.sinkCalls = new Counter({
      name: 'extractor_sink_calls_total',
      help: 'Calls to the destination by outcome',
      labelNames: ['sink', 'outcome'],
      registers,
    });
    this.ticksDelivered = new Counter({
      name: 'extractor_ticks_delivered_total',
      help: 'Ticks delivered and removed from the spool',
      labelNames: ['sink'],
      registers,
    });
    this.spoolDepth = new Gauge({
      name: 'extractor_spool_depth',
      help: 'Ticks in the spool not yet acknowledged by the sink',
      registers,
    });
    this.spoolBytes = new Gauge({ name: 'extractor_spool_bytes', help: 'Bytes on disk in the spool', registers });
    this.spoolCapBytes = new Gauge({ name: 'extractor_spool_cap_bytes', help: 'Disk cap of the spool', registers });
    this.pollLatency = new Histogram({
      name: 'extractor_poll_latency_seconds',
      help: 'Request start to answer or failure',
      labelNames: ['product'],
      buckets: [0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5],
      registers,
    });
    this.deliveryLatency = new Histogram({
      name: 'extractor_delivery_latency_seconds',
      help: 'Tick accepted into the spool to delivered by the sink',
      labelNames: ['sink'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
      registers,
    });
    const lastSuccess = this.lastSuccess;
    this.lastSuccessAge = new Gauge({
      name: 'extractor_last_success_age_seconds',
      help: 'Seconds since the last ok record of a product',
      labelNames: ['product'],
      registers,
      collect() {
        for (const [product, at] of lastSuccess) this.set({ product }, (now() - at) / 1000);
      },
    });
  }

  /** Remember an ok record (for the age gauge and /healthz). */
  markSuccess(productId: string, at: number): void {
    this.lastSuccess.set(productId, at);
  }

  /** Epoch ms of the last ok record of each product. */
  lastSuccesses(): ReadonlyMap<string, number> {
    return this.lastSuccess;
  }
}
