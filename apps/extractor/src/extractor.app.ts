import { randomUUID } from 'node:crypto';
import type { PriceTick } from '@btc-etl/price-schema';
import { systemClock, type Clock } from '@btc-etl/resilience';
import { DeliveryPipeline } from './delivery/delivery.pipeline';
import { Spool } from './delivery/spool';
import { SpoolLease } from './delivery/spool.lease';
import type { ExtractorConfig } from './extractor.config';
import { SpoolLeaseLostError } from './extractor.errors';
import { EmfHealthCounter, EmfReporter } from './ops/emf.metrics';
import type { ExtractorMetrics } from './ops/extractor.metrics';
import type { Logger } from './ops/logger';
import { startOpsServer, type OpsServer } from './ops/ops.server';
import type { SinkFactory } from './sinks/sink.factory';
import { CadenceScheduler } from './sources/cadence.scheduler';
import { missedTickFor, pollTick } from './sources/tick.poller';
import type { TickSource } from './sources/tick-source.port';

export type ExtractorSettings = Pick<
  ExtractorConfig,
  | 'PRODUCTS'
  | 'INTERVAL_MS'
  | 'SPOOL_DIR'
  | 'SPOOL_MAX_MB'
  | 'SPOOL_LOCK_WAIT_S'
  | 'SPOOL_LOCK_STALE_S'
  | 'METRICS_PORT'
  | 'HOST'
  | 'METRICS_EMF'
  | 'METRICS_EMF_INTERVAL_S'
  | 'REQUEST_TIMEOUT_MS'
  | 'MAX_IN_FLIGHT'
  | 'SHUTDOWN_TIMEOUT_MS'
>;

/** Ready parts: the caller builds the source and the sink (see `sinks/sink.factory.ts`), the app wires them. */
export interface ExtractorDeps {
  config: ExtractorSettings;
  logger: Logger;
  metrics: ExtractorMetrics;
  source: TickSource;
  /** Builds the sink (Firehose or the local delivery stream) with its client already in hand. */
  sink: SinkFactory;
  /** Names this process in the spool's lease (its log lines carry the same id); default a fresh UUID. */
  runId?: string;
  /** Where EMF lines go when `METRICS_EMF` is on (default stdout). */
  emfWrite?: (line: string) => void;
  clock?: Clock;
}

export interface RunningExtractor {
  readonly opsPort: number;
  /** The ops server's address (`HOST`). */
  readonly opsHost: string;
  readonly pipeline: DeliveryPipeline;
  /**
   * Stop scheduling, finish or abort requests in flight, deliver what is spooled; resolves within the shutdown budget.
   */
  stop(): Promise<{ delivered: boolean }>;
  /**
   * Resolves with the error when a streaming source dies on its own (not because it was stopped); never rejects.
   * The service must not run on without a source: main stops (flushing what was accepted) and exits non-zero.
   */
  readonly failed: Promise<Error>;
  /**
   * Resolves when another extractor took the spool's lease over (this one stalled past `SPOOL_LOCK_STALE_S`). The
   * process must exit at once, without touching the spool again: main exits 1.
   */
  readonly leaseLost: Promise<SpoolLeaseLostError>;
}

/**
 * Wire the service: the spool's single-writer lease, the spool (replayed first), sink, pipeline, the source
 * (scheduled polls or a stream) and the ops server. Every due tick of every product becomes exactly one record.
 * Throws `SpoolLockedError` when another extractor holds the spool directory.
 */
