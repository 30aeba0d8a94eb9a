import type { ObjectInfo, ObjectStore } from '@btc-etl/object-store';
import { EXCHANGE_TIME, SCHEDULED_TIME, SilverColumnBatch } from '@btc-etl/price-schema';
import {
  parseDatehour,
  RAW_PREFIX,
  silverHourOf,
  silverPartitionPrefix,
  toDatehour,
  type SilverPartition,
} from '@btc-etl/s3-keys';
import { commitPartition, type CommitStep } from './partition.commit';
import { advanceWatermark, readRawHourState, readWatermark, recordProcessed } from './compactor.state';
import { lastLineEnd, parseLineAt, parseLineFast } from './raw.fast';
import { forEachRawLine, parseRawLine, type BadLine } from './raw.lines';
import { RowStore } from './row.store';

const HOUR_MS = 3_600_000;

/**
 * Firehose retries a failed S3 delivery for up to 24 h after a buffer of up to 15 min; the object keeps the arrival
 * hour of its oldest record. An hour's objects may thus land until ~25.25 h after the hour starts, and a run's
 * watermark is at least COMPACT_LATE_SLACK_S behind the previous run: 26 hours behind it cover that with room.
 */
export const DEFAULT_LOOKBACK_HOURS = 26;

export interface RunOptions {
  store: ObjectStore;
  rawBucket: string;
  silverBucket: string;
  rawPrefix?: string;
  now?: () => number;
  /**
   * How long after an arrival hour ends its raw objects may still appear (Firehose buffers up to 900 s before it
   * writes). Only hours that ended longer ago than this can be declared complete (the watermark).
   */
  lateSlackMs: number;
  /** Re-compact exactly these event hours [from, to) from every raw object that may hold them; state is left as is. */
  from?: Date;
  to?: Date;
  dryRun?: boolean;
  /** Arrival hours looked at per run (a first run over a long history catches up over several runs). */
  maxHours?: number;
  /**
   * Arrival hours behind the watermark listed again by an incremental run: Firehose can deliver an object into an
   * old arrival prefix (its S3 retries last up to 24 h), after the watermark passed it. Default
   * DEFAULT_LOOKBACK_HOURS; 0 turns it off.
   */
  lookbackHours?: number;
  /** Records buffered before the touched partitions are committed (bounds memory). */
  batchRecords?: number;
  gcGraceMs?: number;
  onStep?: (step: RunStep, detail: string) => void | Promise<void>;
  log?: (event: string, data: Record<string, unknown>) => void;
}

export type RunStep = CommitStep | 'batch-read' | 'quarantine-written' | 'state-recorded' | 'watermark-advanced';

/** What a run did: the report `run` prints and the metrics it emits. */
export interface RunReport {
  dryRun: boolean;
  hoursScanned: number;
  /** Arrival hours behind the watermark listed again for late deliveries (incremental runs). */
  lookbackHoursScanned: number;
  objectsRead: number;
  bytesRead: number;
  recordsIn: number;
  duplicatesDropped: number;
  quarantinedLines: number;
  partitionsWritten: number;
  bytesWritten: number;
  manifestConflicts: number;
  /** Every raw arrival hour before this is in silver (after the run). */
  rawCompleteBefore: string | null;
}

interface PendingObject {
  datehour: string;
  info: ObjectInfo;
}

function partitionId(p: SilverPartition): string {
  return `${p.productId}|${p.hour.getTime()}`;
}

/** The first arrival hour with a raw object, or undefined when raw is empty. */
async function firstRawHour(store: ObjectStore, bucket: string, prefix: string): Promise<Date | undefined> {
  const page = await store.list(bucket, { prefix, maxKeys: 1 });
  const key = page.objects[0]?.key;
  if (key === undefined) return undefined;
  const datehour = key.slice(prefix.length, prefix.length + 13);
  return parseDatehour(datehour);
}

async function quarantine(options: RunOptions, info: ObjectInfo, bad: readonly BadLine[]): Promise<void> {
  const body = bad
    .map((b) =>
      JSON.stringify({
        source_bucket: options.rawBucket,
        source_key: info.key,
        source_etag: info.etag,
        line: b.line,
        reason: b.reason,
        text: b.text.length > 10_000 ? `${b.text.slice(0, 10_000)}…` : b.text,
      }),
    )
    .join('\n');
  await options.store.put(
    options.silverBucket,
    `quarantine/${options.rawBucket}/${info.key}.${info.etag}.ndjson`,
    `${body}\n`,
    {
      contentType: 'application/x-ndjson',
    },
  );
}

