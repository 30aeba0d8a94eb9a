import type { CandleGranularity, CoinbaseClient } from '@btc-etl/coinbase';
import type { PriceTick } from '@btc-etl/price-schema';
import { backoffMs, systemClock, type Clock } from '@btc-etl/resilience';
import type { Logger } from '../ops/logger';
import { backfillCandles, outageJob, type BackfillJob } from './candle.backfill';

export interface OutageBackfillerOptions {
  client: Pick<CoinbaseClient, 'getCandles'>;
  /** Where the candle records go: the extractor's `emit` (same metrics, same spool, same sink). */
  write: (tick: PriceTick) => void;
  logger: Logger;
  /** Default 60 s candles. */
  granularity?: CandleGranularity;
  /**
   * Wait this long after the last candle of an outage has closed before fetching it: Exchange publishes a minute's
   * candle shortly after the minute, and a candle fetched too early is missing or partial. Default 60 s.
   */
  settleMs?: number;
  /** Attempts per outage before it is left to a manual `extractor:backfill` (logged with the command). Default 5. */
  maxAttempts?: number;
  clock?: Clock;
  random?: () => number;
}

interface Queued {
  job: BackfillJob;
  attempt: number;
}

/**
 * After a real loss in the stream (a gap in the trade ids or an outage), fetch the candles that cover exactly its
 * span (whole candles from the one holding its start to the one holding its end) and write them, tagged `backfilled`,
 * through the extractor's own sinks. Jobs run one at a time (they share the Exchange rate limiter with any polling, at
 * a headroom that leaves room for it) and failed ones are retried with backoff; one that keeps failing is logged at
 * error level with the exact command that fills it by hand. Never throws into the stream.
 */
export class OutageBackfiller {
  private readonly clock: Clock;
  private readonly granularity: CandleGranularity;
  private readonly settleMs: number;
  private readonly maxAttempts: number;
  private readonly random: () => number;
  private readonly timers = new Set<unknown>();
  private readonly queue: Queued[] = [];
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  /** Candles written so far (for logs and tests). */
  written = 0;

  constructor(private readonly options: OutageBackfillerOptions) {
    this.clock = options.clock ?? systemClock;
    this.granularity = options.granularity ?? 60;
    this.settleMs = options.settleMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.random = options.random ?? Math.random;
  }

  /** A loss of `productId` from `start` to `end` (ISO): backfill it once its candles are final. */
  enqueue(productId: string, start: string, end: string): void {
    if (this.abort.signal.aborted) return;
    const job = outageJob(productId, start, end, this.granularity);
    this.options.logger.info(
      {
        productId,
        from: new Date(job.fromMs).toISOString(),
        to: new Date(job.toMs).toISOString(),
        granularity: job.granularity,
      },
      'outage backfill scheduled',
    );
    this.later({ job, attempt: 0 }, Math.max(0, job.toMs + this.settleMs - this.clock.now()));
  }

  private later(item: Queued, ms: number): void {
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(handle);
      this.queue.push(item);
      this.pump();
    }, ms);
    this.timers.add(handle);
  }

  private pump(): void {
    if (this.running) return;
    const item = this.queue.shift();
    if (!item) return;
    this.running = this.runOne(item).finally(() => {
      this.running = null;
      this.pump();
    });
  }

  private async runOne(item: Queued): Promise<void> {
    const { job } = item;
    const log = {
      productId: job.productId,
      from: new Date(job.fromMs).toISOString(),
      to: new Date(job.toMs).toISOString(),
      attempt: item.attempt + 1,
    };
    try {
      const result = await backfillCandles(
        job,
        {
          client: this.options.client,
          checkpoint: null,
          write: (ticks) => {
            for (const t of ticks) this.options.write(t);
            this.written += ticks.length;
          },
        },
        this.abort.signal,
      );
      this.options.logger.info({ ...log, candles: result.candles }, 'outage backfilled');
    } catch (error) {
      if (this.abort.signal.aborted) return;
      const attempt = item.attempt + 1;
      if (attempt >= this.maxAttempts) {
        this.options.logger.error(
          {
            ...log,
            err: error,
            command:
              `npx nx run extractor:backfill ` +
              `-- --product ${job.productId} --from ${log.from} --to ${log.to} --granularity ${job.granularity}`,
          },
          'outage backfill gave up: run the command to fill the gap',
        );
        return;
      }
      const delay = backoffMs(attempt, { baseMs: 5_000, capMs: 300_000, random: this.random });
      this.options.logger.warn({ ...log, err: error, retryInMs: delay }, 'outage backfill failed, will retry');
      this.later({ job, attempt }, delay);
    }
  }

  /** Cancel scheduled jobs and abort the one running (its records already written stay). */
  async stop(): Promise<void> {
    const left = this.timers.size + this.queue.length;
    this.abort.abort(new Error('extractor stopping'));
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    // the disconnected records stay in the data, so these spans can still be filled by `extractor:backfill`
    if (left > 0) this.options.logger.warn({ pending: left }, 'outage backfills not run before shutdown');
    await this.running;
  }

  /** Jobs waiting (scheduled or queued) plus the one running: for tests and /healthz. */
  get pending(): number {
    return this.timers.size + this.queue.length + (this.running ? 1 : 0);
  }
}
