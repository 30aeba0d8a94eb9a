import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PriceTickSchema, recordId } from '@btc-etl/price-schema';
import { WsFeedParseError } from './ws-feed.errors';
import { feedGapToPriceTick, parseFeedMessage, wsTickerToPriceTick, type WsTickerMessage } from './ws-feed.mapper';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '__fixtures__', name), 'utf8');

describe('parseFeedMessage', () => {
  it('parses a captured-format ticker, heartbeat, match, last_match and subscriptions reply', () => {
    expect(parseFeedMessage(fixture('ticker.json'))).toMatchObject({
      type: 'ticker',
      sequence: 37475248783,
      trade_id: 86326522,
    });
    expect(parseFeedMessage(fixture('heartbeat.json'))).toMatchObject({
      type: 'heartbeat',
      sequence: 90,
      last_trade_id: 20,
    });
    expect(parseFeedMessage(fixture('subscriptions.json'))).toMatchObject({ type: 'subscriptions' });
    // a match keeps only what gap detection reads
    expect(parseFeedMessage(fixture('match.json'))).toEqual({
      type: 'match',
      trade_id: 86326523,
      sequence: 37475248790,
      product_id: 'BTC-USD',
      time: '2026-11-27T19:53:15.223456Z',
    });
    expect(parseFeedMessage(fixture('last_match.json'))).toMatchObject({ type: 'last_match', trade_id: 86326522 });
  });

  it('returns message types it does not handle as "other" instead of failing', () => {
    expect(parseFeedMessage('{"type":"status","products":[]}')).toEqual({ type: 'other', rawType: 'status' });
  });

  it('rejects every not-ok fixture with an error naming the field', () => {
    const dir = join(import.meta.dirname, '__fixtures__', 'not-ok');
    const expected: Record<string, string> = {
      'ticker-price-number.json': 'ticker.price',
      'ticker-no-sequence.json': 'ticker.sequence',
      'heartbeat-bad-time.json': 'heartbeat.time',
      'match-no-trade-id.json': 'match.trade_id',
    };
    const files = readdirSync(dir);
    expect(files.sort()).toEqual(Object.keys(expected).sort());
    for (const file of files) {
      const error = (() => {
        try {
          parseFeedMessage(readFileSync(join(dir, file), 'utf8'));
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(error, file).toBeInstanceOf(WsFeedParseError);
      expect((error as WsFeedParseError).detail, file).toContain(expected[file]);
    }
  });

  it('rejects text that is not JSON or has no type', () => {
    expect(() => parseFeedMessage('{oops')).toThrow(/not JSON/);
    expect(() => parseFeedMessage('[1,2]')).toThrow(/no "type"/);
  });
});

describe('wsTickerToPriceTick', () => {
  it('maps a ticker to a valid ok record keyed by its sequence', () => {
    const raw = parseFeedMessage(fixture('ticker.json')) as WsTickerMessage;
    const tick = wsTickerToPriceTick(raw, new Date('2026-11-27T19:53:15.200Z'));
    expect(PriceTickSchema.parse(tick)).toEqual(tick);
    expect(tick).toMatchObject({
      source: 'coinbase-ws-ticker',
      status: 'ok',
      price: '97123.45',
      bid: '97123.44',
      ask: '97123.45',
      volume_24h: '12345.67890000',
      trade_id: 86326522,
      sequence: 37475248783,
      exchange_time: '2026-11-27T19:53:15.123456Z',
      scheduled_time: null,
      ingest_time: '2026-11-27T19:53:15.200Z',
    });
    expect(tick.record_id).toBe(
      recordId({ productId: 'BTC-USD', source: 'coinbase-ws-ticker', sequence: 37475248783 }),
    );
  });
});

describe('feedGapToPriceTick', () => {
  it('makes a valid missed record carrying the missing range, with a stable id', () => {
    const gap = {
      productId: 'BTC-USD',
      reason: 'sequence_gap' as const,
      fromSequence: null,
      toSequence: null,
      fromTradeId: 3,
      toTradeId: 6,
      start: '2026-11-27T19:53:15.123456Z',
      end: '2026-11-27T19:53:16.000001Z',
      tradesLost: true,
    };
    const tick = feedGapToPriceTick(gap, new Date('2026-11-27T19:53:16.100Z'));
    expect(PriceTickSchema.parse(tick)).toEqual(tick);
    expect(tick).toMatchObject({
      status: 'missed',
      reason: 'sequence_gap',
      price: null,
      gap_from_sequence: null,
      gap_to_sequence: null,
      gap_from_trade_id: 3,
      gap_to_trade_id: 6,
    });
    expect(feedGapToPriceTick(gap, new Date()).record_id).toBe(tick.record_id);
    expect(feedGapToPriceTick({ ...gap, toTradeId: 7 }, new Date()).record_id).not.toBe(tick.record_id);
  });

  it('still reads raw data written before issue 14, false sequence_gap records included', () => {
    // ticker-sequence gaps were recorded as losses then; the schema keeps the reason so old lines stay readable
    const lines = fixture('raw-before-issue-14.ndjson').trim().split('\n');
    const ticks = lines.map((line) => PriceTickSchema.parse(JSON.parse(line)));
    expect(ticks.map((t) => t.reason)).toEqual([null, 'sequence_gap', null]);
    expect(ticks[1]).toMatchObject({ gap_from_sequence: 37475248784, gap_to_sequence: 37475248861 });
  });
});
