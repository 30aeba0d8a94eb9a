import { describe, expect, it } from 'vitest';
import type { RunReport } from '../compaction/compact.run';
import { buildRunEmf } from './emf.metrics';

const report: RunReport = {
  dryRun: false,
  hoursScanned: 3,
  lookbackHoursScanned: 26,
  objectsRead: 4,
  bytesRead: 1000,
  recordsIn: 120,
  duplicatesDropped: 5,
  quarantinedLines: 2,
  partitionsWritten: 3,
  bytesWritten: 4096,
  manifestConflicts: 0,
  rawCompleteBefore: '2026-11-27T20:00:00.000Z',
};

describe('buildRunEmf', () => {
  it('publishes the run under BtcEtl / Service=compactor, lag from the watermark', () => {
    const now = Date.parse('2026-11-27T20:25:00.000Z');
    const doc = buildRunEmf(report, now, 2500);
    expect(doc).toMatchObject({
      _aws: { Timestamp: now, CloudWatchMetrics: [{ Namespace: 'BtcEtl', Dimensions: [['Service']] }] },
      Service: 'compactor',
      LagSeconds: 1500,
      RecordsIn: 120,
      DuplicatesDropped: 5,
      QuarantinedLines: 2,
      PartitionsWritten: 3,
      RunSeconds: 2.5,
    });
    const names = (doc._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0]?.Metrics;
    expect(names?.map((m) => m.Name)).toContain('LagSeconds');
  });

  it('leaves LagSeconds out before the first watermark', () => {
    const doc = buildRunEmf({ ...report, rawCompleteBefore: null }, 0, 1);
    expect(doc).not.toHaveProperty('LagSeconds');
    expect(JSON.stringify(doc._aws)).not.toContain('LagSeconds');
  });
});
