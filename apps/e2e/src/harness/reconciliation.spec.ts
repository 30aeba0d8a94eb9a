import { describe, expect, it } from 'vitest';
import { type PriceTick } from '@btc-etl/price-schema';
import { missedTick, okTick } from '@btc-etl/price-schema/testing';
import { expectedGaps, expectedOutcome, reconcile, type LoggedRequest, type ReconcileInput } from './reconciliation';

const T0 = Date.parse('2026-11-27T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

/** Five due seconds of BTC-USD: four ok, one 429, as the pipeline would store them, and what the query says. */
function consistent(): ReconcileInput {
  const records: PriceTick[] = [0, 1, 2, 4].map((s) =>
    okTick({ scheduled_time: at(s), exchange_time: at(s), price: `${97000 + s}.00` }),
  );
  records.push(missedTick('http_429', { scheduled_time: at(3) }));
  const requests: LoggedRequest[] = [0, 1, 2, 3, 4].map((s) => ({
    productId: 'BTC-USD',
    receivedAt: T0 + s * 1000 + 5,
    answeredAt: T0 + s * 1000 + 20,
    fault: s === 3 ? 'rate-limit' : null,
    faultStatus: null,
    delayMs: 10,
    price: s === 3 ? null : `${97000 + s}.00`,
  }));
  const objects = [{ key: 'raw/2026/11/27/10/s-1-2026-11-27-10-00-01-x', etag: 'e1', size: 100 }];
  const from = T0 / 1000 - 2;
  const to = T0 / 1000 + 8;
  return {
    products: ['BTC-USD'],
    intervalMs: 1000,
    runs: [
      {
        startMs: T0 - 300,
        endMs: T0 + 4500,
        ending: 'sigterm',
        lastScrape: { at: T0 + 4200, dueByProduct: { 'BTC-USD': 5 } },
      },
    ],
    raw: { records, objects },
    backup: { records: [...records], objects: [...objects] },
    queryRange: { from, to },
    query: {
      'BTC-USD': {
        raw: {
          gaps: expectedGaps(records, 'BTC-USD', from, to),
          ohlc: [{ bucket_start: at(0), ticks: 4, high: '97004.00', low: '97000.00' }],
        },
        backup: {
          gaps: expectedGaps(records, 'BTC-USD', from, to),
          ohlc: [{ bucket_start: at(0), ticks: 4, high: '97004.00', low: '97000.00' }],
        },
      },
    },
    requests,
    requestTimeoutMs: 2500,
  };
}

describe('reconcile', () => {
  it('finds nothing wrong with a consistent pipeline, and counts every stage', () => {
    const report = reconcile(consistent());
    expect(report.violations).toEqual([]);
    expect(report.perProduct[0]).toMatchObject({
      due: 5,
      rawDistinct: 5,
      ok: 4,
      missed: { http_429: 1 },
      backupDistinct: 5,
      queryOkRaw: 4,
      queryMissedRaw: 1,
      metricsDue: 5,
    });
  });

  it('tolerates at-least-once duplicates in raw (same record_id, same content) and counts them', () => {
    const input = consistent();
    const dup = input.raw.records[0] as PriceTick;
    const report = reconcile({ ...input, raw: { ...input.raw, records: [...input.raw.records, dup] } });
    expect(report.violations).toEqual([]);
    expect(report.rawDuplicates).toBe(1);
  });

  it('reports a due tick lost before raw', () => {
    const input = consistent();
    const lost = input.raw.records.filter((r) => r.scheduled_time !== at(2));
    const report = reconcile({ ...input, raw: { ...input.raw, records: lost } });
    expect(report.violations.join('\n')).toMatch(/10:00:02Z: a due tick has no record in raw/);
    expect(report.violations.join('\n')).toMatch(/in backup but not in raw/);
  });

  it('reports a record or an object missing from backup', () => {
    const input = consistent();
    const report = reconcile({ ...input, backup: { records: input.backup.records.slice(1), objects: [] } });
    expect(report.violations.join('\n')).toMatch(/is in raw but not in backup/);
    expect(report.violations.join('\n')).toMatch(/raw object .* is not in backup/);
  });

  it('reports a miss whose reason does not match the fault the fake injected, and a changed price', () => {
    const input = consistent();
    const records = input.raw.records.map((r) =>
      r.scheduled_time === at(3)
        ? { ...r, reason: 'http_5xx' as const }
        : r.scheduled_time === at(1)
          ? { ...r, price: '1.00' }
          : r,
    );
    const report = reconcile({ ...input, raw: { ...input.raw, records }, backup: { ...input.backup, records } });
    expect(report.violations.join('\n')).toMatch(/rate-limit .* should give http_429, raw holds http_5xx/);
    expect(report.violations.join('\n')).toMatch(/price 1.00 in raw, the fake served 97001.00/);
  });

  it('reports query answers that disagree with the records', () => {
    const input = consistent();
    const q = input.query['BTC-USD'];
    if (!q) throw new Error('fixture');
    const report = reconcile({
      ...input,
      query: {
        'BTC-USD': {
          raw: { gaps: [], ohlc: q.raw.ohlc },
          backup: { gaps: q.backup.gaps, ohlc: [{ ...q.backup.ohlc[0], ticks: 3 } as (typeof q.backup.ohlc)[0]] },
        },
      },
    });
    expect(report.violations.join('\n')).toMatch(/query gaps over raw/);
    expect(report.violations.join('\n')).toMatch(/query ohlc over backup counts 3 ok ticks, raw holds 4/);
  });

  it('reports a record for a second that was never due, and more due ticks than the extractor counted', () => {
    const input = consistent();
    const extra = okTick({ scheduled_time: at(30), price: '1.00' });
    const records = [...input.raw.records, extra];
    const report = reconcile({
      ...input,
      raw: { ...input.raw, records },
      backup: { ...input.backup, records },
      runs: [
        {
          ...(input.runs[0] as ReconcileInput['runs'][0]),
          lastScrape: { at: T0 + 4400, dueByProduct: { 'BTC-USD': 2 } },
        },
      ],
    });
    expect(report.violations.join('\n')).toMatch(/10:00:30Z: a record for a second that was never due/);
    expect(report.violations.join('\n')).toMatch(/raw holds 5 due ticks, the extractor counted 2/);
  });
});

describe('reconcile with the silver layer', () => {
  /**
   * The consistent pipeline, compacted: each record once in its event-hour partition, the query over silver agreeing.
   */
  function compacted(): ReconcileInput {
    const input = consistent();
    const q = input.query['BTC-USD'];
    if (!q) throw new Error('fixture');
    const records = [...input.raw.records];
    const partitions = records.map(() => ({ productId: 'BTC-USD', hourSec: T0 / 1000 }));
    return { ...input, silver: { records, partitions }, query: { 'BTC-USD': { ...q, silver: q.raw } } };
  }
  const violations = (input: ReconcileInput) => reconcile(input).violations.join('\n');

  it('finds nothing wrong, and counts silver next to raw and backup', () => {
    const report = reconcile(compacted());
    expect(report.violations).toEqual([]);
    expect(report.perProduct[0]).toMatchObject({ silverDistinct: 5, queryOkSilver: 4, queryMissedSilver: 1 });
    expect(report.silverRecords).toBe(5);
  });

  it('reports a record silver lost, one it holds twice, one it changed, and one in the wrong partition', () => {
    const input = compacted();
    const silver = input.silver as NonNullable<ReconcileInput['silver']>;
    const [first, second, third] = silver.records as PriceTick[];
    const records = [first, first, { ...(second as PriceTick), price: '97001.0' }, third] as PriceTick[];
    const partitions = [
      ...silver.partitions.slice(0, 3),
      { productId: 'BTC-USD', hourSec: T0 / 1000 + 3600 },
    ] as NonNullable<ReconcileInput['silver']>['partitions'];
    const text = violations({ ...input, silver: { records, partitions } });
    expect(text).toMatch(/is in silver more than once/);
    expect(text).toMatch(/differs in silver: .*"price":"97001.0"/);
    expect(text).toMatch(/is in partition BTC-USD 2026-11-27T11:00:00Z/);
    expect(text).toMatch(/is in raw but not in silver/);
  });

  it('reports a query over silver that disagrees with the records, and a missing one', () => {
    const input = compacted();
    const q = input.query['BTC-USD'];
    if (!q?.silver) throw new Error('fixture');
    const wrong = { ...q, silver: { gaps: q.silver.gaps, ohlc: [] } };
    expect(violations({ ...input, query: { 'BTC-USD': wrong } })).toMatch(
      /query ohlc over silver counts 0 ok ticks, raw holds 4/,
    );
    expect(violations({ ...input, query: { 'BTC-USD': { raw: q.raw, backup: q.backup } } })).toMatch(
      /no query answers over silver/,
    );
  });
});

describe('expectedOutcome', () => {
  const req = (over: Partial<LoggedRequest>): LoggedRequest => ({
    productId: 'BTC-USD',
    receivedAt: 0,
    answeredAt: 1,
    fault: null,
    faultStatus: null,
    delayMs: 0,
    price: '1',
    ...over,
  });
  it.each([
    [{ fault: 'rate-limit' }, 'http_429'],
    [{ fault: 'server-error' }, 'http_5xx'],
    [{ fault: 'html', faultStatus: 502 }, 'http_5xx'],
    [{ fault: 'html', faultStatus: 200 }, 'parse_error'],
    [{ fault: 'truncated-json' }, 'parse_error'],
    [{ fault: 'reset' }, 'network'],
    [{ fault: null, delayMs: 4000 }, 'timeout'],
    [{ fault: null, delayMs: 2400 }, undefined],
    [{ fault: null, delayMs: 1500 }, 'ok'],
  ] as const)('%j -> %s', (over, expected) => {
    expect(expectedOutcome(req(over), 2500)).toBe(expected);
  });
});
