import { describe, expect, it } from 'vitest';
import { QueryInputError } from '../query.errors';
import { QUERY_ENV_VARIABLES } from '../config/query.config';
import { USAGE, parseCli } from './cli.args';
import { formatRows } from './output.format';

const NOW = Date.parse('2026-11-27T12:00:00.700Z');
const fail = (argv: string[]) => {
  try {
    parseCli(argv, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(QueryInputError);
    return (error as QueryInputError).message;
  }
  throw new Error('expected a QueryInputError');
};

describe('parseCli', () => {
  it('parses the issue example', () => {
    const cmd = parseCli(
      [
        'ohlc',
        '--product',
        'BTC-USD',
        '--interval',
        '1m',
        '--from',
        '2026-11-27T00:00:00Z',
        '--to',
        '2026-11-27T01:00:00Z',
        '--engine',
        'local',
        '--format',
        'json',
        '--out',
        'candles.json',
      ],
      NOW,
    );
    expect(cmd).toEqual({
      kind: 'query',
      query: 'ohlc',
      params: {
        product: 'BTC-USD',
        interval: '1m',
        from: Date.parse('2026-11-27T00:00:00Z') / 1000,
        to: Date.parse('2026-11-27T01:00:00Z') / 1000,
      },
      engine: 'local',
      format: 'json',
      out: 'candles.json',
    });
  });

  it('defaults --to to now (whole second) and --from to the query span', () => {
    const cmd = parseCli(['latest'], NOW);
    expect(cmd).toMatchObject({
      params: {
        product: '*',
        to: Date.parse('2026-11-27T12:00:00Z') / 1000,
        from: Date.parse('2026-11-26T12:00:00Z') / 1000,
        now: Date.parse('2026-11-27T12:00:00Z') / 1000,
      },
    });
  });

  it('names the flag at fault', () => {
    expect(fail(['ohlc', '--product', 'btc', '--interval', '1m'])).toMatch(
      /^--product: expected a Coinbase product id/,
    );
    expect(fail(['ohlc', '--product', 'BTC-USD', '--interval', '2m'])).toMatch(
      /^--interval: expected one of 1m, 5m, 15m, 1h, 1d/,
    );
    expect(
      fail([
        'ohlc',
        '--product',
        'BTC-USD',
        '--interval',
        '1m',
        '--from',
        '2026-11-28T00:00:00Z',
        '--to',
        '2026-11-27T00:00:00Z',
      ]),
    ).toMatch(/^--from: from must be before to/);
    expect(fail(['ohlc', '--product', 'BTC-USD', '--interval', '1m', '--from', '2020-01-01T00:00:00Z'])).toMatch(
      /^--to: the range is longer than 400 days/,
    );
    expect(fail(['gaps', '--product', 'BTC-USD', '--from', '2026-09-01T00:00:00Z'])).toMatch(/longer than 31 days/);
    expect(fail(['ohlc', '--interval', '1m'])).toBe('--product: is required');
    expect(fail(['ohlc', '--product', 'BTC-USD', '--interval', '1m', '--from', 'yesterday'])).toMatch(
      /^--from: expected an ISO-8601/,
    );
    expect(fail(['ohlc', '--product', 'BTC-USD', '--interval', '1m', '--from', '2026-11-27T00:00:00.5Z'])).toMatch(
      /^--from/,
    );
    expect(fail(['ohlc', '--product', 'BTC-USD', '--interval', '1m', '--engine', 'spark'])).toMatch(
      /^--engine: expected one of local, athena/,
    );
    expect(fail(['ohlc', '--product', 'BTC-USD', '--interval', '1m', '--format', 'xml'])).toMatch(/^--format/);
    expect(fail(['latest', '--interval', '1m'])).toMatch(/^--interval: not a flag of latest/);
    expect(fail(['candles'])).toMatch(/^command: expected one of latest, ohlc/);
    expect(fail(['ohlc', '--bogus'])).toMatch(/Unknown option '--bogus'/);
    expect(fail(['ohlc', '--product', 'BTC-USD', '--interval', '1m', '--late-slack=-5'])).toMatch(/^--late-slack/);
    expect(fail(['ohlc', '--product', 'BTC-USD', '--interval', '1m', '--layer', 'gold'])).toMatch(
      /^--layer: expected one of auto, raw, silver/,
    );
  });

  it.each(['auto', 'raw', 'silver'] as const)('takes --layer %s', (layer) => {
    expect(parseCli(['latest', '--layer', layer], NOW)).toMatchObject({ kind: 'query', layer });
  });

  it('leaves the layer to QUERY_LAYER when --layer is not given', () => {
    expect(parseCli(['latest'], NOW)).not.toHaveProperty('layer');
  });
});

describe('USAGE', () => {
  it('names every environment variable the config reads', () => {
    expect(QUERY_ENV_VARIABLES.filter((name) => !new RegExp(`\\b${name}\\b`).test(USAGE))).toEqual([]);
  });

  it('gives bucket defaults for the local store only', () => {
    expect(USAGE).toContain('RAW_BUCKET BACKUP_BUCKET SILVER_BUCKET  required with OBJECT_STORE=s3');
    expect(USAGE).toContain('the local store defaults to btc-etl-raw, btc-etl-backup, btc-etl-silver');
    expect(USAGE).not.toMatch(/RAW_BUCKET \(btc-etl-raw\)/);
  });
});

describe('formatRows', () => {
  const columns = [
    { name: 'reason', type: 'string' as const },
    { name: 'seconds', type: 'integer' as const },
  ];
  const rows = [
    { reason: 'a, "b"', seconds: 12 },
    { reason: 'timeout', seconds: null },
  ];
  it('writes RFC 4180 CSV', () => {
    expect(formatRows(rows, columns, 'csv')).toBe('reason,seconds\n"a, ""b""",12\ntimeout,\n');
  });
  it('aligns a table, numbers to the right', () => {
    expect(formatRows(rows, columns, 'table')).toBe(
      'reason   seconds\n-------  -------\na, "b"        12\ntimeout\n(2 rows)\n',
    );
  });
  it('writes JSON in column order', () => {
    expect(JSON.parse(formatRows(rows, columns, 'json'))).toEqual(rows);
  });
});
