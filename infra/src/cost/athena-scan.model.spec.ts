import { describe, expect, it } from 'vitest';
import { ATHENA_MIN_BYTES, athenaQueryCost, renderAthenaScan } from './athena-scan.model';

describe('Athena scan model', () => {
  it('bills at least 10 MB a query, then $5 per TB', () => {
    expect(athenaQueryCost(1)).toBe(athenaQueryCost(ATHENA_MIN_BYTES));
    expect(athenaQueryCost(1024 ** 4)).toBeCloseTo(5, 10);
    expect(athenaQueryCost(2 * 1024 ** 4)).toBeCloseTo(10, 10);
  });

  it('renders one row per range with the silver/raw ratio', () => {
    const page = renderAthenaScan({
      measuredAt: '2026-12-01T00:00:00Z',
      command: 'cmd',
      rawObjects: 2,
      silverFiles: 2,
      silverColumnsRead: ['price'],
      ranges: [{ days: 1, from: 'a', to: 'b', rawBytes: 30 * 1024 ** 2, silverBytes: 3 * 1024 ** 2 }],
    });
    expect(page).toContain('| 1 day | 30.0 MiB |');
    expect(page).toContain('| 3.0 MiB |');
    expect(page).toContain('| 1/10.0 |');
  });
});
