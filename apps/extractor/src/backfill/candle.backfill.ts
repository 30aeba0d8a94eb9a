import { candlePages, type CandleGranularity, type CoinbaseClient } from '@btc-etl/coinbase';
import type { PriceTick } from '@btc-etl/price-schema';
import type { CheckpointFile } from './backfill.checkpoint';

/** One backfill job: candles of `[fromMs, toMs)` (bucket starts) of one product. */
export interface BackfillJob {
  productId: string;
  fromMs: number;
  toMs: number;
  granularity: CandleGranularity;
}

export interface BackfillProgress {
  pagesDone: number;
  pagesTotal: number;
  candles: number;
}

export interface CandleBackfillDeps {
  client: Pick<CoinbaseClient, 'getCandles'>;
  /**
   * Hand records to the extractor's pipeline and return once they are durable (in the spool): the checkpoint moves
   * past a page only after this returns, so a crash never skips a page (it may repeat one; record ids dedupe).
   */
  write: (ticks: readonly PriceTick[]) => void | Promise<void>;
  /** Null: not resumable (the automatic outage backfill, a page or two). */
  checkpoint: CheckpointFile | null;
  onProgress?: (progress: BackfillProgress) => void;
  /** Tokens left to the live polls while waiting for the rate limiter (see the client's `headroom`). */
  headroom?: number;
}

export interface BackfillResult extends BackfillProgress {
  /** Page the run started from: > 0 when it resumed an interrupted job. */
  resumedFromPage: number;
}

/**
 * Page through Exchange's candles endpoint for one job, 300 buckets per request, oldest page first. Each page goes
 * through the client's rate limiter and its retries (capped jittered backoff, Retry-After honoured), its records
 * (source `coinbase-candles`, `backfilled` true) are written through the extractor's sinks, then the checkpoint
 * records the page as done. Re-running the same job after a crash resumes at the first page not written.
 */
export async function backfillCandles(
  job: BackfillJob,
  deps: CandleBackfillDeps,
  signal: AbortSignal,
): Promise<BackfillResult> {
  const pages = candlePages(job.fromMs, job.toMs, job.granularity);
  const from = new Date(job.fromMs).toISOString();
  const to = new Date(job.toMs).toISOString();
  const saved = deps.checkpoint?.load() ?? null;
  const startPage = saved ? Math.min(saved.nextPage, pages.length) : 0;
  let candles = saved?.candles ?? 0;
  deps.onProgress?.({ pagesDone: startPage, pagesTotal: pages.length, candles });
  for (let i = startPage; i < pages.length; i++) {
    signal.throwIfAborted();
    const page = pages[i] as (typeof pages)[number];
    const ticks = await deps.client.getCandles(job.productId, {
      granularity: job.granularity,
      start: page.firstSec * 1000,
      end: (page.lastSec + job.granularity) * 1000,
      backfilled: true,
      signal,
      ...(deps.headroom === undefined ? {} : { headroom: deps.headroom }),
    });
    await deps.write(ticks);
    candles += ticks.length;
    deps.checkpoint?.save({
      version: 1,
      productId: job.productId,
      granularity: job.granularity,
      from,
      to,
      nextPage: i + 1,
      pagesTotal: pages.length,
      candles,
      updatedAt: new Date().toISOString(),
    });
    deps.onProgress?.({ pagesDone: i + 1, pagesTotal: pages.length, candles });
  }
  deps.checkpoint?.remove();
  return { pagesDone: pages.length, pagesTotal: pages.length, candles, resumedFromPage: startPage };
}

/**
 * The candle range that covers an outage: whole buckets from the one holding `start` to the one holding `end`, so
 * every second of the span lies in a backfilled candle.
 */
export function outageJob(
  productId: string,
  startIso: string,
  endIso: string,
  granularity: CandleGranularity,
): BackfillJob {
  const g = granularity * 1000;
  const fromMs = Math.floor(Date.parse(startIso) / g) * g;
  const toMs = Math.floor(Date.parse(endIso) / g) * g + g;
  return { productId, fromMs, toMs, granularity };
}
