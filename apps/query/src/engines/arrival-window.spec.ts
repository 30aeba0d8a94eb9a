import { describe, expect, it } from 'vitest';
import { arrivalWindow, datehourBounds, prunedPrefixes } from './arrival-window';

const sec = (iso: string) => Date.parse(iso) / 1000;
const slack = { lateS: 600, bufferS: 300, skewS: 60 };

describe('arrival window', () => {
  it('widens the asked range by buffer and skew before, and by the late slack after', () => {
    expect(arrivalWindow(sec('2026-11-27T10:00:00Z'), sec('2026-11-27T11:00:00Z'), slack)).toEqual({
      lo: sec('2026-11-27T09:54:00Z'),
      hi: sec('2026-11-27T11:10:00Z'),
    });
  });

  it('reads the next hour for a tick of 10:59:59 that arrived at 11:00:05', () => {
    expect(prunedPrefixes('raw/', sec('2026-11-27T10:30:00Z'), sec('2026-11-27T11:00:00Z'), slack)).toEqual([
      'raw/2026/11/27/10/',
      'raw/2026/11/27/11/',
    ]);
    expect(datehourBounds(sec('2026-11-27T10:30:00Z'), sec('2026-11-27T11:00:00Z'), slack)).toEqual({
      from: '2026/11/27/10',
      to: '2026/11/27/11',
    });
  });

  it('reads only the asked hours with no slack at all', () => {
    expect(
      prunedPrefixes('raw/', sec('2026-11-27T10:00:00Z'), sec('2026-11-27T10:59:59Z'), {
        lateS: 0,
        bufferS: 0,
        skewS: 0,
      }),
    ).toEqual(['raw/2026/11/27/10/']);
  });
});
