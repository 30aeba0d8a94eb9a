import {
  decodeSilverParquet,
  SILVER_ROW_GROUP_SIZE,
  SilverParquetEncoder,
  SilverParquetWriter,
  silverRowGroups,
  type PriceTick,
} from '@btc-etl/price-schema';
import type { RowGroup } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { canonical, polledTick } from '../../test/raw.fixtures';
import { planMerge, writeMerge } from './partition.merge';
import { RowStore } from './row.store';

const BASE = Date.UTC(2026, 10, 27, 19) / 1000;
/** The i-th record of a 100 msg/s stream (ids from the 10 ms schedule: distinct). */
const tickAt = (i: number, overrides: Partial<PriceTick> = {}) =>
  polledTick(BASE + i / 100, { price: `97${String(Math.floor(i) % 1000).padStart(3, '0')}.5`, ...overrides });
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => tickAt(from + k));

function storeOf(ticks: readonly PriceTick[]): RowStore {
  const store = new RowStore('BTC-USD');
  for (const tick of ticks) store.add(tick);
  return store;
}

/** A silver file of these records (in order), in row groups of `groupRows`. */
function fileOf(ticks: readonly PriceTick[], groupRows: number): Buffer {
  const encoder = new SilverParquetEncoder({ productId: 'BTC-USD' });
  encoder.write(ticks, groupRows);
  return Buffer.concat(encoder.finish());
}

async function merge(file: Buffer, ticks: readonly PriceTick[]) {
  const incoming = storeOf(ticks);
  const plan = await planMerge(file, incoming);
  if (plan === undefined) return { plan, bytes: undefined };
  const writer = new SilverParquetWriter({ productId: 'BTC-USD' });
  const rows = await writeMerge(file, plan, incoming, writer);
  return { plan, rows, bytes: Buffer.concat(writer.finish()) };
}

/** The bytes of a row group's column chunks. */
function groupBytes(file: Buffer, group: RowGroup): Buffer {
  const starts = group.columns.map((c) => Number(c.meta_data?.dictionary_page_offset ?? c.meta_data?.data_page_offset));
  const ends = group.columns.map((c, k) => (starts[k] as number) + Number(c.meta_data?.total_compressed_size));
  return file.subarray(Math.min(...starts), Math.max(...ends));
}

describe('merging new records into a silver file (only the row groups they fall in are rewritten)', () => {
  const old = range(0, 2_000); // row groups of 700, 700 and 600 records
  const file = fileOf(old, 700);

  it('appends to the open hour: full row groups copied byte for byte, the last one filled up', async () => {
    const later = range(2_000, 2_500);
    const { plan, rows, bytes } = await merge(file, later);

    expect(plan?.into.map((rows) => rows.length)).toEqual([0, 0, 500]);
    expect(plan?.tail).toEqual([]);
    expect(rows).toBe(2_500);
    expect(canonical(await decodeSilverParquet(bytes as Buffer))).toEqual(canonical([...old, ...later]));
    const before = silverRowGroups(file);
    const after = silverRowGroups(bytes as Buffer);
    expect(after.map((g) => Number(g.num_rows))).toEqual([700, 700, 1_100]);
    for (const g of [0, 1]) {
      expect(groupBytes(bytes as Buffer, after[g] as RowGroup).equals(groupBytes(file, before[g] as RowGroup))).toBe(
        true,
      );
    }
  });

  it('puts a late record into the row group of its time, in order, and leaves the others as they were', async () => {
    const late = tickAt(1_000.5); // between two records of the second row group
    const { plan, bytes } = await merge(file, [late]);

    expect(plan?.into.map((rows) => rows.length)).toEqual([0, 1, 0]);
    const back = await decodeSilverParquet(bytes as Buffer);
    expect(back).toHaveLength(2_001);
    expect(back[1_001]).toEqual(late);
    expect(canonical(back)).toEqual(canonical([...old, late]));
  });

  it('keeps the earliest-ingested copy of a held record, and drops a later copy', async () => {
    const earlier = tickAt(100, { ingest_time: '2026-11-27T18:00:00.000Z', price: '1.25' });
    const later = tickAt(200, { ingest_time: '2026-11-28T18:00:00.000Z', price: '2.5' });
    const { plan, bytes } = await merge(file, [earlier, later]);

    expect(plan?.held).toBe(2);
    const back = await decodeSilverParquet(bytes as Buffer);
    expect(back).toHaveLength(2_000);
    expect(back[100]).toEqual(earlier);
    expect(back[200]).toEqual(old[200]);
  });

  it('writes records after a full last row group as row groups of their own', async () => {
    const full = fileOf(range(0, SILVER_ROW_GROUP_SIZE), SILVER_ROW_GROUP_SIZE);
    const later = range(SILVER_ROW_GROUP_SIZE, SILVER_ROW_GROUP_SIZE + 10);
    const { plan, bytes } = await merge(full, later);

    expect(plan?.into.map((rows) => rows.length)).toEqual([0]);
    expect(plan?.tail).toHaveLength(10);
    expect(silverRowGroups(bytes as Buffer).map((g) => Number(g.num_rows))).toEqual([SILVER_ROW_GROUP_SIZE, 10]);
    const back = await decodeSilverParquet(bytes as Buffer);
    expect(back).toHaveLength(SILVER_ROW_GROUP_SIZE + 10);
    expect(back.slice(SILVER_ROW_GROUP_SIZE)).toEqual(later);
  });

  it('declines (the partition is then merged record by record) when a held id comes with another time', async () => {
    const moved = { ...tickAt(5), exchange_time: '2026-11-27T19:59:00.000000Z' };
    expect((await merge(file, [moved])).plan).toBeUndefined();
  });
});
