import { catchError } from '@btc-etl/testing';
import { describe, expect, it } from 'vitest';
import { ReconcileScopeError } from '../core/backup.errors';
import { resolveScope } from './reconcile.scope';

describe('resolveScope', () => {
  it('takes --prefix as given, and the whole bucket without flags', () => {
    expect(resolveScope({ prefix: 'raw/2026/11/' })).toEqual({ prefixes: ['raw/2026/11/'], label: 'raw/2026/11/' });
    expect(resolveScope({})).toEqual({ prefixes: [''], label: '' });
  });

  it.each([
    ['inside one hour', '2026-11-27T19:05:00Z', '2026-11-27T19:10:00Z', ['raw/2026/11/27/19/'], 'raw/2026/11/27/19/'],
    [
      '[from, to): an hour boundary as --to leaves that hour out',
      '2026-11-27T19:30:00Z',
      '2026-11-27T21:00:00Z',
      ['raw/2026/11/27/19/', 'raw/2026/11/27/20/'],
      'raw/2026/11/27/19/ .. raw/2026/11/27/20/ (2 hours)',
    ],
    [
      'across midnight and a month, with an offset',
      '2026-11-30T23:00:00Z',
      '2026-12-01T02:00:00+01:00',
      ['raw/2026/11/30/23/', 'raw/2026/12/01/00/'],
      'raw/2026/11/30/23/ .. raw/2026/12/01/00/ (2 hours)',
    ],
    [
      'bare dates are midnight UTC',
      '2026-11-27',
      '2026-11-28',
      24,
      'raw/2026/11/27/00/ .. raw/2026/11/27/23/ (24 hours)',
    ],
  ])('maps --from/--to %s to Firehose hour prefixes', (_, from, to, expected, label) => {
    const scope = resolveScope({ from, to });
    if (typeof expected === 'number') expect(scope.prefixes).toHaveLength(expected);
    else expect(scope.prefixes).toEqual(expected);
    expect(scope.label).toBe(label);
  });

  it.each([
    [{ prefix: '../etc/' }, '--prefix', /safe object key/],
    [{ prefix: 'raw/', from: '2026-11-27T00:00:00Z', to: '2026-11-28T00:00:00Z' }, '--prefix', /cannot be combined/],
    [{ from: '2026-11-27T00:00:00Z' }, '--to', /--from needs --to/],
    [{ to: '2026-11-27T00:00:00Z' }, '--from', /--to needs --from/],
    [{ from: '2026-02-31T00:00:00Z', to: '2026-03-02T00:00:00Z' }, '--from', /not an ISO date/],
    [{ from: '2026-11-27T24:00:00Z', to: '2026-11-28T01:00:00Z' }, '--from', /not an ISO date/],
    [{ from: '2026-11-27T19:00:00', to: '2026-11-28T00:00:00Z' }, '--from', /with a zone/],
    [{ from: 'yesterday', to: '2026-11-28T00:00:00Z' }, '--from', /not an ISO date/],
    [{ from: '2026-11-28T00:00:00Z', to: '2026-11-27T00:00:00Z' }, '--to', /must be after --from/],
    [{ from: '2026-11-27T00:00:00Z', to: '2026-11-27T00:00:00Z' }, '--to', /must be after --from/],
    [{ from: '2020-01-01', to: '2026-01-01' }, '--from', /more than the \d+ allowed/],
  ])('refuses %j naming %s', (flags, flag, message) => {
    const error = catchError(() => resolveScope(flags), ReconcileScopeError);
    expect(error.flag).toBe(flag);
    expect(error.message).toMatch(message);
  });
});
