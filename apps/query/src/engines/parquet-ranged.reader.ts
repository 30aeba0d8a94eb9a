import { parquetMetadata, parquetMetadataAsync, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { ObjectReadError } from '../query.errors';
import type { ScanPlan } from '../queries/query.types';
import type { LocalQueryStats } from './local-query.stats';
import type { RangeReader } from './range.reader';
import type { Listed } from './raw.listing';
import { rowGroupMayHold } from './row-group.pruning';
import { missingQueryColumns, readParquetSource, type TickSink } from './tick.reader';

/**
 * Bytes first fetched from the end of a Parquet object to get its footer in one read (the writer's footers are
 * ~2 KiB per row group). Later objects of a run fetch the last footer's length plus {@link FOOTER_MARGIN_BYTES}:
 * the objects of one stream share a writer. A longer footer costs a second read of the rest (hyparquet asks for it).
 */
export const FOOTER_FETCH_BYTES = 8 * 1024;
export const FOOTER_MARGIN_BYTES = 1024;

/** The next tail size after reading a tail: its footer length (`<len:u32le>PAR1` at the end) plus a margin. */
export function nextFooterGuess(tail: Uint8Array, current: number): number {
  if (tail.byteLength < 8) return current;
  const length = new DataView(tail.buffer, tail.byteOffset, tail.byteLength).getUint32(tail.byteLength - 8, true);
  return Math.min(Math.max(length + 8 + FOOTER_MARGIN_BYTES, FOOTER_MARGIN_BYTES), 1 << 20);
}

const PAR1 = [0x50, 0x41, 0x52, 0x31] as const;

/** Whether a fetched tail ends like a Parquet file (footer length, then `PAR1`). */
export function endsWithPar1(tail: Uint8Array): boolean {
  const n = tail.byteLength;
  return n >= 12 && PAR1.every((b, i) => tail[n - 4 + i] === b);
}

/** A Parquet object read by ranges, its tail already fetched. */
export interface RangedFile extends AsyncBuffer {
  /**
   * Bytes `[start, end)`: a view of the fetched tail when they lie in it (no copy: read it, never write it), else
   * one ranged read (counted in the stats), minus the part the tail already holds.
   */
  bytes(start: number, end: number): Promise<Uint8Array>;
  /** The footer, parsed in place when the tail holds all of it (else hyparquet fetches the rest). */
  metadata(): Promise<FileMetaData>;
}

/**
 * The object as hyparquet's AsyncBuffer: slices inside the fetched tail come from it, anything else is one ranged
 * read (counted in the stats), minus the part the tail already holds.
 */
export function rangedFile(
  object: Listed,
  tail: Uint8Array,
  tailStart: number,
  readRange: RangeReader,
  stats: LocalQueryStats,
): RangedFile {
  const copy = (bytes: Uint8Array) =>
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  /** The bytes, and whether they are a view of bytes kept elsewhere (the tail, or a buffer the reader may share). */
  const read = async (start: number, end: number): Promise<{ bytes: Uint8Array; view: boolean }> => {
    if (start >= tailStart) return { bytes: tail.subarray(start - tailStart, end - tailStart), view: true };
    const fetchEnd = Math.min(end, tailStart);
    const head = await readRange(object.bucket, object.key, start, fetchEnd, object.etag);
    stats.bytesRead += head.byteLength;
    if (end <= tailStart) return { bytes: head, view: true };
    const joined = new Uint8Array(end - start);
    joined.set(head, 0);
    joined.set(tail.subarray(0, end - tailStart), fetchEnd - start);
    return { bytes: joined, view: false };
  };
  const file: RangedFile = {
    byteLength: object.size,
    bytes: async (start, end) => (await read(start, end)).bytes,
    // hyparquet may keep or change what it is given: its own bytes
    async slice(start: number, end = object.size): Promise<ArrayBuffer> {
      const { bytes, view } = await read(start, end);
      return view ? copy(bytes) : (bytes.buffer as ArrayBuffer);
    },
    metadata: () => {
      const n = tail.byteLength;
      const tailSpansFile = tailStart + n === object.size;
      if (tailSpansFile && endsWithPar1(tail)) {
        const length = new DataView(tail.buffer, tail.byteOffset, n).getUint32(n - 8, true);
        if (length + 8 <= n) return Promise.resolve(parquetMetadata(tail.subarray(n - 8 - length)));
      }
      return parquetMetadataAsync(file, { initialFetchSize: object.size - tailStart });
    },
  };
  return file;
}

/** How a ranged Parquet read is made. */
export interface RangedReadOptions {
  readRange: RangeReader;
  /** false reads every row group (the benchmark's baseline). */
  statisticsPruning: boolean;
}

/**
 * Read a Parquet object by ranges: its footer (already fetched with the tail), then only the row groups whose
 * time-column statistics admit a record in the plan's range, and of those only the query columns. An object whose
 * row groups are all ruled out costs its footer. A file lacking a query column is read as before (and reported),
 * so nothing is skipped on doubt.
 * @returns whether any data was read past the footer
 */
export async function readParquetRanged(
  object: Listed,
  tail: Uint8Array,
  tailStart: number,
  plan: ScanPlan,
  options: RangedReadOptions,
  sink: TickSink,
  stats: LocalQueryStats,
): Promise<boolean> {
  const where = { bucket: object.bucket, key: object.key };
  try {
    const file = rangedFile(object, tail, tailStart, options.readRange, stats);
    const metadata = await file.metadata();
    const all = metadata.row_groups.map((_, i) => i);
    const prune =
      options.statisticsPruning && plan.recordTime !== undefined && missingQueryColumns(metadata).length === 0;
    const recordTime = plan.recordTime ?? [];
    const mayHold = (i: number) => {
      const group = metadata.row_groups[i];
      return group === undefined || rowGroupMayHold(group, recordTime, plan.fromSec, plan.toSec);
    };
    const groups = prune ? all.filter(mayHold) : all;
    if (prune && groups.length === 0 && all.length > 0) {
      stats.objectsPrunedByStatistics++;
      return false;
    }
    stats.rowGroupsPruned += all.length - groups.length;
    stats.formats.parquet++;
    await readParquetSource({ file, metadata }, where, sink, groups);
    return true;
  } catch (error) {
    throw new ObjectReadError(object.bucket, object.key, `cannot read parquet: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