/**
 * One compaction run: raw NDJSON objects not yet compacted (or, with from/to, every object that may hold those event
 * hours) -> validated records grouped by (product, UTC event hour) -> each touched partition merged, deduplicated,
 * rewritten and published by its manifest -> bad lines quarantined -> the raw objects recorded as done -> the
 * watermark moved. Each step is safe to repeat, so a run killed anywhere is completed by the next.
 */
export async function compactRun(options: RunOptions): Promise<RunReport> {
  const { store } = options;
  const now = options.now ?? Date.now;
  const runStart = now();
  const rawPrefix = options.rawPrefix ?? RAW_PREFIX;
  const ranged = options.from !== undefined || options.to !== undefined;
  const fromMs = options.from?.getTime() ?? Number.NEGATIVE_INFINITY;
  const toMs = options.to?.getTime() ?? Number.POSITIVE_INFINITY;
  const report: RunReport = {
    dryRun: options.dryRun ?? false,
    hoursScanned: 0,
    lookbackHoursScanned: 0,
    objectsRead: 0,
    bytesRead: 0,
    recordsIn: 0,
    duplicatesDropped: 0,
    quarantinedLines: 0,
    partitionsWritten: 0,
    bytesWritten: 0,
    manifestConflicts: 0,
    rawCompleteBefore: null,
  };
  const watermark = await readWatermark(store, options.silverBucket);
  report.rawCompleteBefore = watermark?.rawCompleteBefore ?? null;
  let start: Date | undefined;
  if (ranged) {
    // a record of event hour H arrives at or after H: every arrival hour from `from` on may hold one
    start = silverHourOf(
      Number.isFinite(fromMs)
        ? fromMs
        : ((await firstRawHour(store, options.rawBucket, rawPrefix))?.getTime() ?? runStart),
    );
  } else {
    start = watermark ? new Date(watermark.rawCompleteBefore) : await firstRawHour(store, options.rawBucket, rawPrefix);
  }
  if (start === undefined) return report;
  const lastHour = silverHourOf(runStart).getTime();
  const maxHours = options.maxHours ?? 72;

  // 1. what is to do, hour by hour: the lookback window behind the watermark, then from the watermark on
  const hours: { datehour: string; hour: number; todo: ObjectInfo[] }[] = [];
  const scanHour = async (h: number) => {
    const datehour = toDatehour(new Date(h));
    const objects: ObjectInfo[] = [];
    for await (const info of store.listAll(options.rawBucket, `${rawPrefix}${datehour}/`)) objects.push(info);
    const done =
      ranged || objects.length === 0
        ? new Map<string, string>()
        : (await readRawHourState(store, options.silverBucket, datehour)).objects;
    return { datehour, hour: h, todo: objects.filter((o) => done.get(o.key) !== o.etag) };
  };
  if (!ranged && watermark) {
    const lookback = options.lookbackHours ?? DEFAULT_LOOKBACK_HOURS;
    for (let h = start.getTime() - lookback * HOUR_MS; h < start.getTime(); h += HOUR_MS) {
      const scanned = await scanHour(h);
      report.lookbackHoursScanned++;
      if (scanned.todo.length > 0) {
        options.log?.('late raw objects behind the watermark', {
          datehour: scanned.datehour,
          objects: scanned.todo.length,
        });
        hours.push(scanned);
      }
    }
  }
  const forwardFrom = hours.length;
  for (let h = start.getTime(); h <= lastHour && hours.length - forwardFrom < maxHours; h += HOUR_MS) {
    hours.push(await scanHour(h));
  }
  report.hoursScanned = hours.length - forwardFrom;

  // 2. read, group, commit, in batches that bound memory
  const batchRecords = options.batchRecords ?? 2_000_000;
  let partitions = new Map<string, { partition: SilverPartition; rows: RowStore }>();
  let batch: { pending: PendingObject; bad: BadLine[] }[] = [];
  let buffered = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    await options.onStep?.('batch-read', `${batch.length} objects`);
    for (const { partition, rows } of partitions.values()) {
      const result = await commitPartition(partition, rows, {
        store,
        bucket: options.silverBucket,
        dryRun: report.dryRun,
        gcGraceMs: options.gcGraceMs ?? 600_000,
        now,
        onStep: (step, p) => options.onStep?.(step, silverPartitionPrefix(p)),
      });
      report.duplicatesDropped += result.duplicates;
      report.manifestConflicts += result.conflicts;
      if (result.written) {
        report.partitionsWritten++;
        report.bytesWritten += result.bytes;
      }
      options.log?.('partition committed', {
        partition: silverPartitionPrefix(partition),
        written: result.written,
        generation: result.generation,
        rows: result.rows,
      });
    }
    if (!report.dryRun) {
      for (const { pending, bad } of batch) {
        if (bad.length > 0) await quarantine(options, pending.info, bad);
      }
      await options.onStep?.('quarantine-written', `${batch.length} objects`);
      if (!ranged) {
        const byHour = new Map<string, Map<string, string>>();
        for (const { pending } of batch) {
          const m = byHour.get(pending.datehour) ?? new Map<string, string>();
          m.set(pending.info.key, pending.info.etag);
          byHour.set(pending.datehour, m);
        }
        for (const [datehour, processed] of byHour)
          await recordProcessed(store, options.silverBucket, datehour, processed);
        await options.onStep?.('state-recorded', [...byHour.keys()].join(','));
      }
    }
    partitions = new Map();
    batch = [];
    buffered = 0;
  };

  // one line at a time, parsed in place into the free row of the store its predecessor went to (a partition's lines
  // mostly follow each other), then committed there, or copied into the store of its own partition
  const staging = new SilverColumnBatch(1);
  let last: { productId: string; hour: number; rows: RowStore } | undefined;
  const add = (productId: string, row: SilverColumnBatch, i: number) => {
    // a batch allocates a column at its first value: no exchange_time column yet is a null one
    const exchange = row.numbers[EXCHANGE_TIME]?.[i] ?? Number.NaN;
    const eventMs = exchange === exchange ? exchange : (row.numbers[SCHEDULED_TIME]?.[i] as number);
    if (eventMs < fromMs || eventMs >= toMs) return;
    report.recordsIn++;
    buffered++;
    const hour = eventMs - (((eventMs % HOUR_MS) + HOUR_MS) % HOUR_MS);
    if (last !== undefined && last.hour === hour && last.productId === productId) {
      if (row === staging) last.rows.addRow(row, i);
      else last.rows.commitSlot();
      return;
    }
    const partition = { productId, hour: new Date(hour) };
    const id = partitionId(partition);
    let entry = partitions.get(id);
    if (!entry) {
      entry = { partition, rows: new RowStore(productId) };
      partitions.set(id, entry);
    }
    entry.rows.addRow(row, i, productId);
    last = { productId, hour, rows: entry.rows };
  };

  // the common line: parsed where it starts, its end found on the way (forEachRawLine's `take`)
  const takeFast = (bytes: Buffer, start: number): number => {
    const row = last === undefined ? staging : last.rows.slot();
    const i = last === undefined ? 0 : last.rows.slotIndex;
    const productId = parseLineAt(bytes, start, row, i);
    if (productId === undefined) return -1;
    const end = lastLineEnd();
    add(productId, row, i);
    return end;
  };

  for (const { datehour, todo } of hours) {
    for (const info of todo) {
      const bad: BadLine[] = [];
      const { chunks } = await store.getChunks(options.rawBucket, info.key);
      await forEachRawLine(
        chunks,
        (bytes, start, end, line) => {
          if (start === end) return;
          const row = last === undefined ? staging : last.rows.slot();
          const i = last === undefined ? 0 : last.rows.slotIndex;
          const productId = parseLineFast(bytes, start, end, row, i);
          if (productId !== undefined) {
            add(productId, row, i);
            return;
          }
          const text = bytes.toString('utf8', start, end);
          if (text.trim() === '') return;
          const parsed = parseRawLine(text, line);
          if ('bad' in parsed) {
            bad.push(parsed.bad);
            return;
          }
          row.setTick(i, parsed.tick);
          add(parsed.tick.product_id, row, i);
        },
        takeFast,
      );
      report.objectsRead++;
      report.bytesRead += info.size;
      report.quarantinedLines += bad.length;
      batch.push({ pending: { datehour, info }, bad });
      if (buffered >= batchRecords) {
        await flush();
        last = undefined;
      }
    }
  }
  await flush();

  // 3. the watermark: past every closed hour that is now fully compacted
  if (!ranged && !report.dryRun) {
    let before: number | undefined;
    for (const { hour } of hours.slice(forwardFrom)) {
      if (hour + HOUR_MS + options.lateSlackMs > runStart) break;
      before = hour + HOUR_MS;
    }
    if (before !== undefined) {
      await advanceWatermark(store, options.silverBucket, new Date(before), new Date(now()));
      report.rawCompleteBefore = new Date(before).toISOString();
      await options.onStep?.('watermark-advanced', report.rawCompleteBefore);
    }
  }
  return report;
}
