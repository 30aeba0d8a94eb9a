import type { ObjectStore } from '@btc-etl/object-store';
import type { PriceTick } from '@btc-etl/price-schema';
import { RAW_PREFIX, parseFirehoseKey } from '@btc-etl/s3-keys';
import type { Readable } from 'node:stream';
import { ObjectReadError } from '../query.errors';
import type { QueryDefinition, ResultRow, StoreName } from '../queries/query.types';
import { DEFAULT_SLACK, arrivalWindow, prunedPrefixes, type ArrivalSlack } from './arrival-window';
import { RecordIdSet } from './record-id.set';
import { gunzip, readNdjson, readParquet, sniffFormat, type BadRecord, type ObjectFormat, type TickSink } from './tick.reader';

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
}

/** What a run read, so pruning and data quality are visible next to the answer. */
export interface LocalQueryStats {
  engine: 'local';
  prefixes: string[];
  objectsListed: number;
  objectsRead: number;
  /** Listed under a pruned hour but skipped: their key's arrival time is outside the arrival window. */
  objectsSkipped: number;
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
}

/** The objects under the pruned hourly prefixes whose key time falls in the arrival window, in key order. */
async function listObjects(options: LocalEngineOptions, bucket: string, fromSec: number, toSec: number, stats: LocalQueryStats): Promise<Listed[]> {
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
      out.push({ bucket, key: info.key, size: info.size });
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
    throw new ObjectReadError(object.bucket, object.key, `cannot read ${format}: ${(error as Error).message}`, { cause: error });
  } finally {
    stats.bytesRead += bytes;
  }
}

/**
 * Run a query on the local engine: list only the hourly prefixes that can hold the asked range, read those objects
 * (NDJSON, gzipped NDJSON or Parquet) streaming and in key order, drop duplicate record ids (first copy read wins:
 * copies are the same record re-sent), skip and count bad lines, and feed the query's accumulator.
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
    bytesRead: 0,
    formats: { ndjson: 0, 'ndjson-gzip': 0, parquet: 0 },
    records: 0,
    duplicates: 0,
    badRecords: 0,
    badSamples: [],
    elapsedMs: 0,
  };
  const maxSamples = options.badSamples ?? 20;
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
    // streams are opened ahead (S3 round trips overlap) but consumed strictly in key order; unread ones hold
    // back-pressure, so memory stays at a few chunks per open stream
    const opened: Promise<Readable>[] = [];
    const open = (i: number) => {
      const object = objects[i];
      if (object === undefined) return;
      const p = options.store.getStream(object.bucket, object.key).then((r) => r.stream);
      p.catch(() => undefined); // observed when its turn comes
      opened.push(p);
    };
    for (let i = 0; i < Math.min(readAhead, objects.length); i++) open(i);
    for (const [i, object] of objects.entries()) {
      let stream: Readable;
      try {
        stream = await (opened[i] as Promise<Readable>);
      } catch (error) {
        for (const later of opened.slice(i + 1)) later.then((s) => s.destroy(), () => undefined);
        throw new ObjectReadError(object.bucket, object.key, `cannot open: ${(error as Error).message}`, { cause: error });
      }
      open(i + readAhead);
      try {
        await readObject(stream, object, sink, stats);
      } catch (error) {
        for (const later of opened.slice(i + 1)) later.then((s) => s.destroy(), () => undefined);
        throw error;
      } finally {
        stream.destroy();
      }
      stats.objectsRead++;
    }
  }
  const rows = accumulator.finish();
  stats.elapsedMs = performance.now() - started;
  return { rows, stats };
}
