import type { ColumnChunk, RowGroup, Statistics } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { TICK_TIME } from '../queries/tick-values';
import { isoSecondPrefix, rowGroupMayHold } from './row-group.pruning';

const sec = (iso: string) => Date.parse(iso) / 1000;
const FROM = sec('2026-11-27T10:00:00Z');
const TO = sec('2026-11-27T11:00:00Z');

function chunk(
  name: string,
  statistics: Statistics | undefined,
  type: 'BYTE_ARRAY' | 'INT64' = 'BYTE_ARRAY',
): ColumnChunk {
  return {
    file_offset: 0n,
    meta_data: {
      type,
      encodings: [],
      path_in_schema: [name],
      codec: 'SNAPPY',
      num_values: 100n,
      total_uncompressed_size: 0n,
      total_compressed_size: 0n,
      data_page_offset: 4n,
      ...(statistics ? { statistics } : {}),
    },
  };
}
const group = (...columns: ColumnChunk[]): RowGroup => ({ columns, total_byte_size: 0n, num_rows: 100n });
const range = (min: string, max: string, null_count = 0n): Statistics => ({
  min_value: min,
  max_value: max,
  null_count,
});
const allNull: Statistics = { null_count: 100n };

describe('rowGroupMayHold', () => {
  it('rules out a group whose times all sort before from or at/after to (to is exclusive)', () => {
    const before = group(
      chunk('exchange_time', range('2026-11-27T09:45:00.250Z', '2026-11-27T09:59:59.999999999Z')),
      chunk('scheduled_time', range('2026-11-27T09:45:00.000Z', '2026-11-27T09:59:59.000Z')),
    );
    const after = group(
      chunk('exchange_time', range('2026-11-27T11:00:00.000Z', '2026-11-27T11:14:00Z')),
      chunk('scheduled_time', range('2026-11-27T11:00:00.000Z', '2026-11-27T11:14:00Z')),
    );
    expect(rowGroupMayHold(before, TICK_TIME, FROM, TO)).toBe(false);
    expect(rowGroupMayHold(after, TICK_TIME, FROM, TO)).toBe(false);
  });

  it('keeps a group that touches the range by a single second at either end', () => {
    const lastSecond = group(
      chunk('exchange_time', range('2026-11-27T11:00:00Z', '2026-11-27T11:05:00Z')),
      chunk('scheduled_time', range('2026-11-27T10:59:59.000Z', '2026-11-27T11:05:00Z')),
    );
    const firstSecond = group(
      chunk('exchange_time', range('2026-11-27T09:50:00Z', '2026-11-27T10:00:00Z')),
      chunk('scheduled_time', allNull),
    );
    expect(rowGroupMayHold(lastSecond, TICK_TIME, FROM, TO)).toBe(true);
    expect(rowGroupMayHold(firstSecond, TICK_TIME, FROM, TO)).toBe(true);
  });

  it('looks at every fallback column: exchange time out of range but a scheduled time in it keeps the group', () => {
    const g = group(
      chunk('exchange_time', range('2026-11-27T09:00:00Z', '2026-11-27T09:10:00Z', 3n)),
      chunk('scheduled_time', range('2026-11-27T09:00:00Z', '2026-11-27T10:30:00Z')),
    );
    expect(rowGroupMayHold(g, TICK_TIME, FROM, TO)).toBe(true);
    // an all-null column gives no record its time
    const nulls = group(
      chunk('exchange_time', allNull),
      chunk('scheduled_time', range('2026-11-27T08:00:00Z', '2026-11-27T09:00:00Z')),
    );
    expect(rowGroupMayHold(nulls, TICK_TIME, FROM, TO)).toBe(false);
  });

  it('only the columns the query filters on count', () => {
    const g = group(
      chunk('scheduled_time', range('2026-11-27T10:00:00Z', '2026-11-27T10:10:00Z')),
      chunk('ingest_time', range('2026-11-27T12:00:00Z', '2026-11-27T12:10:00Z')),
    );
    expect(rowGroupMayHold(g, ['ingest_time'], FROM, TO)).toBe(false);
    expect(rowGroupMayHold(g, ['scheduled_time'], FROM, TO)).toBe(true);
  });

  it('keeps the group on any doubt: no statistics, no bounds, a missing or non-string column, non-ASCII bounds', () => {
    const out = chunk('scheduled_time', range('2026-11-27T08:00:00Z', '2026-11-27T09:00:00Z'));
    expect(rowGroupMayHold(group(chunk('exchange_time', undefined), out), TICK_TIME, FROM, TO)).toBe(true);
    expect(rowGroupMayHold(group(chunk('exchange_time', { null_count: 2n }), out), TICK_TIME, FROM, TO)).toBe(true);
    expect(rowGroupMayHold(group(out), TICK_TIME, FROM, TO)).toBe(true);
    expect(
      rowGroupMayHold(
        group(chunk('exchange_time', { min_value: 1n, max_value: 2n, null_count: 0n }, 'INT64'), out),
        TICK_TIME,
        FROM,
        TO,
      ),
    ).toBe(true);
    expect(
      rowGroupMayHold(
        group(chunk('exchange_time', range('2026-11-27T08:00:00Z', '2026-11-27T09:00:00\u00e9')), out),
        TICK_TIME,
        FROM,
        TO,
      ),
    ).toBe(true);
  });

  it('uses truncated bounds soundly: a prefix min and a rounded-up max prune what they can and keep the rest', () => {
    // whole values 11:00:00-11:04:59 truncated to 12 bytes: min "2026-11-27T1" (a prefix), max "2026-11-27T2"
    // (rounded up)
    const truncated = group(
      chunk('exchange_time', range('2026-11-27T1', '2026-11-27T2')),
      chunk('scheduled_time', range('2026-11-27T1', '2026-11-27T2')),
    );
    expect(rowGroupMayHold(truncated, TICK_TIME, FROM, TO)).toBe(true);
    // minute-truncated (16 bytes, the writer's default) bounds of 09:45-09:59:59 still rule [10:00, 11:00) out
    const minute = group(
      chunk('exchange_time', range('2026-11-27T09:45', '2026-11-27T09:5:')),
      chunk('scheduled_time', range('2026-11-27T09:45', '2026-11-27T09:5:')),
    );
    expect(rowGroupMayHold(minute, TICK_TIME, FROM, TO)).toBe(false);
  });

  it('prunes nothing for a query without record-time columns', () => {
    expect(rowGroupMayHold(group(), [], FROM, TO)).toBe(true);
    expect(isoSecondPrefix(FROM)).toBe('2026-11-27T10:00:00');
  });
});
