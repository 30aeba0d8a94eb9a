import { describe, expect, it } from 'vitest';
import { TradeGapDetector } from './ws-gap.detector';

const T = (s: number) => `2026-11-27T00:00:${String(s).padStart(2, '0')}.000000Z`;
const GRACE = 1_000;

describe('TradeGapDetector', () => {
  it('finds nothing in contiguous trade ids, whatever the first one is, and in heartbeats that agree', () => {
    const d = new TradeGapDetector(GRACE);
    expect(d.match('BTC-USD', 500, T(1), 0)).toEqual({ late: false });
    expect(d.match('BTC-USD', 501, T(2), 10)).toEqual({ late: false });
    d.heartbeat('BTC-USD', 501, T(3), 20);
    d.match('BTC-USD', 502, T(4), 30);
    expect(d.due(1e9)).toEqual([]);
    expect(d.pendingHoles).toBe(0);
  });

  it('reports a jump in trade ids after the grace, with the exact range and span', () => {
    const d = new TradeGapDetector(GRACE);
    d.match('BTC-USD', 100, T(1), 0);
    d.match('BTC-USD', 104, T(2), 50);
    expect(d.due(50 + GRACE - 1)).toEqual([]);
    expect(d.due(50 + GRACE)).toEqual([
      {
        productId: 'BTC-USD',
        reason: 'sequence_gap',
        fromSequence: null,
        toSequence: null,
        fromTradeId: 101,
        toTradeId: 103,
        start: T(1),
        end: T(2),
        tradesLost: true,
      },
    ]);
    expect(d.due(1e9)).toEqual([]);
  });

  it('lets out-of-order matches inside the grace shrink or cancel the hole', () => {
    const d = new TradeGapDetector(GRACE);
    d.match('BTC-USD', 10, T(1), 0);
    d.match('BTC-USD', 12, T(2), 0);
    expect(d.match('BTC-USD', 11, T(2), 5)).toEqual({ late: false });
    d.match('BTC-USD', 16, T(3), 10);
    d.match('BTC-USD', 14, T(3), 20); // splits 13..15 into 13 and 15
    expect(d.due(1e9).map((g) => [g.fromTradeId, g.toTradeId])).toEqual([
      [13, 13],
      [15, 15],
    ]);
    // a repeat, or a straggler after its hole was reported, is late and changes nothing
    expect(d.match('BTC-USD', 13, T(4), 2e9)).toEqual({ late: true });
    expect(d.match('BTC-USD', 16, T(4), 2e9)).toEqual({ late: true });
    expect(d.last('BTC-USD')).toEqual({ tradeId: 16, time: T(3) });
  });

  it('lets a heartbeat reveal trades lost in a quiet market, after a grace for matches still in flight', () => {
    const d = new TradeGapDetector(GRACE);
    d.match('BTC-USD', 100, T(1), 0);
    // the heartbeat overtook the match of trade 101: it arrives inside the grace, no gap
    d.heartbeat('BTC-USD', 101, T(2), 100);
    d.match('BTC-USD', 101, T(2), 150);
    expect(d.due(1e9)).toEqual([]);
    // trades 102 and 103 never come
    d.heartbeat('BTC-USD', 103, T(3), 2_000);
    expect(d.due(2_000 + GRACE - 1)).toEqual([]);
    expect(d.due(2_000 + GRACE)).toEqual([
      expect.objectContaining({ fromTradeId: 102, toTradeId: 103, start: T(2), end: T(3) }),
    ]);
    // later matches continue from there without a second report
    d.match('BTC-USD', 104, T(4), 4_000);
    expect(d.due(1e9)).toEqual([]);
  });

  it('keeps products apart', () => {
    const d = new TradeGapDetector(GRACE);
    d.match('BTC-USD', 10, T(1), 0);
    d.match('ETH-USD', 900, T(1), 0);
    d.match('ETH-USD', 901, T(2), 0);
    d.match('BTC-USD', 12, T(2), 0);
    expect(d.due(1e9).map((g) => [g.productId, g.fromTradeId, g.toTradeId])).toEqual([['BTC-USD', 11, 11]]);
  });

  it('turns the jump over an outage into its range once, and flush reports what is pending at once', () => {
    const d = new TradeGapDetector(GRACE);
    expect(d.resume('BTC-USD', 50, T(1))).toEqual({ lost: null, known: false });
    d.match('BTC-USD', 51, T(2), 0);
    d.match('BTC-USD', 53, T(3), 0);
    expect(d.flush().map((g) => [g.fromTradeId, g.toTradeId])).toEqual([[52, 52]]);
    expect(d.resume('BTC-USD', 60, T(9))).toEqual({ lost: { fromTradeId: 54, toTradeId: 60 }, known: true });
    // a quiet outage: the first word after it repeats the last trade
    expect(d.resume('BTC-USD', 60, T(9))).toEqual({ lost: null, known: true });
    d.match('BTC-USD', 61, T(10), 0);
    expect(d.due(1e9)).toEqual([]);
  });

  it('never lets a span run backwards when exchange clocks disagree', () => {
    const d = new TradeGapDetector(0);
    d.match('BTC-USD', 1, T(5), 0);
    d.match('BTC-USD', 3, T(4), 0);
    expect(d.due(0)[0]).toMatchObject({ start: T(5), end: T(5) });
  });
});
