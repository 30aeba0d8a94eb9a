import type { ObjectStore } from '@btc-etl/object-store';
import type { Readable } from 'node:stream';
import { ObjectReadError } from '../query.errors';
import type { ScanPlan } from '../queries/query.types';
import type { LocalQueryStats } from './local-query.stats';
import { readWholeObject } from './object.reader';
import { FOOTER_FETCH_BYTES, endsWithPar1, nextFooterGuess, readParquetRanged } from './parquet-ranged.reader';
import type { RangeReader } from './range.reader';
import type { Listed } from './raw.listing';
import type { SilverListed } from './silver.listing';
import { SilverTypedReader, readSilverRanged } from './silver.reader';
import type { TickSink } from './tick.reader';

/**
 * An object made ready ahead of its turn: a stream of its bytes, or the tail of a Parquet object (read into `buffer`,
 * one of the scanner's reused tail buffers, when it has one).
 */
type Opened =
  | { kind: 'stream'; stream: Readable }
  | { kind: 'parquet-tail'; tail: Uint8Array; tailStart: number; buffer: Uint8Array | undefined };

/** Tails up to this size are read into reused buffers (a silver tail is ~70 KiB; see {@link RangeReader}). */
const POOLED_TAIL_BYTES = 4 << 20;
const MIN_TAIL_BUFFER_BYTES = 128 * 1024;

export interface ObjectScannerOptions {
  store: ObjectStore;
  /** Ranged reads for `.parquet` objects; undefined reads them whole. */
  readRange: RangeReader | undefined;
  /** Objects opened ahead of the one being read. */
  readAhead: number;
  statisticsPruning: boolean;
}

/**
 * Reads listed objects into a sink strictly in list order, opening a few ahead so store round trips overlap the
 * parsing. `.parquet` objects are read by ranges (footer first, see parquet-ranged.reader.ts); anything else, or a
 * `.parquet` name whose bytes do not end like Parquet, is streamed whole and its format sniffed. One scanner serves
 * a whole run: the footer size it learns carries over from one object (and bucket) to the next.
 */
export class ObjectScanner {
  private footerGuess = FOOTER_FETCH_BYTES;
  /** The silver typed path's decoders, their buffers reused across the run's files. */
  private readonly silverTyped = new SilverTypedReader();
  /**
   * Buffers for Parquet tails, back here once their object is read (nothing keeps a view of a tail past its object:
   * decoders copy out what they keep, hyparquet gets copies), so at most readAhead + 1 exist.
   */
  private readonly tailBuffers: Uint8Array[] = [];

  private takeTailBuffer(size: number): Uint8Array | undefined {
    if (size > POOLED_TAIL_BYTES) return undefined;
    const fits = this.tailBuffers.findIndex((b) => b.byteLength >= size);
    if (fits >= 0) return this.tailBuffers.splice(fits, 1)[0];
    this.tailBuffers.pop(); // too small for the tails now fetched: replaced by a larger one
    return new Uint8Array(Math.min(POOLED_TAIL_BYTES, Math.max(MIN_TAIL_BUFFER_BYTES, 2 * size)));
  }

  constructor(
    private readonly options: ObjectScannerOptions,
    private readonly stats: LocalQueryStats,
  ) {}

