import { PreconditionFailedError, type ObjectStore } from '@btc-etl/object-store';
import { decodeSilverParquet, SILVER_ROW_GROUP_SIZE, SilverParquetWriter, type PriceTick } from '@btc-etl/price-schema';
import { backoffMs, retry } from '@btc-etl/resilience';
import {
  parseSilverKey,
  parseSilverManifest,
  SILVER_MANIFEST_NAME,
  silverKey,
  silverManifestKey,
  silverPartitionPrefix,
  type SilverManifest,
  type SilverPartition,
} from '@btc-etl/s3-keys';
import { randomUUID } from 'node:crypto';
import { closeSync, createReadStream, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planMerge, writeMerge } from './partition.merge';
import { RowStore } from './row.store';
import { CompactorError } from '../compactor.errors';

/** What committing one partition did. */
export interface PartitionResult {
  partition: SilverPartition;
  /** False when every new record was already there: nothing written. */
  written: boolean;
  generation: number;
  rows: number;
  /** Records of this run that were already in the partition (or twice in this run). */
  duplicates: number;
  bytes: number;
  /** Manifest swings lost to a concurrent run (each followed by a re-read and a retry). */
  conflicts: number;
}

export interface CommitOptions {
  store: ObjectStore;
  bucket: string;
  dryRun?: boolean;
  /** Leftover data files (not in the manifest) older than this are deleted. */
  gcGraceMs: number;
  now?: () => number;
  /** Test hook: called at named points of the protocol (a crash test kills the process there). */
  onStep?: (step: CommitStep, partition: SilverPartition) => void | Promise<void>;
  maxAttempts?: number;
}

export type CommitStep = 'data-written' | 'manifest-swung' | 'old-deleted';

async function readManifest(
  store: ObjectStore,
  bucket: string,
  partition: SilverPartition,
): Promise<{ manifest: SilverManifest; etag: string } | undefined> {
  const key = silverManifestKey(partition);
  try {
    const { body, info } = await store.get(bucket, key);
    return { manifest: parseSilverManifest(key, body), etag: info.etag };
  } catch (error) {
    if ((error as { name?: string }).name === 'ObjectNotFoundError') return undefined;
    throw error;
  }
}

/** Every record of the partition as its manifest names them, handed over one by one. */
export async function readPartition(
  store: ObjectStore,
  bucket: string,
  partition: SilverPartition,
  manifest: SilverManifest,
  onTick: (tick: PriceTick) => void,
): Promise<void> {
  for (const file of manifest.files) {
    const key = silverKey({ ...partition, name: file.name });
    const { body } = await store.get(bucket, key);
    // a row group's worth at a time: a partition of 1.8M records never exists as 1.8M objects at once
    for (let rowStart = 0; rowStart < file.rows; rowStart += SILVER_ROW_GROUP_SIZE) {
      const rowEnd = Math.min(file.rows, rowStart + SILVER_ROW_GROUP_SIZE);
      const ticks = await decodeSilverParquet(body, { productId: partition.productId, rowStart, rowEnd });
      for (const tick of ticks) onTick(tick);
    }
  }
}

function dataFileName(generation: number): string {
  return `g${String(generation).padStart(6, '0')}-${randomUUID().slice(0, 8)}.parquet`;
}

/**
 * Merge new records into one partition and publish the result atomically:
 * 1. read the manifest (and its ETag) and the records of the files it names;
 * 2. merge (dedup by record_id) and, if anything is new, write ONE new immutable file `g<generation>-<random>.parquet`;
 * 3. swing the manifest to name only that file, with a conditional put (If-Match the ETag read, or If-None-Match *
 *    for a new partition). A concurrent run that swung first makes this put fail: re-read, merge again, retry;
 *    our unpublished file is deleted;
 * 4. delete files the manifest no longer names once they are older than the grace period (readers that listed the
 *    old manifest a moment ago can still finish).
 * A crash anywhere leaves the manifest naming either the old file(s) or the new one: never a partial partition.
 */
