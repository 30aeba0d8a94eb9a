import { describe, expect, it } from 'vitest';
import { QueryInputError } from '../query.errors';
import { loadConfig } from './query.config';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config.RAW_BUCKET).toBe('btc-etl-raw');
    expect(config.RAW_PREFIX).toBe('raw/');
    expect(config.SILVER_BUCKET).toBe('btc-etl-silver');
    expect(config.QUERY_LAYER).toBe('auto');
  });

  it('refuses an unknown QUERY_LAYER and names it', () => {
    expect(() => loadConfig({ QUERY_LAYER: 'gold' })).toThrow(/QUERY_LAYER/);
  });

  it.each(['', 'raw/', 'bronze/ticks/'])('accepts RAW_PREFIX %j', (prefix) => {
    expect(loadConfig({ RAW_PREFIX: prefix }).RAW_PREFIX).toBe(prefix || 'raw/');
  });

  it.each(['../../secret/', 'raw/../../', 'raw//', '%2e%2e/', 'raw', '/abs/'])(
    'refuses RAW_PREFIX %j and names it',
    (prefix) => {
      let error: unknown;
      try {
        loadConfig({ RAW_PREFIX: prefix });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(QueryInputError);
      expect((error as Error).message).toContain('RAW_PREFIX');
    },
  );
});
