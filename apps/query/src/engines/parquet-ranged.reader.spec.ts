import { parquetMetadata } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { emptyStats } from './local-query.stats';
import { rangedFile } from './parquet-ranged.reader';
import type { RangeReader } from './range.reader';

/** A small Parquet file with several row groups (a footer of a few hundred bytes). */
function parquetBytes(): Uint8Array {
  const n = 300;
  return new Uint8Array(
    parquetWriteBuffer({
      rowGroupSize: 100,
      columnData: [
        { name: 'id', data: Array.from({ length: n }, (_, i) => i), type: 'INT32' },
        { name: 'name', data: Array.from({ length: n }, (_, i) => `row-${i}`), type: 'STRING' },
      ],
    }),
  );
}

/** A reader over `bytes` that records every range asked for. */
function spyReader(bytes: Uint8Array): { read: RangeReader; ranges: [number, number][] } {
  const ranges: [number, number][] = [];
  const read: RangeReader = async (_bucket, _key, start, end) => {
    ranges.push([start, end]);
    return bytes.slice(start, end);
  };
  return { read, ranges };
}

describe('rangedFile', () => {
  const bytes = parquetBytes();
  const object = { bucket: 'b', key: 'k.parquet', size: bytes.byteLength, etag: '' };
  const footerBytes = new DataView(bytes.buffer).getUint32(bytes.byteLength - 8, true) + 8;
  const expected = parquetMetadata(bytes.buffer as ArrayBuffer);

  it('parses a footer the tail holds in place, with no read', async () => {
    const tailStart = bytes.byteLength - footerBytes - 10;
    const spy = spyReader(bytes);
    const file = rangedFile(object, bytes.slice(tailStart), tailStart, spy.read, emptyStats());

    expect(await file.metadata()).toEqual(expected);
    expect(spy.ranges).toEqual([]);
  });

  it('reads the rest of a footer longer than the tail, and parses the same metadata', async () => {
    const tailStart = bytes.byteLength - footerBytes + 20;
    const spy = spyReader(bytes);
    const stats = emptyStats();
    const file = rangedFile(object, bytes.slice(tailStart), tailStart, spy.read, stats);

    expect(await file.metadata()).toEqual(expected);
    expect(spy.ranges).toEqual([[bytes.byteLength - footerBytes, tailStart]]);
    expect(stats.bytesRead).toBe(20);
  });

  it('hands out views of the tail without a read, and joins a range that starts before it', async () => {
    const tailStart = bytes.byteLength - 100;
    const tail = bytes.slice(tailStart);
    const spy = spyReader(bytes);
    const stats = emptyStats();
    const file = rangedFile(object, tail, tailStart, spy.read, stats);

    const inside = await file.bytes(tailStart + 10, tailStart + 30);
    expect(inside.buffer).toBe(tail.buffer); // a view, no copy
    expect([...inside]).toEqual([...bytes.subarray(tailStart + 10, tailStart + 30)]);
    expect(spy.ranges).toEqual([]);

    const across = await file.bytes(tailStart - 50, tailStart + 5);
    expect([...across]).toEqual([...bytes.subarray(tailStart - 50, tailStart + 5)]);
    expect(spy.ranges).toEqual([[tailStart - 50, tailStart]]);
    expect(stats.bytesRead).toBe(50);

    // hyparquet's slices are its own copies: writing one leaves the tail as it was
    const sliced = new Uint8Array(await file.slice(tailStart + 10, tailStart + 30));
    sliced.fill(0);
    expect([...tail.subarray(10, 30)]).toEqual([...bytes.subarray(tailStart + 10, tailStart + 30)]);
  });
});