export async function commitPartition(
  partition: SilverPartition,
  incoming: RowStore,
  options: CommitOptions,
): Promise<PartitionResult> {
  const { store, bucket } = options;
  const now = options.now ?? Date.now;
  let conflicts = 0;
  const result = await retry(
    async () => {
      const current = await readManifest(store, bucket, partition);
      // a new partition is the incoming records as they are; into an existing one they are merged, rewriting only
      // the row groups they fall in (partition.merge.ts); a manifest of several files, or ids reused with another
      // time, merge record by record
      let rows = incoming.size;
      let added = incoming.size;
      let writeRows: (writer: SilverParquetWriter) => Promise<unknown> = async (writer) =>
        incoming.forEachRowGroup((group, n) => writer.writeBatch(group, n));
      if (current) {
        const only = current.manifest.files.length === 1 ? current.manifest.files[0] : undefined;
        const file = only && (await store.get(bucket, silverKey({ ...partition, name: only.name }))).body;
        const plan = file && (await planMerge(file, incoming));
        if (file && plan) {
          added = incoming.size - plan.held;
          rows = only.rows + added;
          writeRows = (writer) => writeMerge(file, plan, incoming, writer);
        } else {
          const merged = new RowStore(partition.productId);
          await readPartition(store, bucket, partition, current.manifest, (t) => merged.add(t));
          const before = merged.size;
          merged.addAll(incoming);
          added = merged.size - before;
          rows = merged.size;
          writeRows = async (writer) => merged.forEachRowGroup((group, n) => writer.writeBatch(group, n));
        }
      }
      const generation = (current?.manifest.generation ?? 0) + 1;
      const duplicates = incoming.duplicates + (incoming.size - added);
      if (added === 0 && current !== undefined) {
        return { partition, written: false, generation: generation - 1, rows, duplicates, bytes: 0 };
      }
      if (options.dryRun) {
        return { partition, written: false, generation, rows, duplicates, bytes: 0 };
      }
      const name = dataFileName(generation);
      const key = silverKey({ ...partition, name });
      // the file goes to a scratch file row group by row group, then is uploaded from there: memory holds the
      // partition's packed records and one row group, never the whole output
      const scratch = join(tmpdir(), `btc-etl-silver-${randomUUID()}.parquet`);
      const fd = openSync(scratch, 'w');
      let open = true;
      let bytes = 0;
      try {
        const writer = new SilverParquetWriter({
          productId: partition.productId,
          onChunk: (chunk) => {
            writeSync(fd, chunk);
            bytes += chunk.byteLength;
          },
        });
        await writeRows(writer);
        if (writer.rows !== rows) {
          throw new CompactorError(
            `partition ${silverPartitionPrefix(partition)}: wrote ${writer.rows} rows of ${rows}`,
            {
              partition: silverPartitionPrefix(partition),
              rows,
              written: writer.rows,
            },
          );
        }
        writer.finish();
        closeSync(fd);
        open = false;
        // read back in one piece up to 1 MiB: each read of a stream is a trip to the thread pool, and each buffer
        // external memory (an hour of a 1 Hz product is ~200 KiB)
        const body = createReadStream(scratch, { highWaterMark: Math.min(1 << 20, Math.max(bytes, 1)) });
        await store.put(bucket, key, body, { contentType: 'application/vnd.apache.parquet' });
      } finally {
        // close only once: a descriptor closed twice may by then be somebody else's (a socket's)
        if (open) closeSync(fd);
        rmSync(scratch, { force: true });
      }
      await options.onStep?.('data-written', partition);
      const manifest: SilverManifest = {
        format: 'btc-etl-silver-manifest/1',
        productId: partition.productId,
        hour: partition.hour.toISOString(),
        generation,
        files: [{ name, rows, bytes }],
        rows,
        writtenAt: new Date(now()).toISOString(),
      };
      try {
        await store.put(bucket, silverManifestKey(partition), JSON.stringify(manifest, null, 1), {
          contentType: 'application/json',
          ...(current ? { ifMatch: current.etag } : { ifNoneMatch: '*' as const }),
        });
      } catch (error) {
        if (error instanceof PreconditionFailedError) {
          conflicts++;
          await store.delete(bucket, key);
        }
        throw error;
      }
      await options.onStep?.('manifest-swung', partition);
      return { partition, written: true, generation, rows, duplicates, bytes };
    },
    {
      delayMs: (attempt, error) =>
        error instanceof PreconditionFailedError && attempt < (options.maxAttempts ?? 20)
          ? backoffMs(attempt, { baseMs: 50, capMs: 2_000 })
          : null,
    },
  ).catch((error: unknown) => {
    if (error instanceof PreconditionFailedError) {
      throw new CompactorError(
        `partition ${silverPartitionPrefix(partition)}: lost ${conflicts} manifest races`,
        {
          partition: silverPartitionPrefix(partition),
          conflicts,
        },
        { cause: error },
      );
    }
    throw error;
  });
  if (!options.dryRun) await collectGarbage(partition, options);
  return { ...result, conflicts };
}

/**
 * Delete data files of a partition that its manifest does not name and that are older than the grace period: files
 * of older generations, and files of runs that crashed or lost a race before their manifest swing.
 */
export async function collectGarbage(partition: SilverPartition, options: CommitOptions): Promise<number> {
  const { store, bucket } = options;
  // the store's clock stamps lastModified: compare with the wall clock, not an injected one
  const now = Date.now();
  const current = await readManifest(store, bucket, partition);
  const live = new Set(current?.manifest.files.map((f) => f.name) ?? []);
  let deleted = 0;
  for await (const object of store.listAll(bucket, silverPartitionPrefix(partition))) {
    const { name } = parseSilverKey(object.key);
    if (name === SILVER_MANIFEST_NAME || live.has(name)) continue;
    if (now - object.lastModified.getTime() < options.gcGraceMs) continue;
    await store.delete(bucket, object.key);
    deleted++;
  }
  if (deleted > 0) await options.onStep?.('old-deleted', partition);
  return deleted;
}
