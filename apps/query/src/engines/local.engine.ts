import type { ObjectStore } from '@btc-etl/object-store';
import type { PriceTick } from '@btc-etl/price-schema';
import { RAW_PREFIX, parseFirehoseKey } from '@btc-etl/s3-keys';
import { parquetMetadataAsync, type AsyncBuffer } from 'hyparquet';
import type { Readable } from 'node:stream';
import { ObjectReadError } from '../query.errors';
import type { QueryDefinition, ResultRow, ScanPlan, StoreName } from '../queries/query.types';
import { DEFAULT_SLACK, arrivalWindow, prunedPrefixes, type ArrivalSlack } from './arrival-window';
import { rangeReaderFor, type RangeReader } from './range.reader';
import { RecordIdSet } from './record-id.set';
import { rowGroupMayHold } from './row-group.pruning';
import {
  gunzip,
  missingQueryColumns,
  readNdjson,
  readParquet,
  readParquetSource,
  sniffFormat,
  type BadRecord,
  type ObjectFormat,
  type TickSink,
} from './tick.reader';

/**
 * Bytes first fetched from the end of a Parquet object to get its footer in one read (the writer's footers are
 * ~2 KiB per row group). Later objects of a run fetch the last footer's length plus {@link FOOTER_MARGIN_BYTES}:
 * the objects of one stream share a writer. A longer footer costs a second read of the rest (hyparquet asks for it).
 */
export const FOOTER_FETCH_BYTES = 8 * 1024;
export const FOOTER_MARGIN_BYTES = 1024;

/** The next tail size after reading a tail: its footer length (`<len:u32le>PAR1` at the end) plus a margin. */
function nextFooterGuess(tail: Uint8Array, current: number): number {
  if (tail.byteLength < 8) return current;
  const length = new DataView(tail.buffer, tail.byteOffset, tail.byteLength).getUint32(tail.byteLength - 8, true);
  return Math.min(Math.max(length + 8 + FOOTER_MARGIN_BYTES, FOOTER_MARGIN_BYTES), 1 << 20);
}

export interface LocalEngineOptions {
  store: ObjectStore;
  buckets: Record<StoreName, string>;
  /** Key prefix the delivery stream writes under (default `raw/`; the backup keeps the same keys). */
  prefix?: string;
  slack?: ArrivalSlack;
  /** Objects opened ahead of the one being read (S3 latency hides behind the parsing). Default 4. */
  readAhead?: number;
  /** How many bad records to keep as samples in the stats (all are counted). Default 20. */
  badSamples?: number;
  /**
   * Ranged reads for Parquet objects (footer first, then only the row groups and columns needed). Default: the
   * adapter's own (local files, S3 ranged GetObject); without one Parquet objects are read whole.
   */
  readRange?: RangeReader;
  /**
   * Skip Parquet objects and row groups whose time-column statistics show no record in the range. Default true;
   * false is the baseline the benchmark compares with.
   */
  statisticsPruning?: boolean;
}

/** What a run read, so pruning and data quality are visible next to the answer. */
export interface LocalQueryStats {
  engine: 'local';
  prefixes: string[];
  objectsListed: number;
  objectsRead: number;
  /** Listed under a pruned hour but skipped: their key's arrival time is outside the arrival window. */
  objectsSkipped: number;
  /** Parquet objects of which only the footer was read: its statistics show no record in the range. */
  objectsPrunedByStatistics: number;
  /** Row groups not read, in the Parquet objects that were read, for the same reason. */
  rowGroupsPruned: number;
  /** Every byte fetched from the store: whole objects, footers and ranges. */
  bytesRead: number;
  formats: Record<ObjectFormat, number>;
  records: number;
  duplicates: number;
  badRecords: number;
  badSamples: BadRecord[];
  elapsedMs: number;
}

export interface QueryResult<R extends ResultRow> {
  rows: R[];
  stats: LocalQueryStats;
}

interface Listed {
  bucket: string;
  key: string;
  size: number;
  etag: string;
}

/** An object made ready ahead of its turn: a stream of its bytes, or the tail of a Parquet object. */
type Opened = { kind: 'stream'; stream: Readable } | { kind: 'parquet-tail'; tail: Uint8Array; tailStart: number };

