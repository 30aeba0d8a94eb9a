import { describe, expect, it } from 'vitest';
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
});
