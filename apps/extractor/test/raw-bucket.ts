import { LocalObjectStore } from '@btc-etl/object-store';
import { decodeNdjson, type PriceTick } from '@btc-etl/price-schema';
import { parseFirehoseKey } from '@btc-etl/s3-keys';

/** Every object under `raw/` of a local bucket, with its records; fails on a key that is not Firehose's layout. */
export async function readLocalRaw(
  dataDir: string,
  bucket = 'btc-etl-raw',
): Promise<{ keys: string[]; records: PriceTick[] }> {
  const store = new LocalObjectStore({ root: dataDir });
  const keys: string[] = [];
  const records: PriceTick[] = [];
  for await (const info of store.listAll(bucket, 'raw/')) {
    parseFirehoseKey(info.key);
    keys.push(info.key);
    records.push(...decodeNdjson(Buffer.from((await store.get(bucket, info.key)).body).toString('utf8')));
  }
  return { keys, records };
}

/** Due seconds (ISO) from the first to the last record's scheduled time that have no record. */
export function missingSeconds(records: readonly PriceTick[], intervalMs: number): string[] {
  const times = [...new Set(records.map((r) => Date.parse(r.scheduled_time ?? '')))].sort((a, b) => a - b);
  const missing: string[] = [];
  const first = times[0];
  const last = times.at(-1);
  if (first === undefined || last === undefined) return missing;
  const have = new Set(times);
  for (let t = first; t <= last; t += intervalMs) if (!have.has(t)) missing.push(new Date(t).toISOString());
  return missing;
}
