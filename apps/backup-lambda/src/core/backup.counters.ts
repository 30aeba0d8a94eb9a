import type { BackupOutcome } from './backup-object';

export type BackupCount = BackupOutcome | 'failed' | 'refused' | 'skipped-event' | 'test-event' | 'invalid-message';

/** Running totals of what the handler did, for logs and the local runner's summary. */
export class BackupCounters {
  private readonly counts = new Map<BackupCount, number>();

  add(what: BackupCount, n = 1): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + n);
  }

  get(what: BackupCount): number {
    return this.counts.get(what) ?? 0;
  }

  /** Only the non-zero counts, in a stable order. */
  snapshot(): Partial<Record<BackupCount, number>> {
    return Object.fromEntries(
      [...this.counts.entries()].filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b)),
    );
  }
}
