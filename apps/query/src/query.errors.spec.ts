import { DataError } from '@btc-etl/errors';
import { describe, expect, it } from 'vitest';
import {
  AthenaQueryError,
  AthenaResultError,
  ObjectReadError,
  QueryConfigError,
  QueryError,
  QueryInputError,
} from './query.errors';

describe('query errors', () => {
  it('are DataErrors with their class name, their facts in data and the messages the CLI prints', () => {
    const cause = new Error('socket hang up');
    const cases: [QueryError, string, Record<string, unknown>, string][] = [
      [
        new QueryInputError('--interval', '7m', 'expected one of 1m, 5m'),
        'QueryInputError',
        { field: '--interval', value: '7m', reason: 'expected one of 1m, 5m' },
        '--interval: expected one of 1m, 5m (got "7m")',
      ],
      [
        new QueryConfigError([
          { field: 'RAW_BUCKET', value: undefined, reason: 'is required' },
          { field: 'PORT', value: 'x', reason: 'not a number' },
        ]),
        'QueryConfigError',
        {
          issues: [
            { field: 'RAW_BUCKET', value: undefined, reason: 'is required' },
            { field: 'PORT', value: 'x', reason: 'not a number' },
          ],
        },
        'RAW_BUCKET: is required; PORT: not a number (got "x")',
      ],
      [
        new AthenaQueryError('q-1', 'FAILED', 'TABLE_NOT_FOUND'),
        'AthenaQueryError',
        { queryExecutionId: 'q-1', state: 'FAILED', reason: 'TABLE_NOT_FOUND' },
        'Athena query q-1 FAILED: TABLE_NOT_FOUND',
      ],
      [
        new AthenaResultError('age_s', 'soon', 'not an integer'),
        'AthenaResultError',
        { column: 'age_s', value: 'soon', reason: 'not an integer' },
        'Athena result column age_s: not an integer (got "soon")',
      ],
      [
        new ObjectReadError('raw', 'raw/2026/x', 'cannot open: socket hang up', { cause }),
        'ObjectReadError',
        { bucket: 'raw', key: 'raw/2026/x', reason: 'cannot open: socket hang up' },
        's3://raw/raw/2026/x: cannot open: socket hang up',
      ],
    ];
    for (const [error, name, data, message] of cases) {
      expect(error).toBeInstanceOf(DataError);
      expect(error).toBeInstanceOf(QueryError);
      expect(error.name).toBe(name);
      expect(error.data).toEqual(data);
      expect(error.message).toBe(message);
    }
    expect(cases[4]?.[0].cause).toBe(cause);
  });
});