/** The objects under the pruned hourly prefixes whose key time falls in the arrival window, in key order. */
async function listObjects(
  options: LocalEngineOptions,
  bucket: string,
  fromSec: number,
  toSec: number,
  stats: LocalQueryStats,
): Promise<Listed[]> {
  const slack = options.slack ?? DEFAULT_SLACK;
  const prefixes = prunedPrefixes(options.prefix ?? RAW_PREFIX, fromSec, toSec, slack);
  const { lo, hi } = arrivalWindow(fromSec, toSec, slack);
  stats.prefixes.push(...prefixes.map((p) => `${bucket}/${p}`));
  const out: Listed[] = [];
  for (const prefix of prefixes) {
    for await (const info of options.store.listAll(bucket, prefix)) {
      stats.objectsListed++;
      let arrival: number | undefined;
      try {
        arrival = parseFirehoseKey(info.key).arrival.getTime() / 1000;
      } catch {
        arrival = undefined; // not Firehose's name: its hour folder is all we know, so it is read
      }
      if (arrival !== undefined && (arrival < lo || arrival > hi)) {
        stats.objectsSkipped++;
        continue;
      }
      out.push({ bucket, key: info.key, size: info.size, etag: info.etag });
    }
  }
  return out;
}

async function* chunksOf(stream: Readable): AsyncIterable<Uint8Array> {
  for await (const chunk of stream) yield chunk as Uint8Array;
}

