import type { Readable } from 'node:stream';
import { ObjectReadError } from '../query.errors';
import type { LocalQueryStats } from './local-query.stats';
import type { Listed } from './raw.listing';
import { gunzip, readNdjson, readParquet, sniffFormat, type TickSink } from './tick.reader';

async function* chunksOf(stream: Readable): AsyncIterable<Uint8Array> {
  for await (const chunk of stream) yield chunk as Uint8Array;
}

/** Read one whole object into the sink, whatever its format (sniffed from its first bytes). */
export async function readWholeObject(
  stream: Readable,
  object: Listed,
  sink: TickSink,
  stats: LocalQueryStats,
): Promise<void> {
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
