import { z } from 'zod';
import { DecimalString, IsoUtcString, ProductId, recordId, type PriceTick } from '@btc-etl/price-schema';
import { WsFeedParseError } from './ws-feed.errors';

/** The source tag of every record that comes from the Exchange WebSocket feed. */
export const WS_TICKER_SOURCE = 'coinbase-ws-ticker' as const;

const seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

// Wire formats of the Exchange feed (shared/REFERENCE.md). Private: the rest of the workspace sees PriceTick.
// Unknown keys are tolerated (z.object strips them): Coinbase adds fields without notice.
const RawTicker = z.object({
  type: z.literal('ticker'),
  sequence: seq,
  product_id: ProductId,
  price: DecimalString,
  time: IsoUtcString,
  trade_id: seq,
  best_bid: DecimalString.optional(),
  best_ask: DecimalString.optional(),
  volume_24h: DecimalString.optional(),
  // the side of the maker order, not the taker's
  side: z.enum(['buy', 'sell']).optional(),
  last_size: DecimalString.optional(),
});

const RawHeartbeat = z.object({
  type: z.literal('heartbeat'),
  sequence: seq,
  last_trade_id: seq,
  product_id: ProductId,
  time: IsoUtcString,
});

// Only what gap detection reads: the rest of a match (order ids, price, size, side) is stripped unvalidated, which
// keeps the added channel cheap (shared/REFERENCE.md: every trade, trade ids contiguous per product).
const RawMatch = z.object({
  type: z.literal(['match', 'last_match']),
  trade_id: seq,
  sequence: seq,
  product_id: ProductId,
  time: IsoUtcString,
});

const RawSubscriptions = z.object({
  type: z.literal('subscriptions'),
  channels: z.array(z.object({ name: z.string(), product_ids: z.array(z.string()).optional() })),
});

const RawError = z.object({
  type: z.literal('error'),
  message: z.string(),
  reason: z.string().optional(),
});

const RawMessage = z.discriminatedUnion('type', [RawTicker, RawHeartbeat, RawMatch, RawSubscriptions, RawError]);

/** A ticker message as the feed sends it (validated). */
export type WsTickerMessage = z.infer<typeof RawTicker>;
/** A heartbeat message as the feed sends it (validated). */
export type WsHeartbeatMessage = z.infer<typeof RawHeartbeat>;

/** A `match` (or the `last_match` that opens the channel) as far as gap detection reads it (validated). */
export type WsMatchMessage = z.infer<typeof RawMatch>;

/** One validated feed message; types the client does not subscribe to come back as `other`. */
export type FeedMessage =
  | WsTickerMessage
  | WsHeartbeatMessage
  | WsMatchMessage
  | z.infer<typeof RawSubscriptions>
  | z.infer<typeof RawError>
  | { type: 'other'; rawType: string };

const KNOWN_TYPES = new Set(['ticker', 'heartbeat', 'match', 'last_match', 'subscriptions', 'error']);

/**
 * Parse one text frame of the feed. Message types the client does not handle (the feed adds some, e.g. `status`)
 * are returned as `other` rather than rejected; a known type with a bad field throws {@link WsFeedParseError}
 * naming the field.
 */
export function parseFeedMessage(text: string): FeedMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new WsFeedParseError(text, 'not JSON', { cause });
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') throw new WsFeedParseError(text, 'no "type" field');
  if (!KNOWN_TYPES.has(type)) return { type: 'other', rawType: type };
  const parsed = RawMessage.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WsFeedParseError(text, `${type}.${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * One ticker message to one `ok` record. Pure: `receivedAt` is the moment the frame arrived (the record's
 * `ingest_time`). A streamed trade has no due second, so `scheduled_time` is null and the identity (`record_id`)
 * comes from the product's sequence number: a re-delivered message keeps its id.
 * @example wsTickerToPriceTick(parsedTicker, new Date())
 */
export function wsTickerToPriceTick(raw: WsTickerMessage, receivedAt: Date): PriceTick {
  return {
    record_id: recordId({ productId: raw.product_id, source: WS_TICKER_SOURCE, sequence: raw.sequence }),
    product_id: raw.product_id,
    source: WS_TICKER_SOURCE,
    status: 'ok',
    price: raw.price,
    exchange_time: raw.time,
    scheduled_time: null,
    ingest_time: receivedAt.toISOString(),
    reason: null,
    bid: raw.best_bid ?? null,
    ask: raw.best_ask ?? null,
    volume_24h: raw.volume_24h ?? null,
    trade_id: raw.trade_id,
    sequence: raw.sequence,
  };
}

/**
 * What a gap record says was missed: inclusive ranges (null where unknown) and the time span. A `sequence_gap` is
 * always a real loss found in the `matches` channel (its trade-id range exact, sequences null: they count order-book
 * messages nobody subscribed to); a `disconnected` span carries the trade ids that happened while away, when known.
 */
export interface FeedGap {
  productId: string;
  reason: 'sequence_gap' | 'disconnected';
  fromSequence: number | null;
  toSequence: number | null;
  fromTradeId: number | null;
  toTradeId: number | null;
  /** The last moment the product's data was known good (ISO). */
  start: string;
  /** The moment the gap was seen to end or was detected (ISO). */
  end: string;
  /**
   * True when trades are known to be missing, false when the feed showed none happened (an outage in a quiet
   * market), null when nobody can tell. Not a column: it decides whether a backfill is worth running.
   */
  tradesLost: boolean | null;
}

/**
 * A gap as a `missed` record. Its identity is the gap itself (reason, product, ranges and span), so the same gap
 * reported twice keeps one `record_id`; `exchange_time` is the gap's end, the moment the feed told us about it.
 */
export function feedGapToPriceTick(gap: FeedGap, detectedAt: Date): PriceTick {
  const identity =
    `gap:${gap.reason}:${gap.fromSequence ?? ''}-${gap.toSequence ?? ''}:` +
    `${gap.fromTradeId ?? ''}-${gap.toTradeId ?? ''}:${gap.start}/${gap.end}`;
  return {
    // recordId keys streamed records by sequence; a gap has no sequence of its own, so its span stands in
    record_id: recordId({ productId: gap.productId, source: WS_TICKER_SOURCE, exchangeTime: identity }),
    product_id: gap.productId,
    source: WS_TICKER_SOURCE,
    status: 'missed',
    price: null,
    exchange_time: gap.end,
    scheduled_time: null,
    ingest_time: detectedAt.toISOString(),
    reason: gap.reason,
    gap_from_sequence: gap.fromSequence,
    gap_to_sequence: gap.toSequence,
    gap_from_trade_id: gap.fromTradeId,
    gap_to_trade_id: gap.toTradeId,
    gap_start: gap.start,
    gap_end: gap.end,
  };
}
