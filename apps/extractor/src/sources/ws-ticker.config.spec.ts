import { describe, expect, it } from 'vitest';
import { catchError } from '@btc-etl/testing';
import { parseConfig } from '../extractor.config';
import { ConfigError } from '../extractor.errors';

describe('config of SOURCE=ws-ticker', () => {
  it('takes the feed URL (default the real feed) and --also-sample 1s', () => {
    const c = parseConfig(['--also-sample', '1s'], { SOURCE: 'ws-ticker', PRODUCTS: 'BTC-USD,ETH-USD' }, '/tmp');
    expect(c.COINBASE_WS_URL).toBe('wss://ws-feed.exchange.coinbase.com');
    expect(c.ALSO_SAMPLE).toBe(1_000);
    expect(
      parseConfig([], { SOURCE: 'ws-ticker', COINBASE_WS_URL: 'ws://127.0.0.1:9999' }, '/tmp').ALSO_SAMPLE,
    ).toBeUndefined();
  });

  it('does not apply the polling budget to a stream: 20 products are fine', () => {
    const products = Array.from({ length: 20 }, (_, i) => `C${i}-USD`).join(',');
    expect(parseConfig([], { SOURCE: 'ws-ticker', PRODUCTS: products }, '/tmp').PRODUCTS).toHaveLength(20);
  });

  it('names the variable of a bad value', () => {
    expect(() => parseConfig([], { SOURCE: 'ws-ticker', COINBASE_WS_URL: 'http://x' }, '/tmp')).toThrow(
      /COINBASE_WS_URL/,
    );
    expect(() => parseConfig(['--also-sample', 'often'], { SOURCE: 'ws-ticker' }, '/tmp')).toThrow(/ALSO_SAMPLE/);
    const e = (() => {
      try {
        parseConfig(['--also-sample', '1s'], {}, '/tmp');
      } catch (error) {
        return error;
      }
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).variable).toBe('ALSO_SAMPLE');
  });

  it('detects losses from the matches channel by default; none is the other mode right on the live feed', () => {
    expect(parseConfig([], { SOURCE: 'ws-ticker' }, '/tmp').WS_GAP_DETECTION).toBe('matches');
    expect(parseConfig(['--ws-gap-detection', 'none'], { SOURCE: 'ws-ticker' }, '/tmp').WS_GAP_DETECTION).toBe('none');
  });

  it.each([
    ['sequence', /^WS_GAP_DETECTION="sequence": removed: ticker sequence numbers and trade ids jump/],
    ['trade-id', /^WS_GAP_DETECTION="trade-id": removed: .*use matches or none/],
    ['both', /^WS_GAP_DETECTION="both": expected one of matches, none \(flag --ws-gap-detection\)/],
  ])('refuses WS_GAP_DETECTION=%s, naming the variable', (value, message) => {
    const error = catchError(
      () => parseConfig([], { SOURCE: 'ws-ticker', WS_GAP_DETECTION: value }, '/tmp'),
      ConfigError,
    );
    expect(error.variable).toBe('WS_GAP_DETECTION');
    expect(error.message).toMatch(message);
  });
});
