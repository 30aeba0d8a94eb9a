import type { SinkEntry } from './tick-sink.port';

/** PutRecordBatch's hard limits (they cannot be raised). */
export const FIREHOSE_LIMITS = {
  /** 1,000 KiB per record, before base64. */
  maxRecordBytes: 1000 * 1024,
  maxBatchRecords: 500,
  /** 4 MiB per call. */
  maxBatchBytes: 4 * 1024 * 1024,
  /** Firehose bills every record as at least this many bytes (rounded up to 5 KiB steps). */
  billingUnitBytes: 5 * 1024,
} as const;

/** One Firehose record: many newline-terminated NDJSON lines, and the entries they came from. */
export interface PackedRecord {
  readonly entries: readonly SinkEntry[];
  readonly bytes: number;
}

/**
 * Pack lines into as few records as fit under `maxRecordBytes` each, in order. Lines are never split: Firehose
 * concatenates records without a delimiter, and every line carries its own `\n`.
 */
export function packRecords(
  entries: readonly SinkEntry[],
  maxRecordBytes: number = FIREHOSE_LIMITS.maxRecordBytes,
): PackedRecord[] {
  const records: PackedRecord[] = [];
  let current: SinkEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (current.length > 0 && bytes + entry.bytes > maxRecordBytes) {
      records.push({ entries: current, bytes });
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.bytes;
  }
  if (current.length > 0) records.push({ entries: current, bytes });
  return records;
}

/** How many leading records fit in one PutRecordBatch call (at least one). */
export function batchLength(
  records: readonly PackedRecord[],
  maxRecords: number = FIREHOSE_LIMITS.maxBatchRecords,
  maxBytes: number = FIREHOSE_LIMITS.maxBatchBytes,
): number {
  let bytes = 0;
  let n = 0;
  for (const record of records) {
    if (n === maxRecords || (n > 0 && bytes + record.bytes > maxBytes)) break;
    bytes += record.bytes;
    n++;
  }
  return n;
}

/** Bytes Firehose bills for a record of this size: rounded up to the next 5 KiB. */
export function billedBytes(recordBytes: number): number {
  const unit = FIREHOSE_LIMITS.billingUnitBytes;
  return Math.max(1, Math.ceil(recordBytes / unit)) * unit;
}

/** The record's payload: its lines concatenated, as UTF-8. */
export function recordData(record: PackedRecord): Uint8Array {
  return Buffer.from(record.entries.map((e) => e.line).join(''), 'utf8');
}
