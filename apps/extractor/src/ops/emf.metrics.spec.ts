import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { missedTick, okTick } from '@btc-etl/price-schema/testing';
import type { Clock } from '@btc-etl/resilience';
import { buildEmfDocuments, EmfHealthCounter, EmfReporter, type HealthSample } from './emf.metrics';

/**
 * The Embedded Metric Format specification, as CloudWatch Logs applies it: every dimension names a string property
 * of the document, every metric a number property, units from CloudWatch's list, at most 30 dimensions a set and
 * 100 metrics a directive.
 */
const UNITS = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Count',
  'Percent',
  'None',
];
const EmfDocumentSchema = z
  .object({
    _aws: z.object({
      Timestamp: z.number().int().positive(),
      CloudWatchMetrics: z
        .array(
          z.object({
            Namespace: z.string().min(1).max(255),
            Dimensions: z.array(z.array(z.string()).min(1).max(30)),
            Metrics: z
              .array(z.object({ Name: z.string().min(1).max(255), Unit: z.enum(UNITS) }))
              .min(1)
              .max(100),
          }),
        )
        .min(1),
    }),
  })
  .catchall(z.unknown())
  .superRefine((doc, ctx) => {
    for (const directive of doc._aws.CloudWatchMetrics) {
      for (const name of directive.Dimensions.flat())
        if (typeof doc[name] !== 'string')
          ctx.addIssue({ code: 'custom', message: `dimension ${name} is not a string` });
      for (const { Name } of directive.Metrics)
        if (typeof doc[Name] !== 'number' || !Number.isFinite(doc[Name]))
          ctx.addIssue({ code: 'custom', message: `metric ${Name} is not a finite number` });
    }
  });

const sample = (overrides: Partial<HealthSample> = {}): HealthSample => ({
  due: 60,
  ok: 55,
  missedByReason: { timeout: 3, http_429: 1 },
  spoolBytes: 512 * 1024,
  spoolCapBytes: 1024 * 1024,
  deliveryLagMs: 1234.4,
  ...overrides,
});
const T = Date.UTC(2026, 11, 1, 12);

describe('buildEmfDocuments', () => {
  it('writes every health metric of the contract under Namespace BtcEtl, dimension Service=extractor', () => {
    const [health] = buildEmfDocuments(sample(), T);
    expect(EmfDocumentSchema.parse(health)).toBeTruthy();
    expect(health?._aws).toEqual({
      Timestamp: T,
      CloudWatchMetrics: [
        {
          Namespace: 'BtcEtl',
          Dimensions: [['Service']],
          Metrics: [
            { Name: 'TicksDue', Unit: 'Count' },
            { Name: 'TicksOk', Unit: 'Count' },
            { Name: 'TicksMissed', Unit: 'Count' },
            { Name: 'MissedRatio', Unit: 'None' },
            { Name: 'SpoolBytes', Unit: 'Bytes' },
            { Name: 'SpoolFillRatio', Unit: 'None' },
            { Name: 'DeliveryLagMs', Unit: 'Milliseconds' },
          ],
        },
      ],
    });
    expect(health).toMatchObject({
      Service: 'extractor',
      TicksDue: 60,
      TicksOk: 55,
      TicksMissed: 4,
      MissedRatio: 4 / 59,
      SpoolBytes: 524288,
      SpoolFillRatio: 0.5,
      DeliveryLagMs: 1234,
    });
  });

  it('adds one document per miss reason with TicksMissed under Service and Reason', () => {
    const docs = buildEmfDocuments(sample(), T);
    expect(docs).toHaveLength(3);
    for (const doc of docs) EmfDocumentSchema.parse(doc);
    expect(docs.slice(1)).toEqual([
      {
        _aws: {
          Timestamp: T,
          CloudWatchMetrics: [
            {
              Namespace: 'BtcEtl',
              Dimensions: [['Service', 'Reason']],
              Metrics: [{ Name: 'TicksMissed', Unit: 'Count' }],
            },
          ],
        },
        Service: 'extractor',
        Reason: 'http_429',
        TicksMissed: 1,
      },
      {
        _aws: {
          Timestamp: T,
          CloudWatchMetrics: [
            {
              Namespace: 'BtcEtl',
              Dimensions: [['Service', 'Reason']],
              Metrics: [{ Name: 'TicksMissed', Unit: 'Count' }],
            },
          ],
        },
        Service: 'extractor',
        Reason: 'timeout',
        TicksMissed: 3,
      },
    ]);
  });

  it.each([
    {
      name: 'an idle interval',
      s: sample({ due: 0, ok: 0, missedByReason: {}, spoolBytes: 0, deliveryLagMs: 0 }),
      missed: 0,
      fill: 0,
    },
    { name: 'everything missed, spool over its cap', s: sample({ ok: 0, spoolBytes: 2 << 20 }), missed: 1, fill: 1 },
    { name: 'a zero cap', s: sample({ spoolCapBytes: 0 }), missed: 4 / 59, fill: 0 },
  ])('keeps ratios in 0..1 and finite: $name', ({ s, missed, fill }) => {
    const [health] = buildEmfDocuments(s, T);
    EmfDocumentSchema.parse(health);
    expect(health).toMatchObject({ MissedRatio: missed, SpoolFillRatio: fill });
  });
});

describe('EmfReporter', () => {
  function manualClock(): Clock & { fire(): void; pending: number } {
    let timer: (() => void) | undefined;
    return {
      now: () => T,
      setTimeout: (fn) => {
        timer = fn;
        return 1;
      },
      clearTimeout: () => (timer = undefined),
      fire: () => {
        const fn = timer;
        timer = undefined;
        fn?.();
      },
      get pending() {
        return timer ? 1 : 0;
      },
    };
  }

  it('writes one set of lines per interval with the counts of that interval only, and the last at stop', () => {
    const clock = manualClock();
    const counter = new EmfHealthCounter();
    const lines: string[] = [];
    const reporter = new EmfReporter({
      counter,
      gauges: () => ({ spoolBytes: 10, spoolCapBytes: 100, deliveryLagMs: 0 }),
      intervalMs: 60_000,
      write: (line) => lines.push(line),
      clock,
    });
    reporter.start();
    counter.countDue();
    counter.recordTick(okTick());
    counter.countDue();
    counter.recordTick(missedTick('timeout'));
    clock.fire();
    counter.countDue();
    counter.recordTick(okTick());
    reporter.stop();
    expect(clock.pending).toBe(0);
    const docs = lines.map((l) => {
      expect(l.endsWith('\n')).toBe(true);
      return JSON.parse(l) as Record<string, unknown>;
    });
    expect(docs.map((d) => [d.Reason ?? '-', d.TicksDue, d.TicksOk, d.TicksMissed])).toEqual([
      ['-', 2, 1, 1],
      ['timeout', undefined, undefined, 1],
      ['-', 1, 1, 0],
    ]);
  });
});
