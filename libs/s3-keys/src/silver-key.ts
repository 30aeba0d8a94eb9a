import { S3KeyError } from './s3-keys.errors';

/**
 * The silver layer: deduplicated price records in Parquet, partitioned Hive-style by product and by the UTC hour of
 * each record's event time (`exchange_time ?? scheduled_time`, the time every query ranges over):
 * `silver/ticks/product_id=<product>/dt=<YYYY-MM-DD>/hour=<HH>/<name>.parquet`.
 */
export const SILVER_PREFIX = 'silver/ticks/';

/** The file, inside a partition folder, naming the partition's live data files (see apps/compactor/README.md). */
export const SILVER_MANIFEST_NAME = '_manifest.json';

const HOUR_MS = 3_600_000;
const PRODUCT = /^[A-Z0-9]{2,12}-[A-Z0-9]{2,12}$/;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;

/** One silver partition: a product and the start of a UTC event hour. */
export interface SilverPartition {
  productId: string;
  /** The first millisecond of the UTC hour (minutes, seconds and milliseconds are zero). */
  hour: Date;
}

export interface ParsedSilverKey extends SilverPartition {
  /** `YYYY-MM-DD` of the hour (the `dt=` folder). */
  dt: string;
  /** File name inside the partition folder, with its extension. */
  name: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The start of the UTC hour that holds a time given as a Date or epoch milliseconds. */
export function silverHourOf(time: Date | number): Date {
  const ms = typeof time === 'number' ? time : time.getTime();
  if (!Number.isFinite(ms)) throw new TypeError('silverHourOf: not a valid time');
  return new Date(Math.floor(ms / HOUR_MS) * HOUR_MS);
}

function assertPartition(partition: SilverPartition, where: string): void {
  if (!PRODUCT.test(partition.productId)) {
    throw new S3KeyError(partition.productId, `${where}: not a product id such as "BTC-USD"`);
  }
  const ms = partition.hour instanceof Date ? partition.hour.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`${where}: hour is not a valid Date`);
  if (ms % HOUR_MS !== 0) {
    throw new S3KeyError(partition.hour.toISOString(), `${where}: hour must be the start of a UTC hour`);
  }
}

/**
 * The folder of one partition, with its trailing `/`.
 * @example silverPartitionPrefix({ productId: 'BTC-USD', hour: new Date('2026-11-27T19:00:00Z') })
 *   // 'silver/ticks/product_id=BTC-USD/dt=2026-11-27/hour=19/'
 */
export function silverPartitionPrefix(partition: SilverPartition): string {
  assertPartition(partition, 'silverPartitionPrefix');
  const h = partition.hour;
  const dt = `${h.getUTCFullYear()}-${pad(h.getUTCMonth() + 1)}-${pad(h.getUTCDate())}`;
  return `${SILVER_PREFIX}product_id=${partition.productId}/dt=${dt}/hour=${pad(h.getUTCHours())}/`;
}

/**
 * The key of one file in a partition. `name` is a plain file name (no `/`), normally ending in `.parquet`.
 * @example silverKey({ productId: 'BTC-USD', hour: new Date('2026-11-27T19:00:00Z'), name: 'g000001-3f2a.parquet' })
 */
export function silverKey(parts: SilverPartition & { name: string }): string {
  if (!FILE_NAME.test(parts.name)) throw new S3KeyError(parts.name, 'silverKey: not a plain file name');
  return `${silverPartitionPrefix(parts)}${parts.name}`;
}

/** The manifest key of a partition: `<partition folder>/_manifest.json`. */
export function silverManifestKey(partition: SilverPartition): string {
  return `${silverPartitionPrefix(partition)}${SILVER_MANIFEST_NAME}`;
}

const KEY = /^(.*?)silver\/ticks\/product_id=([^/]+)\/dt=(\d{4})-(\d{2})-(\d{2})\/hour=(\d{2})\/([^/]+)$/;

/**
 * Parse a silver key (with or without a bucket-level prefix before `silver/ticks/`) into its partition and file name;
 * throws S3KeyError naming the key when it is not one.
 */
export function parseSilverKey(key: string): ParsedSilverKey {
  const m = KEY.exec(key);
  if (!m) {
    throw new S3KeyError(key, 'not a silver key (silver/ticks/product_id=<p>/dt=<YYYY-MM-DD>/hour=<HH>/<name>)');
  }
  const [, prefix = '', productId = '', y, mo, d, h, name = ''] = m;
  if (prefix !== '' && !prefix.endsWith('/')) throw new S3KeyError(key, 'the prefix before silver/ must end in "/"');
  if (!PRODUCT.test(productId)) throw new S3KeyError(key, 'the product_id folder is not a product id');
  const hour = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h)));
  if (
    hour.getUTCFullYear() !== Number(y) ||
    hour.getUTCMonth() !== Number(mo) - 1 ||
    hour.getUTCDate() !== Number(d) ||
    hour.getUTCHours() !== Number(h)
  ) {
    throw new S3KeyError(key, 'the dt/hour folders are not a calendar hour');
  }
  return { productId, hour, dt: `${y}-${mo}-${d}`, name };
}
