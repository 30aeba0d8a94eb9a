import { LocalObjectStore } from '@btc-etl/object-store';
import { UnsafeKeyError } from '@btc-etl/s3-keys';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_SYNC_READ_BYTES, localRangeReader, rangeReaderFor } from './range.reader';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'query-range-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('localRangeReader', () => {
  it('reads [start, end) of what the local adapter stored, and nothing past the end', async () => {
    const store = new LocalObjectStore({ root });
    await store.put('b-1', 'raw/2026/11/27/10/x', '0123456789');
    const read = rangeReaderFor(store);
    expect(read).toBeDefined();
    const text = async (start: number, end: number) =>
      new TextDecoder().decode(await read?.('b-1', 'raw/2026/11/27/10/x', start, end));
    expect(await text(2, 5)).toBe('234');
    expect(await text(7, 10)).toBe('789');
    expect(await text(4, 4)).toBe('');
    await expect(text(8, 12)).rejects.toThrow(/ends before byte 12/);
    await expect(text(5, 3)).rejects.toThrow(/bad byte range \[5, 3\)/);
  });

  it('reads ranges past the synchronous size the same way, asynchronously', async () => {
    const store = new LocalObjectStore({ root });
    const body = new Uint8Array(LOCAL_SYNC_READ_BYTES + 5000).map((_, i) => (i * 7) % 251);
    await store.put('b-1', 'big', body);
    const read = localRangeReader(root);

    expect(await read('b-1', 'big', 3, body.byteLength)).toEqual(body.subarray(3));
    expect(await read('b-1', 'big', 100, 200)).toEqual(body.subarray(100, 200));
    await expect(read('b-1', 'big', 1, body.byteLength + 1)).rejects.toThrow(
      new RegExp(`ends before byte ${body.byteLength + 1} \\(read ${body.byteLength}\\)`),
    );
    await expect(read('b-1', 'big', 100, 201)).resolves.toHaveLength(101);
  });

  it('refuses keys that would leave the root, and names a missing object', async () => {
    const read = localRangeReader(root);
    await expect(read('b-1', '../../etc/passwd', 0, 1)).rejects.toBeInstanceOf(UnsafeKeyError);
    await expect(read('b-1', 'raw/missing', 0, 1)).rejects.toThrow(/ENOENT/);
  });
});
