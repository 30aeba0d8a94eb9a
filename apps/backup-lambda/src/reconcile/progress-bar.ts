import type { ReconcileProgress } from './reconcile';

export interface ProgressBar {
  update(progress: ReconcileProgress): void;
  /** Clear the bar's line, so the summary that follows starts clean. */
  finish(): void;
}

/** The bar's text for a width: `[#####.....]  45/120  copied 20  failed 0`. Pure, for tests. */
export function renderProgress(p: ReconcileProgress, width = 30): string {
  const ratio = p.scanned === 0 ? 1 : Math.min(1, p.done / p.scanned);
  const filled = Math.round(ratio * width);
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
    `${p.done}/${p.scanned}  copied ${p.copied}  failed ${p.failed}`
  );
}

/**
 * A one-line progress bar redrawn in place, at most 10 times a second, or `undefined` when the stream is not a
 * terminal (CI logs and pipes get only the final summary).
 */
export function createProgressBar(stream: NodeJS.WriteStream): ProgressBar | undefined {
  if (!stream.isTTY) return undefined;
  let last = 0;
  return {
    update(progress) {
      const now = Date.now();
      if (now - last < 100 && progress.done < progress.scanned) return;
      last = now;
      stream.write(`\r${renderProgress(progress)}\u001b[K`);
    },
    finish() {
      stream.write('\r\u001b[K');
    },
  };
}
