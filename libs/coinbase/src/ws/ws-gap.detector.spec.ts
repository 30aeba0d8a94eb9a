import { describe, expect, it } from 'vitest';
import { SequenceGapDetector } from './ws-gap.detector';

const T = (s: number) => `2026-11-27T00:00:${String(s).padStart(2, '0')}.000000Z`;

describe('SequenceGapDetector', () => {
  it('finds no gap in contiguous sequences, whatever the first number is', () => {
    const d = new SequenceGapDetector();
    expect(d.ticker('BTC-USD', 500, 50, T(1))).toEqual({ gap: null, late: false });
    expect(d.ticker('BTC-USD', 501, 51, T(2))).toEqual({ gap: null, late: false });
    expect(d.heartbeat('BTC-USD', 501, 51, T(3))).toEqual({ gap: null, late: false });
    expect(d.ticker('BTC-USD', 502, 52, T(4)).gap).toBeNull();
  });

  it('reports the skipped sequence and trade id range between two tickers', () => {
    const d = new SequenceGapDetector();
    d.ticker('BTC-USD', 10, 100, T(1));
    expect(d.ticker('BTC-USD', 14, 104, T(2)).gap).toEqual({
      productId: 'BTC-USD',
      reason: 'sequence_gap',
      fromSequence: 11,
      toSequence: 13,
      fromTradeId: 101,
      toTradeId: 103,
      start: T(1),
      end: T(2),
    });
  });

  it('lets a heartbeat reveal messages lost in a quiet market', () => {
    const d = new SequenceGapDetector();
    d.ticker('BTC-USD', 10, 100, T(1));
    const { gap } = d.heartbeat('BTC-USD', 12, 102, T(2));
    expect(gap).toMatchObject({ fromSequence: 11, toSequence: 12, fromTradeId: 101, toTradeId: 102 });
    expect(d.ticker('BTC-USD', 13, 103, T(3)).gap).toBeNull();
  });

  it('keeps products apart', () => {
    const d = new SequenceGapDetector();
    d.ticker('BTC-USD', 10, 100, T(1));
    d.ticker('ETH-USD', 900, 90, T(1));
    expect(d.ticker('ETH-USD', 901, 91, T(2)).gap).toBeNull();
    expect(d.ticker('BTC-USD', 11, 101, T(2)).gap).toBeNull();
  });

  it('flags a late message without moving the state back', () => {
    const d = new SequenceGapDetector();
    d.ticker('BTC-USD', 10, 100, T(1));
    expect(d.ticker('BTC-USD', 12, 102, T(2)).gap).toMatchObject({ fromSequence: 11, toSequence: 11 });
    expect(d.ticker('BTC-USD', 11, 101, T(2))).toEqual({ gap: null, late: true });
    expect(d.ticker('BTC-USD', 13, 103, T(3)).gap).toBeNull();
    expect(d.last('BTC-USD')).toMatchObject({ sequence: 13, tradeId: 103 });
  });

  it('with untrusted sequences, ignores sequence jumps and finds gaps from trade ids', () => {
    const d = new SequenceGapDetector(false);
    d.ticker('BTC-USD', 10, 100, T(1));
    expect(d.ticker('BTC-USD', 25, 101, T(2)).gap).toBeNull();
    expect(d.heartbeat('BTC-USD', 40, 101, T(3)).gap).toBeNull();
    expect(d.heartbeat('BTC-USD', 41, 104, T(4)).gap).toMatchObject({
      fromSequence: null,
      toSequence: null,
      fromTradeId: 102,
      toTradeId: 104,
    });
  });
});
