import type { FeedGap } from './ws-feed.mapper';

/** A run of trade ids not seen yet, waiting out the grace before it becomes a gap. */
interface Hole {
  from: number;
  to: number;
  /** Exchange time of the last trade known before the hole (the gap's start). */
  start: string;
  /** Exchange time of the message that revealed the hole (the gap's end). */
  end: string;
  dueAtMs: number;
}

interface ProductState {
  /** Highest trade id accounted for: seen in `matches`, or announced by a heartbeat (then its hole is pending). */
  lastTradeId: number | null;
  /** Exchange time of the last trade or heartbeat that moved `lastTradeId`. */
  lastTime: string | null;
  holes: Hole[];
}

/** What the detector made of one match. */
export interface MatchVerdict {
  /** The trade id is at or below the last one accounted for and fills no pending hole: a repeat or a straggler. */
  late: boolean;
}

/**
 * Per-product gap detection over the `matches` channel, the one channel of Coinbase Exchange whose numbers have no
 * holes in normal operation: trade ids are contiguous per product (shared/REFERENCE.md). Ticker sequence numbers
 * count every order-book message and ticker trade ids skip batched cascades, so neither says anything about loss.
 *
 * - a match whose trade id jumps past the last one opens a hole: the exact trade ids skipped;
 * - a heartbeat whose `last_trade_id` runs past the last match seen opens a hole up to it (a quiet market that
 *   lost its last trades);
 * - a hole waits `graceMs` for in-flight or out-of-order matches to fill it (each arrival splits it); what is
 *   left when the grace ends is a `sequence_gap` with its trade-id range and time span.
 *
 * Pure state machine: the caller feeds messages with their receipt time and asks for {@link due} gaps on its own
 * timer. State survives reconnects on purpose: {@link resume} turns the jump over an outage into its range.
 */
export class TradeGapDetector {
  private readonly products = new Map<string, ProductState>();
  private holes = 0;

  /** @param graceMs how long a hole may wait for its trades before it is reported. */
  constructor(private readonly graceMs: number) {}

  private state(productId: string): ProductState {
    let s = this.products.get(productId);
    if (!s) {
      s = { lastTradeId: null, lastTime: null, holes: [] };
      this.products.set(productId, s);
    }
    return s;
  }

  /** The highest trade id accounted for and the exchange time that came with it (null before the first). */
  last(productId: string): { tradeId: number | null; time: string | null } {
    const s = this.state(productId);
    return { tradeId: s.lastTradeId, time: s.lastTime };
  }

  /** Holes waiting out their grace, over all products. */
  get pendingHoles(): number {
    return this.holes;
  }

  /** A `match` or `last_match` with trade id `tradeId` at exchange time `time`, received at `nowMs`. */
  match(productId: string, tradeId: number, time: string, nowMs: number): MatchVerdict {
    const s = this.state(productId);
    if (s.lastTradeId === null) {
      s.lastTradeId = tradeId;
      s.lastTime = time;
      return { late: false };
    }
    if (tradeId > s.lastTradeId) {
      if (tradeId > s.lastTradeId + 1) this.open(s, s.lastTradeId + 1, tradeId - 1, time, nowMs);
      s.lastTradeId = tradeId;
      s.lastTime = time;
      return { late: false };
    }
    return { late: !this.fill(s, tradeId) };
  }

  /** A heartbeat announcing `lastTradeId` as the product's latest trade at exchange time `time`. */
  heartbeat(productId: string, lastTradeId: number, time: string, nowMs: number): void {
    const s = this.state(productId);
    if (s.lastTradeId === null) {
      s.lastTradeId = lastTradeId;
      s.lastTime = time;
      return;
    }
    if (lastTradeId <= s.lastTradeId) return;
    this.open(s, s.lastTradeId + 1, lastTradeId, time, nowMs);
    s.lastTradeId = lastTradeId;
    s.lastTime = time;
  }

  /**
   * The first word from a product after an outage: trade ids above the last one accounted for, up to `upTo`, were
   * missed while disconnected. Returns that range (null when nothing was missed, or nothing was known before:
   * `known` tells which) and moves the state past it, so the outage is reported once, as an outage, not as a gap.
   * Also the plain "latest trade is at least `upTo`" update where no hole detection runs (gap detection `none`).
   */
  resume(
    productId: string,
    upTo: number,
    time: string,
  ): { lost: { fromTradeId: number; toTradeId: number } | null; known: boolean } {
    const s = this.state(productId);
    const before = s.lastTradeId;
    if (before === null || upTo > before) {
      s.lastTradeId = upTo;
      s.lastTime = time;
    }
    const lost = before !== null && upTo > before ? { fromTradeId: before + 1, toTradeId: upTo } : null;
    return { lost, known: before !== null };
  }

  /** Holes whose grace has run out by `nowMs`: each one a `sequence_gap`, in the order they were found. */
  due(nowMs: number): FeedGap[] {
    if (this.holes === 0) return [];
    const gaps: FeedGap[] = [];
    for (const [productId, s] of this.products) {
      if (s.holes.length === 0) continue;
      const keep: Hole[] = [];
      for (const h of s.holes) {
        if (h.dueAtMs <= nowMs) gaps.push(toGap(productId, h));
        else keep.push(h);
      }
      this.holes -= s.holes.length - keep.length;
      s.holes = keep;
    }
    return gaps;
  }

  /** Every pending hole now, grace or not (the connection is going away: nothing more will fill them). */
  flush(): FeedGap[] {
    return this.due(Number.POSITIVE_INFINITY);
  }

  private open(s: ProductState, from: number, to: number, end: string, nowMs: number): void {
    s.holes.push({ from, to, start: s.lastTime ?? end, end, dueAtMs: nowMs + this.graceMs });
    this.holes += 1;
  }

  /** A trade id inside a pending hole: the hole shrinks or splits. False when no hole holds it. */
  private fill(s: ProductState, tradeId: number): boolean {
    const i = s.holes.findIndex((h) => tradeId >= h.from && tradeId <= h.to);
    if (i < 0) return false;
    const h = s.holes[i] as Hole;
    const parts: Hole[] = [];
    if (h.from < tradeId) parts.push({ ...h, to: tradeId - 1 });
    if (tradeId < h.to) parts.push({ ...h, from: tradeId + 1 });
    s.holes.splice(i, 1, ...parts);
    this.holes += parts.length - 1;
    return true;
  }
}

function toGap(productId: string, h: Hole): FeedGap {
  return {
    productId,
    reason: 'sequence_gap',
    // ticker and match sequences count order-book messages this client never subscribes to: no loss in them
    fromSequence: null,
    toSequence: null,
    fromTradeId: h.from,
    toTradeId: h.to,
    start: h.start,
    // exchange clocks are not monotonic; a span never runs backwards
    end: Date.parse(h.end) < Date.parse(h.start) ? h.start : h.end,
    tradesLost: true,
  };
}
