import type { LayerName } from './layer';
import type { BadRecord, ObjectFormat } from './tick.reader';

/** What a run read, so pruning and data quality are visible next to the answer. */
export interface LocalQueryStats {
  engine: 'local';
  /** The layer that answered the raw bucket's part: `raw`, `silver`, or `auto` (silver plus raw past the watermark). */
  layer: LayerName;
  /** The compactor's watermark as read (`auto`): raw arrival hours before it were not listed. */
  rawCompleteBefore?: string;
  /** Of `objectsRead`, the silver files (the rest are raw or backup objects). */
  silverObjectsRead: number;
  /** Silver row groups read through the typed path (columns straight into typed arrays, for queries that have one). */
  silverTypedRowGroups: number;
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

/** The stats of a run that has read nothing yet. */
export function emptyStats(): LocalQueryStats {
  return {
    engine: 'local',
    layer: 'raw',
    silverObjectsRead: 0,
    silverTypedRowGroups: 0,
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
}
