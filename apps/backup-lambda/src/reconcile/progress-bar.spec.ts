import { describe, expect, it } from 'vitest';
import { createProgressBar, renderProgress } from './progress-bar';

const progress = {
  scanned: 10,
  done: 5,
  upToDate: 2,
  toCopy: 8,
  copied: 3,
  superseded: 0,
  sourceMissing: 0,
  failed: 0,
  extraInBackup: 0,
  bytesCopied: 0,
};

describe('progress bar', () => {
  it('renders done/scanned as a bar with the copy counts', () => {
    expect(renderProgress(progress, 10)).toBe('[#####.....] 5/10  copied 3  failed 0');
    expect(renderProgress({ ...progress, scanned: 0, done: 0 }, 4)).toBe('[####] 0/0  copied 3  failed 0');
  });

  it('draws only on a terminal', () => {
    const written: string[] = [];
    const fake = (isTTY: boolean) =>
      ({ isTTY, write: (s: string) => written.push(s) }) as unknown as NodeJS.WriteStream;
    expect(createProgressBar(fake(false))).toBeUndefined();
    const bar = createProgressBar(fake(true));
    bar?.update({ ...progress, done: 10 });
    bar?.finish();
    expect(written[0]).toContain('10/10');
    expect(written.at(-1)).toBe('\r\u001b[K');
  });
});
