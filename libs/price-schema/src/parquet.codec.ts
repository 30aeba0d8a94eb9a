import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { PriceSchemaError } from './price-schema.errors';
import { PRICE_TICK_COLUMNS, PRICE_TICK_FIELDS, type PriceTick } from './price-tick.schema';

/** The Parquet columns, derived from the schema (name, hyparquet-writer basic type, nullable). */
export const PARQUET_COLUMNS = PRICE_TICK_COLUMNS.map((name) => ({
  name,
  type: PRICE_TICK_FIELDS[name].parquet,
  nullable: true,
}));

/**
 * Byte length kept of string min/max statistics. hyparquet-writer's default (16) cuts an ISO time to the minute
 * ("2026-11-27T10:00"); readers skip row groups by the time columns' min/max, so whole values are kept: ISO times
 * are at most 30 bytes (nanoseconds), record ids 32.
 */
const STATISTICS_TRUNCATE_LENGTH = 64;

/** Records to one Parquet file (Snappy, statistics on, string min/max kept whole), every schema column present. */
export function encodeParquet(ticks: readonly PriceTick[]): Uint8Array {
  const columnData = PARQUET_COLUMNS.map((column) => ({
    name: column.name,
    type: column.type,
    nullable: column.nullable,
    data: ticks.map((tick) => {
      const value = tick[column.name];
      if (value === undefined || value === null) return null;
      return column.type === 'INT64' ? BigInt(value as number) : value;
    }),
  }));
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: columnData as never,
      createdBy: 'bitcoin-stream-etl',
      statisticsTruncateLength: STATISTICS_TRUNCATE_LENGTH,
    }),
  );
}

function toArrayBuffer(bytes: Uint8Array | ArrayBuffer): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Rows from hyparquet back to records: BigInt to number, null optional columns dropped (as in NDJSON). */
export function rowToPriceTick(row: Record<string, unknown>): PriceTick {
  const out: Record<string, unknown> = {};
  for (const name of PRICE_TICK_COLUMNS) {
    let value = row[name];
    if (typeof value === 'bigint') value = Number(value);
    if (value === undefined || (value === null && !PRICE_TICK_FIELDS[name].required)) continue;
    out[name] = value ?? null;
  }
  return out as PriceTick;
}

/** Read a whole Parquet file of price records. */
export async function decodeParquet(bytes: Uint8Array | ArrayBuffer): Promise<PriceTick[]> {
  let rows: Record<string, unknown>[];
  try {
    rows = (await parquetReadObjects({ file: toArrayBuffer(bytes) })) as Record<string, unknown>[];
  } catch (cause) {
    throw new PriceSchemaError(`not a readable Parquet file: ${(cause as Error).message}`, { cause });
  }
  return rows.map(rowToPriceTick);
}