export async function startExtractor(deps: ExtractorDeps): Promise<RunningExtractor> {
  const { config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  let reportLost: (error: SpoolLeaseLostError) => void = () => undefined;
  const leaseLost = new Promise<SpoolLeaseLostError>((resolve) => (reportLost = resolve));
  const lease = await SpoolLease.acquire({
    dir: config.SPOOL_DIR,
    runId: deps.runId ?? randomUUID(),
    waitMs: config.SPOOL_LOCK_WAIT_S * 1000,
    staleMs: config.SPOOL_LOCK_STALE_S * 1000,
    clock,
    onLost: (holder) => reportLost(new SpoolLeaseLostError(config.SPOOL_DIR, holder)),
  });
  logger.info(
    { spoolDir: config.SPOOL_DIR, lease: lease.holder },
    'spool lease taken: this process is its only writer',
  );
  try {
    return await startOnLease(deps, clock, lease, leaseLost);
  } catch (error) {
    lease.release();
    throw error;
  }
}

async function startOnLease(
  deps: ExtractorDeps,
  clock: Clock,
  lease: SpoolLease,
  leaseLost: Promise<SpoolLeaseLostError>,
): Promise<RunningExtractor> {
  const { config, logger, metrics, source } = deps;
  const spool = Spool.open({
    dir: config.SPOOL_DIR,
    capBytes: config.SPOOL_MAX_MB * 1024 * 1024,
    onWarning: (w) =>
      logger[w.threshold >= 0.95 ? 'error' : 'warn'](
        { usedBytes: w.usedBytes, capBytes: w.capBytes, percent: Math.round(w.threshold * 100) },
        w.threshold >= 1
          ? 'SPOOL FULL: new ticks are refused until the sink catches up'
          : 'spool filling up: the sink is not keeping up',
      ),
    onRepair: (r) => logger.warn(r, 'spool segment ended in a partial line (killed mid-write): cut off'),
  });
  const pipeline = new DeliveryPipeline({ spool, createSink: deps.sink, logger, metrics, clock });
  pipeline.start();

  const health = new EmfHealthCounter();
  const emf = config.METRICS_EMF
    ? new EmfReporter({
        counter: health,
        gauges: () => ({
          spoolBytes: spool.bytes,
          spoolCapBytes: spool.capBytes,
          deliveryLagMs: pipeline.deliveryLagMs(),
        }),
        intervalMs: config.METRICS_EMF_INTERVAL_S * 1000,
        clock,
        ...(deps.emfWrite ? { write: deps.emfWrite } : {}),
      })
    : undefined;
  emf?.start();

  const emit = (tick: PriceTick): void => {
    if (source.kind === 'stream') health.countDue();
    health.recordTick(tick);
    metrics.ticks.inc({ product: tick.product_id, status: tick.status, reason: tick.reason ?? '' });
    if (tick.status === 'ok') metrics.markSuccess(tick.product_id, clock.now());
    else
      logger.warn(
        { productId: tick.product_id, scheduledTime: tick.scheduled_time, reason: tick.reason },
        'tick missed',
      );
    pipeline.accept(tick);
  };

  let scheduler: CadenceScheduler | undefined;
  const streamStop = new AbortController();
  let stream: Promise<void> | undefined;
  let reportFailure: (error: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (reportFailure = resolve));
  if (source.kind === 'poll') {
    const first = config.PRODUCTS[0];
    if (source.warmUp && first)
      await source.warmUp(first, { signal: streamStop.signal, timeoutMs: config.REQUEST_TIMEOUT_MS });
    const pollDeps = {
      source,
      timeoutMs: config.REQUEST_TIMEOUT_MS,
      now: () => clock.now(),
    };
    scheduler = new CadenceScheduler({
      products: config.PRODUCTS,
      intervalMs: config.INTERVAL_MS,
      maxInFlightPerProduct: config.MAX_IN_FLIGHT,
      clock,
      run: async ({ productId, dueMs, signal }) => {
        metrics.ticksDue.inc({ product: productId });
        health.countDue();
        const outcome = await pollTick(pollDeps, productId, dueMs, signal);
        metrics.pollLatency.observe({ product: productId }, outcome.latencyMs / 1000);
        emit(outcome.tick);
      },
      overrun: ({ productId, dueMs }, cause) => {
        metrics.ticksDue.inc({ product: productId });
        health.countDue();
        logger.warn({ productId, dueMs, cause }, 'tick overrun');
        emit(missedTickFor(productId, source.source, new Date(dueMs), 'overrun', new Date(clock.now())));
      },
    });
    scheduler.start();
  } else {
    stream = source.run(emit, streamStop.signal).then(
      () => {
        if (!streamStop.signal.aborted)
          reportFailure(new Error(`the ${source.source} source ended without being stopped`));
      },
      (error: unknown) => {
        logger.error({ err: error }, 'stream source failed');
        if (!streamStop.signal.aborted) reportFailure(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  let running = true;
  const ops: OpsServer = await startOpsServer(config.METRICS_PORT, config.HOST, metrics, () => ({
    running,
    spoolDepth: spool.depth,
    spoolBytes: spool.bytes,
    spoolCapBytes: spool.capBytes,
    lastSuccessAgeS: Object.fromEntries([...metrics.lastSuccesses()].map(([p, at]) => [p, (clock.now() - at) / 1000])),
  }));
  logger.info(
    {
      products: config.PRODUCTS,
      source: source.source,
      intervalMs: config.INTERVAL_MS,
      sink: pipeline.sink.name,
      opsPort: ops.port,
      opsHost: ops.host,
      spoolDir: config.SPOOL_DIR,
    },
    'extractor started',
  );

  let stopping: Promise<{ delivered: boolean }> | undefined;
  const stop = (): Promise<{ delivered: boolean }> =>
    (stopping ??= (async () => {
      running = false;
      const started = clock.now();
      const budget = config.SHUTDOWN_TIMEOUT_MS;
      // Requests in flight get a share of the budget; aborted ones still become records (missed, timeout).
      await scheduler?.stop(Math.min(config.REQUEST_TIMEOUT_MS, budget / 3));
      streamStop.abort();
      await stream;
      const deadline = new AbortController();
      const timer = clock.setTimeout(() => deadline.abort(), Math.max(0, budget - (clock.now() - started)));
      const delivered = await pipeline.drain(deadline.signal);
      clock.clearTimeout(timer);
      emf?.stop(); // the last, partial interval
      pipeline.sink.close();
      spool.close();
      lease.release();
      await ops.close();
      logger.info(
        { delivered, spoolDepth: spool.depth, tookMs: clock.now() - started },
        delivered ? 'stopped, everything delivered' : 'stopped, the rest stays in the spool for the next run',
      );
      return { delivered };
    })());

  return { opsPort: ops.port, opsHost: ops.host, pipeline, stop, failed, leaseLost };
}
