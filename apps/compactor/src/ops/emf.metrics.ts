import type { RunReport } from '../compaction/compact.run';

/** CloudWatch namespace and dimension every service of the pipeline publishes under (CONTRACTS.md). */
export const EMF_NAMESPACE = 'BtcEtl';
export const EMF_SERVICE = 'compactor';

/**
 * The EMF document of one run (a JSON log line CloudWatch turns into metrics): `LagSeconds` is now minus the end of
 * the newest fully compacted arrival hour (the watermark; absent before the first one), the rest the run's report.
 * Pure: same report, times and duration, same document.
 */
export function buildRunEmf(report: RunReport, now: number, runMs: number): Record<string, unknown> {
  const watermark = report.rawCompleteBefore === null ? undefined : Date.parse(report.rawCompleteBefore);
  const metrics: [string, 'Seconds' | 'Count' | 'Bytes', number | undefined][] = [
    ['LagSeconds', 'Seconds', watermark === undefined ? undefined : Math.max(0, (now - watermark) / 1000)],
    ['RecordsIn', 'Count', report.recordsIn],
    ['DuplicatesDropped', 'Count', report.duplicatesDropped],
    ['QuarantinedLines', 'Count', report.quarantinedLines],
    ['PartitionsWritten', 'Count', report.partitionsWritten],
    ['BytesWritten', 'Bytes', report.bytesWritten],
    ['RunSeconds', 'Seconds', runMs / 1000],
  ];
  const present = metrics.filter(([, , v]) => v !== undefined);
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: EMF_NAMESPACE,
          Dimensions: [['Service']],
          Metrics: present.map(([Name, Unit]) => ({ Name, Unit })),
        },
      ],
    },
    Service: EMF_SERVICE,
    ...Object.fromEntries(present.map(([name, , value]) => [name, value])),
  };
}
