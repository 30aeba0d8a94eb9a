import {
  decodeSilverParquet,
  SILVER_ROW_GROUP_SIZE,
  silverReadOptions,
  silverRowGroups,
  type SilverParquetWriter,
} from '@btc-etl/price-schema';
import { parquetMetadata, parquetRead, type RowGroup } from 'hyparquet';
import { RowStore } from './row.store';

/**
 * New records merged into a partition file that exists, rewriting only the row groups they fall in: the others are
 * copied byte for byte. Compaction every few minutes appends to the open hour's partition, and a late record lands
 * in a closed one; decoding a 500 msg/s hour (1.8M records) to add a few took ~100 CPU-seconds, this a second or two.
 *
 * The plan reads two columns of every row group (record_id, event_time): a new record whose id the file holds goes
 * to that row's group (where the earliest-ingest copy wins, as in RowStore), any other to the first group whose last
 * row comes after it in silver order (event time, then record_id), or after the last group. Every group stays
 * sorted and they stay in order, so the file is sorted as a whole.
 */
export interface MergePlan {
  /** The file's bytes as hyparquet reads them (no copy when they fill their buffer). */
  buffer: ArrayBuffer;
  groups: RowGroup[];
  /** Per row group: the rows of the incoming store that go into it (in silver order). */
  into: number[][];
  /** Incoming rows after the file's last row, to be written as row groups of their own. */
  tail: number[];
  /** Incoming records the file holds already (by record_id). */
  held: number;
}

/** Silver order of (event time in µs, record_id hex): negative when a comes first. */
function compareKeys(ta: number, ia: string, tb: number, ib: string): number {
  if (ta !== tb) return ta - tb;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/**
 * Plan the merge of `incoming` into the silver file `file`; undefined when a new record has the id of a held one
 * but another event time (only a producer that reuses ids does that): then the partition is merged record by record.
 */
export async function planMerge(file: Uint8Array, incoming: RowStore): Promise<MergePlan | undefined> {
  const whole = file.byteOffset === 0 && file.byteLength === file.buffer.byteLength;
  const buffer = (
    whole ? file.buffer : file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength)
  ) as ArrayBuffer;
  const metadata = parquetMetadata(buffer);
  const groups = silverRowGroups(file);
  const heldIn = new Int32Array(incoming.size).fill(-1);
  const lastTime: number[] = [];
  const lastId: string[] = [];
  let held = 0;
  let clash = false;
  let rowStart = 0;
  for (const [g, group] of groups.entries()) {
    const rows = Number(group.num_rows);
    const columns: Record<string, unknown[]> = {};
    await parquetRead({
      file: buffer,
      ...silverReadOptions(metadata),
      columns: ['record_id', 'event_time'],
      rowStart,
      rowEnd: rowStart + rows,
      onChunk: ({ columnName, columnData, rowStart: at }) => {
        const into = (columns[columnName] ??= new Array<unknown>(rows));
        for (let k = 0; k < columnData.length; k++) into[at - rowStart + k] = columnData[k];
      },
    });
    const ids = columns.record_id as string[];
    const times = columns.event_time as bigint[];
    for (let k = 0; k < rows; k++) {
      const row = incoming.rowOf(ids[k] as string);
      if (row === -1) continue;
      if (incoming.eventMicros(row) !== Number(times[k])) clash = true;
      heldIn[row] = g;
      held++;
    }
    lastTime.push(Number(times[rows - 1]));
    lastId.push(ids[rows - 1] as string);
    rowStart += rows;
  }
  if (clash) return undefined;

  const into: number[][] = groups.map(() => []);
  const tail: number[] = [];
  let g = 0;
  for (const row of incoming.sortedRows()) {
    const at = heldIn[row] as number;
    if (at !== -1) {
      (into[at] as number[]).push(row);
      continue;
    }
    const time = incoming.eventMicros(row);
    const id = incoming.idOf(row);
    while (g < groups.length && compareKeys(lastTime[g] as number, lastId[g] as string, time, id) < 0) g++;
    if (g < groups.length) (into[g] as number[]).push(row);
    else tail.push(row);
  }
  // rows after the file's end fill its last row group up first: appending every few minutes makes no small groups
  const last = groups.length - 1;
  if (tail.length > 0 && last >= 0 && Number(groups[last]?.num_rows) < SILVER_ROW_GROUP_SIZE) {
    (into[last] as number[]).push(...tail);
    tail.length = 0;
  }
  return { buffer, groups, into, tail, held };
}

/**
 * Write the merged file as planned: untouched row groups copied, the others decoded, merged and written anew, then
 * the tail. Returns the rows written.
 */
export async function writeMerge(
  file: Uint8Array,
  plan: MergePlan,
  incoming: RowStore,
  writer: SilverParquetWriter,
): Promise<number> {
  const productId = incoming.productId as string;
  const write = (rows: RowStore) => rows.forEachRowGroup((group, n) => writer.writeBatch(group, n));
  let rowStart = 0;
  for (const [g, group] of plan.groups.entries()) {
    const rows = Number(group.num_rows);
    const adding = plan.into[g] as number[];
    if (adding.length === 0) writer.copyRowGroup(file, group);
    else {
      const merged = new RowStore(productId);
      for (const tick of await decodeSilverParquet(plan.buffer, { productId, rowStart, rowEnd: rowStart + rows })) {
        merged.add(tick);
      }
      for (const row of adding) incoming.copyRowTo(row, merged);
      write(merged);
    }
    rowStart += rows;
  }
  if (plan.tail.length > 0) {
    const tail = new RowStore(productId);
    for (const row of plan.tail) incoming.copyRowTo(row, tail);
    write(tail);
  }
  return writer.rows;
}
