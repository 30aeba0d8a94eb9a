import type { CandleGranularity, CoinbaseClient, FeedGap, WsFeedEvent } from '@btc-etl/coinbase';
import type { PriceTick } from '@btc-etl/price-schema';
import { OutageBackfiller } from '../backfill/outage.backfiller';
import type { Clock } from '@btc-etl/resilience';
import type { Logger } from '../ops/logger';
import type { StreamingSource } from './tick-source.port';
import { SecondSampler } from './second.sampler';

/** The part of `CoinbaseWsFeed` the source uses (a seam for tests and benches). */
export interface WsFeed {
  run(onEvent: (event: WsFeedEvent) => void, signal: AbortSignal): Promise<void>;
}

export interface WsTickerSourceOptions {
  feed: WsFeed;
  productIds: readonly string[];
  logger: Logger;
  /** `--also-sample 1s`: also emit a 1 Hz series (see SecondSampler). Null: trades and gaps only. */
  sampleEveryMs?: number | null;
  clock?: Clock;
  /**
   * Backfill every real loss (a `sequence_gap`, or an outage during which trades happened or may have) from the
   * candles covering exactly its span, through the same `emit` (records tagged `backfilled`). An outage the feed
   * showed to have lost no trade is not backfilled. Null: losses are only recorded.
   */
  backfill?: { client: Pick<CoinbaseClient, 'getCandles'>; granularity?: CandleGranularity; settleMs?: number } | null;
  /** Told about every outage once its span is known (after its records are emitted). */
  onOutage?: (gap: FeedGap) => void;
  /**
   * Told the receipt time of every record from a feed message, just before it is emitted (the bench's latency start).
   */
  onRecord?: (tick: PriceTick, receivedAtMs: number) => void;
}

/**
 * `SOURCE=ws-ticker`: Coinbase Exchange's WebSocket feed as a streaming source. One record per ticker, one
 * `missed` record per real loss found in the `matches` channel (`sequence_gap`, its exact trade ids) and per
 * outage (`disconnected`, with its span), optionally the 1 Hz sample, all through the extractor's one `emit`.
 * Matches feed the gap detector only: they are not recorded (the ticker stays the price record). Connection events
 * become log lines carrying the connection id.
 */
export class WsTickerSource implements StreamingSource {
  readonly kind = 'stream' as const;
  readonly source = 'coinbase-ws-ticker' as const;

  constructor(private readonly options: WsTickerSourceOptions) {}

  async run(emit: (tick: PriceTick) => void, signal: AbortSignal): Promise<void> {
    const { logger, onOutage, onRecord } = this.options;
    const sampler =
      this.options.sampleEveryMs == null
        ? null
        : new SecondSampler({
            productIds: this.options.productIds,
            emit,
            intervalMs: this.options.sampleEveryMs,
            ...(this.options.clock ? { clock: this.options.clock } : {}),
          });
    const backfill = this.options.backfill;
    const backfiller = backfill
      ? new OutageBackfiller({
          client: backfill.client,
          write: emit,
          logger,
          ...(backfill.granularity ? { granularity: backfill.granularity } : {}),
          ...(backfill.settleMs === undefined ? {} : { settleMs: backfill.settleMs }),
          ...(this.options.clock ? { clock: this.options.clock } : {}),
        })
      : null;
    sampler?.start();
    try {
      await this.options.feed.run((event) => {
        switch (event.type) {
          case 'tick':
            onRecord?.(event.tick, event.receivedAtMs);
            emit(event.tick);
            sampler?.trade(event.tick, event.receivedAtMs);
            return;
          case 'heartbeat':
            sampler?.alive(event.productId, event.receivedAtMs);
            return;
          case 'gap':
            onRecord?.(event.tick, event.receivedAtMs);
            emit(event.tick);
            logger.warn(
              {
                connectionId: event.connectionId,
                productId: event.gap.productId,
                reason: event.gap.reason,
                gap: event.gap,
              },
              event.gap.reason === 'disconnected' ? 'feed outage recorded' : 'sequence gap recorded',
            );
            // a quiet outage lost nothing: a backfill would only repeat what the feed already said
            if (event.gap.tradesLost !== false)
              backfiller?.enqueue(event.gap.productId, event.gap.start, event.gap.end);
            if (event.gap.reason === 'disconnected') onOutage?.(event.gap);
            return;
          case 'connecting':
            logger.info(
              { connectionId: event.connectionId, url: event.url, attempt: event.attempt },
              'feed connecting',
            );
            return;
          case 'subscribed':
            logger.info(
              { connectionId: event.connectionId, productIds: event.productIds, channels: event.channels },
              'feed subscribed',
            );
            return;
          case 'disconnected':
            logger.warn(
              { connectionId: event.connectionId, err: event.error, subscribedForMs: event.subscribedForMs },
              'feed disconnected',
            );
            return;
          case 'reconnecting':
            logger.info(
              { connectionId: event.connectionId, attempt: event.attempt, delayMs: event.delayMs },
              'feed reconnecting',
            );
            return;
          case 'late':
            logger.debug(
              {
                connectionId: event.connectionId,
                productId: event.productId,
                tradeId: event.tradeId,
                lastTradeId: event.lastTradeId,
              },
              'late match',
            );
            return;
          case 'feed_error':
            logger.error(
              { connectionId: event.connectionId, message: event.message, reason: event.reason },
              'feed error message',
            );
            return;
          case 'parse_error':
            // the message is lost; a lost match shows up as a hole in the trade ids (a sequence_gap record)
            logger.error({ connectionId: event.connectionId, err: event.error }, 'feed message rejected');
            return;
        }
      }, signal);
    } finally {
      sampler?.stop();
      await backfiller?.stop();
    }
  }
}
