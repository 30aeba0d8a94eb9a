import { describe, expect, it } from 'vitest';
import { QueryInputError } from '../query.errors';
import { loadConfig } from './query.config';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config.RAW_BUCKET).toBe('btc-etl-raw');
    expect(config.RAW_PREFIX).toBe('raw/');
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
