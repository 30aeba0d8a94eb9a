import { randomUUID } from 'node:crypto';
import { S3KeyError } from './s3-keys.errors';

/** The prefix the delivery stream writes under (infra and the local sink agree on it). */
export const RAW_PREFIX = 'raw/';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `yyyy/MM/dd/HH` of a time in UTC: Firehose's hourly folder and the Athena `datehour` partition value. */
export function toDatehour(date: Date): string {
  assertValidDate(date, 'toDatehour');
  return `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}/${pad(date.getUTCHours())}`;
}

const DATEHOUR = /^(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})$/;

/** The start of the hour a `yyyy/MM/dd/HH` value names (UTC). */
export function parseDatehour(value: string): Date {
  const m = DATEHOUR.exec(value);
  if (!m) throw new S3KeyError(value, 'not a yyyy/MM/dd/HH datehour');
  const [, y, mo, d, h] = m.map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || date.getUTCHours() !== h) {
    throw new S3KeyError(value, 'not a calendar datehour');
  }
  return date;
}

export interface FirehoseKeyParts {
  /** Default `raw/`; empty for the bucket root; must end in `/` otherwise. */
  prefix?: string;
  streamName: string;
  /** Delivery stream version, starts at 1. */
  version?: number;
  /** When the oldest record of the object arrived at Firehose: the key's time (UTC), not the records' own time. */
  arrival: Date;
  uuid?: string;
  /** Without the dot: `parquet`, `gz`... */
  extension?: string;
}

export interface ParsedFirehoseKey {
  prefix: string;
  streamName: string;
  version: number;
  arrival: Date;
  uuid: string;
  extension?: string;
  datehour: string;
}

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function assertValidDate(date: Date, where: string): void {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new TypeError(`${where}: not a valid Date`);
}

/**
 * Firehose's default object key: `<prefix>YYYY/MM/dd/HH/<stream>-<version>-YYYY-MM-dd-HH-mm-ss-<uuid>[.ext]` in UTC.
 * @example buildFirehoseKey({ streamName: 'btc-etl-ticks', arrival: new Date('2026-11-27T19:53:15Z') })
 *   // 'raw/2026/11/27/19/btc-etl-ticks-1-2026-11-27-19-53-15-<uuid>'
 */
export function buildFirehoseKey(parts: FirehoseKeyParts): string {
  const prefix = parts.prefix ?? RAW_PREFIX;
  if (prefix !== '' && !prefix.endsWith('/')) throw new S3KeyError(prefix, 'a key prefix must end in "/"');
  if (!STREAM_NAME.test(parts.streamName)) throw new S3KeyError(parts.streamName, 'not a delivery stream name');
  const version = parts.version ?? 1;
  if (!Number.isInteger(version) || version < 1)
    throw new S3KeyError(String(version), 'version must be an integer >= 1');
  const uuid = parts.uuid ?? randomUUID();
  if (!UUID.test(uuid)) throw new S3KeyError(uuid, 'not a UUID');
  if (parts.extension !== undefined && !/^[a-z0-9.]+$/i.test(parts.extension)) {
    throw new S3KeyError(parts.extension, 'not a file extension');
  }
  const a = parts.arrival;
  assertValidDate(a, 'buildFirehoseKey');
  const stamp =
    `${a.getUTCFullYear()}-${pad(a.getUTCMonth() + 1)}-${pad(a.getUTCDate())}-` +
    `${pad(a.getUTCHours())}-${pad(a.getUTCMinutes())}-${pad(a.getUTCSeconds())}`;
  const ext = parts.extension ? `.${parts.extension}` : '';
  return `${prefix}${toDatehour(a)}/${parts.streamName}-${version}-${stamp}-${uuid}${ext}`;
}

// One line per part: prefix and datehour, stream and version, timestamp, uuid, extension
const KEY = new RegExp(
  [
    String.raw`^(.*?)(\d{4}\/\d{2}\/\d{2}\/\d{2})\/`,
    String.raw`([a-zA-Z0-9_.-]{1,64})-(\d+)-`,
    String.raw`(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-`,
    String.raw`([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})`,
    String.raw`(?:\.([a-zA-Z0-9.]+))?$`,
  ].join(''),
);

/** Parse a Firehose key back into its parts; throws S3KeyError naming the key when it is not one. */
export function parseFirehoseKey(key: string): ParsedFirehoseKey {
  const m = KEY.exec(key);
  if (!m)
    throw new S3KeyError(
      key,
      'not a Firehose object key (<prefix>YYYY/MM/dd/HH/<stream>-<version>-YYYY-MM-dd-HH-mm-ss-<uuid>)',
    );
  const [, prefix = '', datehour = '', streamName = '', version = '', y, mo, d, h, mi, s, uuid = '', extension] = m;
  if (prefix !== '' && !prefix.endsWith('/'))
    throw new S3KeyError(key, 'the prefix before the date folders must end in "/"');
  const arrival = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  if (
    Number.isNaN(arrival.getTime()) ||
    arrival.getUTCDate() !== Number(d) ||
    arrival.getUTCMonth() !== Number(mo) - 1 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    throw new S3KeyError(key, 'the time in the key is not a calendar time');
  }
  if (toDatehour(arrival) !== datehour)
    throw new S3KeyError(key, 'the date folders and the time in the file name disagree');
  return {
    prefix,
    streamName,
    version: Number(version),
    arrival,
    uuid,
    datehour,
    ...(extension !== undefined ? { extension } : {}),
  };
}

const HOUR_MS = 3_600_000;

/**
 * The hourly folders `<prefix>YYYY/MM/dd/HH/` that cover [from, to] (both hours included), in order.
 * Keys carry arrival time, so a caller that wants records by their own time widens `to` (and maybe `from`) first.
 * @example hourlyPrefixes('raw/', new Date('2026-11-27T00:30Z'), new Date('2026-11-27T01:10Z'))
 *   // ['raw/2026/11/27/00/', 'raw/2026/11/27/01/']
 */
export function hourlyPrefixes(prefix: string, from: Date, to: Date, options: { maxHours?: number } = {}): string[] {
  assertValidDate(from, 'hourlyPrefixes(from)');
  assertValidDate(to, 'hourlyPrefixes(to)');
  if (from.getTime() > to.getTime())
    throw new RangeError(`hourlyPrefixes: from ${from.toISOString()} is after to ${to.toISOString()}`);
  const maxHours = options.maxHours ?? 24 * 366 * 2;
  const first = Math.floor(from.getTime() / HOUR_MS);
  const last = Math.floor(to.getTime() / HOUR_MS);
  if (last - first + 1 > maxHours) {
    throw new RangeError(`hourlyPrefixes: ${last - first + 1} hours is more than the ${maxHours} allowed`);
  }
  const out: string[] = [];
  for (let h = first; h <= last; h++) out.push(`${prefix}${toDatehour(new Date(h * HOUR_MS))}/`);
  return out;
}