/** Read one object into the sink, whatever its format (sniffed from its first bytes). */
async function readObject(stream: Readable, object: Listed, sink: TickSink, stats: LocalQueryStats): Promise<void> {
  const iterator = chunksOf(stream)[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = first.value;
  const format = sniffFormat(head);
  stats.formats[format]++;
  let bytes = head.byteLength;
  async function* all(): AsyncIterable<Uint8Array> {
    yield head;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
      bytes += r.value.byteLength;
      yield r.value;
    }
  }
  const where = { bucket: object.bucket, key: object.key };
  try {
    if (format === 'parquet') {
      const parts: Uint8Array[] = [];
      for await (const part of all()) parts.push(part);
      await readParquet(Buffer.concat(parts), where, sink);
    } else {
      await readNdjson(format === 'ndjson-gzip' ? gunzip(all()) : all(), where, sink);
    }
  } catch (error) {
    throw new ObjectReadError(object.bucket, object.key, `cannot read ${format}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    stats.bytesRead += bytes;
  }
}

const PAR1 = [0x50, 0x41, 0x52, 0x31] as const;

function endsWithPar1(tail: Uint8Array): boolean {
  const n = tail.byteLength;
  return n >= 12 && PAR1.every((b, i) => tail[n - 4 + i] === b);
}

/**
 * The object as hyparquet's AsyncBuffer: slices inside the fetched tail come from it, anything else is one ranged
 * read (counted in the stats), minus the part the tail already holds.
 */
function rangedFile(
  object: Listed,
  tail: Uint8Array,
  tailStart: number,
  readRange: RangeReader,
  stats: LocalQueryStats,
): AsyncBuffer {
  const copy = (bytes: Uint8Array, from: number, to: number) =>
    bytes.buffer.slice(bytes.byteOffset + from, bytes.byteOffset + to) as ArrayBuffer;
  return {
    byteLength: object.size,
    async slice(start: number, end = object.size): Promise<ArrayBuffer> {
      if (start >= tailStart) return copy(tail, start - tailStart, end - tailStart);
      const fetchEnd = Math.min(end, tailStart);
      const head = await readRange(object.bucket, object.key, start, fetchEnd, object.etag);
      stats.bytesRead += head.byteLength;
      if (end <= tailStart) return copy(head, 0, head.byteLength);
      const joined = new Uint8Array(end - start);
      joined.set(head, 0);
      joined.set(tail.subarray(0, end - tailStart), fetchEnd - start);
      return joined.buffer;
    },
  };
}

/**
 * Read a Parquet object by ranges: its footer (already fetched with the tail), then only the row groups whose
 * time-column statistics admit a record in the plan's range, and of those only the query columns. An object whose
 * row groups are all ruled out costs its footer. A file lacking a query column is read as before (and reported),
 * so nothing is skipped on doubt.
 * @returns whether any data was read past the footer
 */
async function readParquetRanged(
  object: Listed,
  tail: Uint8Array,
  tailStart: number,
  plan: ScanPlan,
  options: LocalEngineOptions & { readRange: RangeReader },
  sink: TickSink,
  stats: LocalQueryStats,
): Promise<boolean> {
  const where = { bucket: object.bucket, key: object.key };
  try {
    const file = rangedFile(object, tail, tailStart, options.readRange, stats);
    const metadata = await parquetMetadataAsync(file, { initialFetchSize: object.size - tailStart });
    const all = metadata.row_groups.map((_, i) => i);
    const prune =
      options.statisticsPruning !== false &&
      plan.recordTime !== undefined &&
      missingQueryColumns(metadata).length === 0;
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

/**
 * Run a query on the local engine: list only the hourly prefixes that can hold the asked range, read those objects
 * (NDJSON, gzipped NDJSON or Parquet) streaming and in key order, drop duplicate record ids (first copy read wins:
 * copies are the same record re-sent), skip and count bad lines, and feed the query's accumulator. Parquet objects
 * (`.parquet` keys) are read by ranges: footer first, then only the row groups whose time statistics can hold a
 * record of the range (skipping the rest changes no answer: copies of a record share its times).
 */
export async function runLocalQuery<P, R extends ResultRow>(
  definition: QueryDefinition<P, R>,
  params: P,
  options: LocalEngineOptions,
): Promise<QueryResult<R>> {
  const started = performance.now();
  const plan = definition.plan(params);
  const accumulator = definition.local(params);
  const stats: LocalQueryStats = {
    engine: 'local',
    prefixes: [],
    objectsListed: 0,
    objectsRead: 0,
    objectsSkipped: 0,
    objectsPrunedByStatistics: 0,
    rowGroupsPruned: 0,
    bytesRead: 0,
    formats: { ndjson: 0, 'ndjson-gzip': 0, parquet: 0 },
    records: 0,
    duplicates: 0,
    badRecords: 0,
    badSamples: [],
    elapsedMs: 0,
  };
  const maxSamples = options.badSamples ?? 20;
  const readRange = options.readRange ?? rangeReaderFor(options.store);
  let footerGuess = FOOTER_FETCH_BYTES;
  const products = plan.productIds ? new Set(plan.productIds) : undefined;
  for (const storeName of plan.stores) {
    const bucket = options.buckets[storeName];
    const objects = await listObjects(options, bucket, plan.fromSec, plan.toSec, stats);
    const seen = new RecordIdSet();
    const sink: TickSink = {
      onTick(tick: PriceTick) {
        stats.records++;
        if (products !== undefined && !products.has(tick.product_id)) return;
        if (!seen.add(tick.record_id)) {
          stats.duplicates++;
          return;
        }
        accumulator.add(tick, storeName);
      },
      onBad(bad) {
        stats.badRecords++;
        if (stats.badSamples.length < maxSamples) stats.badSamples.push(bad);
      },
    };
    const readAhead = Math.max(1, options.readAhead ?? 4);
    // objects are opened ahead (S3 round trips overlap) but consumed strictly in key order; unread streams hold
    // back-pressure, so memory stays at a few chunks per open stream (or one footer-sized tail per Parquet object)
    const opened: Promise<Opened>[] = [];
    const openStream = (object: Listed): Promise<Opened> =>
      options.store.getStream(object.bucket, object.key).then((r) => ({ kind: 'stream', stream: r.stream }));
    const open = (i: number) => {
      const object = objects[i];
      if (object === undefined) return;
      let p: Promise<Opened>;
      if (readRange !== undefined && object.key.endsWith('.parquet') && object.size > 0) {
        const tailStart = Math.max(0, object.size - footerGuess);
        p = readRange(object.bucket, object.key, tailStart, object.size, object.etag).then((tail) => ({
          kind: 'parquet-tail',
          tail,
          tailStart,
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
        if (ready.kind === 'parquet-tail') {
          stats.bytesRead += ready.tail.byteLength;
          if (readRange !== undefined && endsWithPar1(ready.tail)) {
            footerGuess = nextFooterGuess(ready.tail, footerGuess);
            if (
              await readParquetRanged(object, ready.tail, ready.tailStart, plan, { ...options, readRange }, sink, stats)
            )
              stats.objectsRead++;
            continue;
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
          await readObject(stream, object, sink, stats);
        } finally {
          stream.destroy();
        }
        stats.objectsRead++;
      } catch (error) {
        release(i + 1);
        throw error;
      }
    }
  }
  const rows = accumulator.finish();
  stats.elapsedMs = performance.now() - started;
  return { rows, stats };
}