  /** `silverRecordIds: false` lets silver files skip their record_id column (see silver.reader.ts). */
  async scan(
    objects: readonly Listed[],
    plan: ScanPlan,
    sink: TickSink,
    options: { silverRecordIds?: boolean } = {},
  ): Promise<void> {
    const silverRecordIds = options.silverRecordIds ?? true;
    const { store, readRange } = this.options;
    const readAhead = Math.max(1, this.options.readAhead);
    // unread streams hold back-pressure, so memory stays at a few chunks per open stream (or one footer-sized tail
    // per Parquet object)
    const opened: Promise<Opened>[] = [];
    const openStream = (object: Listed): Promise<Opened> =>
      store.getStream(object.bucket, object.key).then((r) => ({ kind: 'stream', stream: r.stream }));
    const open = (i: number) => {
      const object = objects[i];
      if (object === undefined) return;
      let p: Promise<Opened>;
      if (readRange !== undefined && object.key.endsWith('.parquet') && object.size > 0) {
        // a silver file read by the typed path: the tail also takes the column chunks the last such file needed
        const guess = isSilver(object) ? Math.max(this.footerGuess, this.silverTyped.tailGuess) : this.footerGuess;
        const tailStart = Math.max(0, object.size - guess);
        const buffer = this.takeTailBuffer(object.size - tailStart);
        p = readRange(object.bucket, object.key, tailStart, object.size, object.etag, buffer).then((tail) => ({
          kind: 'parquet-tail',
          tail,
          tailStart,
          buffer,
        }));
      } else p = openStream(object);
      p.catch(() => undefined); // observed when its turn comes
      opened.push(p);
    };
    const release = (from: number) => {
      for (const later of opened.slice(from))
        later.then(
          (o) => (o.kind === 'stream' ? o.stream.destroy() : undefined),
          () => undefined,
        );
    };
    for (let i = 0; i < Math.min(readAhead, objects.length); i++) open(i);
    for (const [i, object] of objects.entries()) {
      let ready: Opened;
      try {
        ready = await (opened[i] as Promise<Opened>);
      } catch (error) {
        release(i + 1);
        throw new ObjectReadError(object.bucket, object.key, `cannot open: ${(error as Error).message}`, {
          cause: error,
        });
      }
      open(i + readAhead);
      try {
        await this.readOne(object, ready, plan, sink, openStream, silverRecordIds);
      } catch (error) {
        release(i + 1);
        throw error;
      }
      if (ready.kind === 'parquet-tail' && ready.buffer !== undefined) this.tailBuffers.push(ready.buffer);
    }
  }

  private async readOne(
    object: Listed,
    ready: Opened,
    plan: ScanPlan,
    sink: TickSink,
    openStream: (object: Listed) => Promise<Opened>,
    silverRecordIds: boolean,
  ): Promise<void> {
    const { readRange, statisticsPruning } = this.options;
    const stats = this.stats;
    if (isSilver(object)) {
      await this.readSilver(object, ready, plan, sink, silverRecordIds);
      return;
    }
    if (ready.kind === 'parquet-tail') {
      stats.bytesRead += ready.tail.byteLength;
      if (readRange !== undefined && endsWithPar1(ready.tail)) {
        this.footerGuess = nextFooterGuess(ready.tail, this.footerGuess);
        const ranged = { readRange, statisticsPruning };
        if (await readParquetRanged(object, ready.tail, ready.tailStart, plan, ranged, sink, stats))
          stats.objectsRead++;
        return;
      }
      // named .parquet but not Parquet at the end: read it whole and let its first bytes tell what it is
      ready = await openStream(object).catch((error: unknown) => {
        throw new ObjectReadError(object.bucket, object.key, `cannot open: ${(error as Error).message}`, {
          cause: error,
        });
      });
    }
    const { stream } = ready as { stream: Readable };
    try {
      await readWholeObject(stream, object, sink, stats);
    } finally {
      stream.destroy();
    }
    stats.objectsRead++;
  }

  /** A silver file: by ranges when the store has them, else from its whole bytes (already in memory then). */
  private async readSilver(
    object: SilverListed,
    ready: Opened,
    plan: ScanPlan,
    sink: TickSink,
    recordIds: boolean,
  ): Promise<void> {
    const stats = this.stats;
    let tail: Uint8Array;
    let tailStart: number;
    if (ready.kind === 'parquet-tail') {
      stats.bytesRead += ready.tail.byteLength;
      this.footerGuess = nextFooterGuess(ready.tail, this.footerGuess);
      ({ tail, tailStart } = ready);
    } else {
      const parts: Uint8Array[] = [];
      for await (const part of ready.stream) parts.push(part as Uint8Array);
      tail = Buffer.concat(parts);
      tailStart = 0;
      stats.bytesRead += tail.byteLength;
    }
    const readRange: RangeReader =
      this.options.readRange ??
      ((bucket, key) => Promise.reject(new Error(`${bucket}/${key}: no ranged reads, and the whole file is read`)));
    const ranged = { readRange, statisticsPruning: this.options.statisticsPruning, recordIds, typed: this.silverTyped };
    if (await readSilverRanged(object, tail, tailStart, plan, ranged, sink, stats)) {
      stats.objectsRead++;
      stats.silverObjectsRead++;
    }
  }
}

function isSilver(object: Listed): object is SilverListed {
  return (object as Partial<SilverListed>).productId !== undefined;
}
