import type { RowGroup } from 'hyparquet';
import type { TimeColumn } from '../queries/query.types';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** `YYYY-MM-DDTHH:MM:SS` of an epoch second: the part of an ISO time that decides its whole second. */
export function isoSecondPrefix(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 19);
}

/**
 * Whether a row group may hold a record whose time (its first non-null `columns` value) falls in `[fromSec, toSec)`,
 * judged from the column chunks' min/max statistics only. `true` on any doubt: a column missing, not a string
 * column, without statistics, or with bounds that are not plain ASCII.
 *
 * Why string bounds are enough: the queries take a time's whole second from its first 19 characters, and for
 * fixed-width ISO times that prefix orders like the time itself. `max < prefix(from)` means every value, and so its
 * 19-character prefix, sorts before `from`; `min >= prefix(to)` means every value's prefix is at least `to`. Both
 * hold for truncated statistics too (Parquet's min is then a lower bound, its max an upper bound), they just prune
 * less.
 */
export function rowGroupMayHold(
  group: RowGroup,
  columns: readonly TimeColumn[],
  fromSec: number,
  toSec: number,
): boolean {
  if (columns.length === 0) return true;
  const lo = isoSecondPrefix(fromSec);
  const hi = isoSecondPrefix(toSec);
  const rows = BigInt(group.num_rows);
  for (const name of columns) {
    const meta = group.columns.find(
      (c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === name,
    )?.meta_data;
    if (meta === undefined || meta.type !== 'BYTE_ARRAY') return true;
    const stats = meta.statistics;
    if (stats === undefined) return true;
    // every value null: this column gives no record its time
    if (stats.null_count !== undefined && BigInt(stats.null_count) === rows) continue;
    const min = stats.min_value;
    const max = stats.max_value;
    if (typeof min !== 'string' || typeof max !== 'string' || !PRINTABLE_ASCII.test(min) || !PRINTABLE_ASCII.test(max))
      return true;
    if (max < lo || min >= hi) continue;
    return true;
  }
  return false;
}
