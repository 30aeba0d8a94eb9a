import type { FeedGap } from './ws-feed.mapper';

/** What the detector made of one message. */
export interface GapVerdict {
  /** Messages that were skipped before this one, if any. */
  gap: FeedGap | null;
  /** The message's sequence is not above the last one seen: a late (out-of-order) or repeated message. */
  late: boolean;
}

interface ProductState {
  lastSequence: number | null;
  lastTradeId: number | null;
  /** ISO time of the last message (exchange time), the start of any gap found next. */
  lastTime: string | null;
}

/**
 * Per-product gap detection over the Exchange feed's sequence numbers and trade ids. Sequence numbers rise by
 * exactly one per message of a product; a heartbeat reports the latest sequence and `last_trade_id` without taking
 * a number itself, so during a quiet market it still reveals messages that never arrived.
 *
 * Pure state machine, no timers: the client feeds it messages in arrival order and turns gaps into records.
 * State survives reconnects on purpose: the jump over a disconnect is found by the first message after it.
 */
export class SequenceGapDetector {
  private readonly products = new Map<string, ProductState>();

  /**
   * @param trustSequences false when the subscription's sequence numbers are not contiguous: the live Exchange
   * ticker channel numbers every order-book message of the product, so ticker-only subscribers may see jumps that
   * are not losses. Gaps are then found from trade ids alone (heartbeat `last_trade_id` above the last trade seen).
   */
  constructor(private readonly trustSequences = true) {}

  private state(productId: string): ProductState {
    let s = this.products.get(productId);
    if (!s) {
      s = { lastSequence: null, lastTradeId: null, lastTime: null };
      this.products.set(productId, s);
    }
    return s;
  }

  /** The last sequence and trade id seen for a product (null before its first message). */
  last(productId: string): { sequence: number | null; tradeId: number | null; time: string | null } {
    const s = this.state(productId);
    return { sequence: s.lastSequence, tradeId: s.lastTradeId, time: s.lastTime };
  }

  /** A ticker: sequence `sequence`, trade `tradeId`, exchange time `time`. */
  ticker(productId: string, sequence: number, tradeId: number, time: string): GapVerdict {
    const s = this.state(productId);
    if (s.lastSequence !== null && sequence <= s.lastSequence) {
      // a late message fills part of a gap already recorded; it is kept as data but moves nothing back
      if (s.lastTradeId === null || tradeId > s.lastTradeId) s.lastTradeId = tradeId;
      return { gap: null, late: true };
    }
    let gap: FeedGap | null = null;
    const seqJump = this.trustSequences && s.lastSequence !== null && sequence > s.lastSequence + 1;
    const tradeJump = !this.trustSequences && s.lastTradeId !== null && tradeId > s.lastTradeId + 1;
    if (seqJump || tradeJump) {
      gap = {
        productId,
        reason: 'sequence_gap',
        fromSequence: seqJump ? (s.lastSequence as number) + 1 : null,
        toSequence: seqJump ? sequence - 1 : null,
        // trade ids skipped too; the ticker channel can batch cascading matches, so this range is an upper bound
        fromTradeId: s.lastTradeId !== null && tradeId > s.lastTradeId + 1 ? s.lastTradeId + 1 : null,
        toTradeId: s.lastTradeId !== null && tradeId > s.lastTradeId + 1 ? tradeId - 1 : null,
        start: s.lastTime ?? time,
        end: time,
      };
    }
    s.lastSequence = sequence;
    if (s.lastTradeId === null || tradeId > s.lastTradeId) s.lastTradeId = tradeId;
    s.lastTime = time;
    return { gap, late: false };
  }

  /** A heartbeat: the product's latest `sequence` and `lastTradeId` as of `time`. */
  heartbeat(productId: string, sequence: number, lastTradeId: number, time: string): GapVerdict {
    const s = this.state(productId);
    if (s.lastSequence !== null && sequence < s.lastSequence) return { gap: null, late: true };
    let gap: FeedGap | null = null;
    const missedSeq = this.trustSequences && s.lastSequence !== null && sequence > s.lastSequence;
    const missedTrades = s.lastTradeId !== null && lastTradeId > s.lastTradeId;
    if (missedSeq || missedTrades) {
      gap = {
        productId,
        reason: 'sequence_gap',
        fromSequence: missedSeq ? (s.lastSequence as number) + 1 : null,
        toSequence: missedSeq ? sequence : null,
        fromTradeId: missedTrades ? (s.lastTradeId as number) + 1 : null,
        toTradeId: missedTrades ? lastTradeId : null,
        start: s.lastTime ?? time,
        end: time,
      };
    }
    s.lastSequence = sequence;
    s.lastTradeId = s.lastTradeId === null ? lastTradeId : Math.max(s.lastTradeId, lastTradeId);
    s.lastTime = time;
    return { gap, late: false };
  }
}
