import { SilverValueError } from './price-schema.errors';
import {
  MISS_REASONS,
  PRICE_SOURCES,
  PRICE_TICK_COLUMNS,
  PRICE_TICK_FIELDS,
  TICK_STATUSES,
  type PriceTick,
  type PriceTickField,
} from './price-tick.schema';

/**
 * Silver records as typed columns, the form the silver writer encodes from and the compactor keeps records in (no
 * object per record). One value per row and field, every field but `product_id`:
 * - `record_id`: 16 bytes (the 32 hex digits);
 * - `source`, `status`, `reason`: the index in PRICE_SOURCES / TICK_STATUSES / MISS_REASONS (NULL_CODE for null);
 * - decimals: the written digits as one integer (`"97123.40"` -> 9712340) and the fraction digit count; a value with
 *   more digits than a double holds exactly (> 15) or more than 18 fraction digits (trailing zeros) is kept as its text
 *   (`BIG_DECIMAL`, in `bigText`);
 * - times: epoch milliseconds, the microseconds below them (0-999) and the written fraction digit count;
 * - integers: the number; booleans: 0 null, 1 false, 2 true.
 * Null numbers are NaN. A column's arrays are allocated at its first non-null value: a column that is null throughout
 * (most of them, for a given source) costs nothing.
 */

export const NULL_CODE = 255;
export const BIG_DECIMAL = -1;
const NULL_BOOL = 0;

export type SilverFieldKind = 'id' | 'enum' | 'decimal' | 'timestamp' | 'int64' | 'int32' | 'boolean';

export interface SilverField {
  name: PriceTickField;
  kind: SilverFieldKind;
  /** Enum columns: the values a code indexes. */
  values?: readonly string[];
}

const ENUM_VALUES: Partial<Record<PriceTickField, readonly string[]>> = {
  source: PRICE_SOURCES,
  status: TICK_STATUSES,
  reason: MISS_REASONS,
};

/** The record fields a silver file holds as columns, in file order (every field but the partition's `product_id`). */
export const SILVER_FIELDS: readonly SilverField[] = PRICE_TICK_COLUMNS.flatMap((name): SilverField[] => {
  const silver = PRICE_TICK_FIELDS[name].silver;
  if (silver === 'partition') return [];
  if (name === 'record_id') return [{ name, kind: 'id' }];
  if (silver === 'string') {
    const values = ENUM_VALUES[name];
    if (values === undefined) throw new Error(`silver.columns: no value list for string column ${name}`);
    return [{ name, kind: 'enum', values }];
  }
  return [{ name, kind: silver }];
});

/** How each field's null is stored: NaN in its numbers, NULL_CODE or NULL_BOOL in its bytes. */
const NULL_AS_NAN = 0;
const NULL_AS_CODE = 1;
const NULL_AS_BOOL = 2;
const NULL_KIND = Uint8Array.from(SILVER_FIELDS, (f) =>
  f.kind === 'enum' ? NULL_AS_CODE : f.kind === 'boolean' ? NULL_AS_BOOL : NULL_AS_NAN,
);

/** Field positions by name, for code that reads one column by name. */
export const SILVER_FIELD_INDEX: Readonly<Record<string, number>> = Object.fromEntries(
  SILVER_FIELDS.map((f, i) => [f.name, i]),
);
export const EXCHANGE_TIME = SILVER_FIELD_INDEX.exchange_time as number;
export const SCHEDULED_TIME = SILVER_FIELD_INDEX.scheduled_time as number;
export const INGEST_TIME = SILVER_FIELD_INDEX.ingest_time as number;

const INT_DIGITS = 20;
const SCALE = 18;
const DECIMAL_TEXT = /^\d+(\.\d+)?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;
const INT32_MAX = 2_147_483_647;

function refuse(id: string, column: string, value: unknown, reason: string): never {
  throw new SilverValueError(id, column, String(value), reason);
}

/**
 * The integer and fraction digits of a decimal string that fits DECIMAL(38,18); refuses (SilverValueError) one that
 * does not: nothing is rounded.
 */
export function silverDecimalParts(id: string, column: string, text: unknown): [string, string] {
  if (typeof text !== 'string' || !DECIMAL_TEXT.test(text)) refuse(id, column, text, 'not a decimal string');
  const dot = text.indexOf('.');
  const int = dot === -1 ? text : text.slice(0, dot);
  const frac = dot === -1 ? '' : text.slice(dot + 1);
  if (int.length > 1 && int.charCodeAt(0) === 48) {
    refuse(id, column, text, 'leading zeros cannot be kept exactly in a DECIMAL');
  }
  if (int.length > INT_DIGITS) {
    refuse(id, column, text, `more than ${INT_DIGITS} integer digits do not fit DECIMAL(38,18)`);
  }
  if (frac.length > 35) refuse(id, column, text, 'more than 35 fraction digits cannot be kept');
  if (frac.length > SCALE && /[1-9]/.test(frac.slice(SCALE))) {
    refuse(id, column, text, `more than ${SCALE} significant fraction digits do not fit DECIMAL(38,18)`);
  }
  return [int, frac];
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil): no Date object. */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * An ISO-8601 UTC time as [epoch ms, microseconds below the ms, fraction digits written]; refuses one that is not a
 * calendar time or has non-zero digits below the microsecond (TIMESTAMP(MICROS) cannot hold them).
 */
export function silverTimeParts(id: string, column: string, text: unknown): [number, number, number] {
  const m = typeof text === 'string' ? ISO.exec(text) : null;
  if (!m) refuse(id, column, text, 'not an ISO-8601 UTC time');
  const [, y, mo, d, h, mi, s, frac = ''] = m;
  if (frac.length > 6 && /[1-9]/.test(frac.slice(6))) {
    refuse(id, column, text, 'digits below the microsecond do not fit TIMESTAMP(MICROS)');
  }
  const us6 = Number(frac.slice(0, 6).padEnd(6, '0'));
  const ms =
    daysFromCivil(Number(y), Number(mo), Number(d)) * 86_400_000 +
    Number(h) * 3_600_000 +
    Number(mi) * 60_000 +
    Number(s) * 1000 +
    Math.floor(us6 / 1000);
  return [ms, us6 % 1000, frac.length];
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Writes a 32-hex-digit record id as 16 bytes; false when it is not one. */
export function writeRecordId(ids: Uint8Array, at: number, id: string): boolean {
  if (id.length !== 32) return false;
  for (let k = 0; k < 16; k++) {
    const hi = hexValue(id.charCodeAt(2 * k));
    const lo = hexValue(id.charCodeAt(2 * k + 1));
    if (hi < 0 || lo < 0) return false;
    ids[at + k] = (hi << 4) | lo;
  }
  return true;
}

const HEX = '0123456789abcdef';
export function readRecordId(ids: Uint8Array, at: number): string {
  let s = '';
  for (let k = 0; k < 16; k++) {
    const b = ids[at + k] as number;
    s += HEX.charAt(b >> 4) + HEX.charAt(b & 15);
  }
  return s;
}

function isoText(ms: number, us: number, digits: number): string {
  const base = new Date(ms - (((ms % 1000) + 1000) % 1000)).toISOString().slice(0, 19);
  if (digits === 0) return `${base}Z`;
  const us6 = (((ms % 1000) + 1000) % 1000) * 1000 + us;
  return `${base}.${String(us6).padStart(6, '0').padEnd(digits, '0').slice(0, digits)}Z`;
}

function decimalText(mantissa: number, digits: number): string {
  const s = String(mantissa).padStart(digits + 1, '0');
  return digits === 0 ? s : `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`;
}

/**
 * A batch of silver rows as typed columns (see the file comment). `setTick` fills a row from a record (refusing what
 * silver cannot hold), `tick` gives it back, `copyRow` moves a row between batches.
 */
export class SilverColumnBatch {
  readonly capacity: number;
  readonly ids: Uint8Array;
  /** Per field (SILVER_FIELDS order): enum codes, booleans, or decimal/time fraction digit counts. */
  readonly bytes: (Uint8Array | undefined)[];
  /** Per field: decimal mantissa, time ms or integer (NaN = null). */
  readonly numbers: (Float64Array | undefined)[];
  /** Per time field: microseconds below the millisecond. */
  readonly micros: (Uint16Array | undefined)[];
  /** Per decimal field: texts of BIG_DECIMAL values by row. */
  readonly bigText: (Map<number, string> | undefined)[];

  constructor(capacity: number) {
    this.capacity = capacity;
    this.ids = new Uint8Array(capacity * 16);
    this.bytes = SILVER_FIELDS.map(() => undefined);
    this.numbers = SILVER_FIELDS.map(() => undefined);
    this.micros = SILVER_FIELDS.map(() => undefined);
    this.bigText = SILVER_FIELDS.map(() => undefined);
  }

  /** Bytes held by the allocated columns. */
  get byteLength(): number {
    let n = this.ids.byteLength;
    for (const a of this.bytes) n += a?.byteLength ?? 0;
    for (const a of this.numbers) n += a?.byteLength ?? 0;
    for (const a of this.micros) n += a?.byteLength ?? 0;
    return n;
  }

  /** A batch of a larger capacity holding this one's rows, column by column (its rows past them null). */
  grown(capacity: number): SilverColumnBatch {
    if (capacity < this.capacity) throw new RangeError(`a batch of ${this.capacity} rows cannot grow to ${capacity}`);
    const to = new SilverColumnBatch(capacity);
    to.ids.set(this.ids);
    for (let f = 0; f < SILVER_FIELDS.length; f++) {
      const bytes = this.bytes[f];
      if (bytes !== undefined) to.byteColumn(f).set(bytes);
      const numbers = this.numbers[f];
      if (numbers !== undefined) to.numberColumn(f).set(numbers);
      const micros = this.micros[f];
      if (micros !== undefined) to.microColumn(f).set(micros);
      const big = this.bigText[f];
      if (big !== undefined) to.bigText[f] = new Map(big);
    }
    return to;
  }

  /** The byte column of field f, allocated (filled with its null) on first use. */
  byteColumn(f: number): Uint8Array {
    let a = this.bytes[f];
    if (a === undefined) {
      a = new Uint8Array(this.capacity);
      if ((SILVER_FIELDS[f] as SilverField).kind === 'enum') a.fill(NULL_CODE);
      this.bytes[f] = a;
    }
    return a;
  }

  numberColumn(f: number): Float64Array {
    let a = this.numbers[f];
    if (a === undefined) {
      a = new Float64Array(this.capacity).fill(Number.NaN);
      this.numbers[f] = a;
    }
    return a;
  }

  microColumn(f: number): Uint16Array {
    let a = this.micros[f];
    if (a === undefined) {
      a = new Uint16Array(this.capacity);
      this.micros[f] = a;
    }
    return a;
  }

  /** Set field f of row i to null (its arrays, when allocated). */
  setNull(f: number, i: number): void {
    const kind = NULL_KIND[f];
    if (kind === NULL_AS_NAN) {
      const a = this.numbers[f];
      if (a !== undefined) a[i] = Number.NaN;
      const big = this.bigText[f];
      if (big !== undefined) big.delete(i);
    } else {
      const a = this.bytes[f];
      if (a !== undefined) a[i] = kind === NULL_AS_CODE ? NULL_CODE : NULL_BOOL;
    }
  }

  /** Is field f of row i null? */
  isNull(f: number, i: number): boolean {
    const kind = (SILVER_FIELDS[f] as SilverField).kind;
    if (kind === 'id') return false;
    if (kind === 'enum') return (this.bytes[f]?.[i] ?? NULL_CODE) === NULL_CODE;
    if (kind === 'boolean') return (this.bytes[f]?.[i] ?? NULL_BOOL) === NULL_BOOL;
    const a = this.numbers[f];
    return a === undefined || Number.isNaN(a[i] as number);
  }

  /** A decimal value from its text; refuses one DECIMAL(38,18) cannot hold. */
  setDecimal(f: number, i: number, text: unknown, id: string): void {
    const [int, frac] = silverDecimalParts(id, (SILVER_FIELDS[f] as SilverField).name, text);
    const numbers = this.numberColumn(f);
    const digits = this.byteColumn(f);
    this.bigText[f]?.delete(i);
    digits[i] = frac.length;
    if (int.length + frac.length <= 15 && frac.length <= SCALE) {
      numbers[i] = Number(int + frac);
    } else {
      numbers[i] = BIG_DECIMAL;
      let big = this.bigText[f];
      if (big === undefined) {
        big = new Map();
        this.bigText[f] = big;
      }
      big.set(i, text as string);
    }
  }

  setTime(f: number, i: number, text: unknown, id: string): void {
    const [ms, us, digits] = silverTimeParts(id, (SILVER_FIELDS[f] as SilverField).name, text);
    this.numberColumn(f)[i] = ms;
    this.microColumn(f)[i] = us;
    this.byteColumn(f)[i] = digits;
  }

  /**
   * Row i from a record (valid by PriceTickSchema); refuses (SilverValueError) a value silver cannot hold exactly.
   * The record's product is not kept (it is the partition).
   */
  setTick(i: number, tick: PriceTick): void {
    const id = tick.record_id;
    if (!writeRecordId(this.ids, i * 16, id)) refuse(id, 'record_id', id, 'not 32 lowercase hex digits');
    for (let f = 1; f < SILVER_FIELDS.length; f++) {
      const field = SILVER_FIELDS[f] as SilverField;
      const value = tick[field.name];
      if (value === null || value === undefined) {
        this.setNull(f, i);
        continue;
      }
      switch (field.kind) {
        case 'enum': {
          const code = (field.values as readonly string[]).indexOf(value as string);
          if (code === -1) refuse(id, field.name, value, 'not one of the known values');
          this.byteColumn(f)[i] = code;
          break;
        }
        case 'decimal':
          this.setDecimal(f, i, value, id);
          break;
        case 'timestamp':
          this.setTime(f, i, value, id);
          break;
        case 'boolean':
          if (typeof value !== 'boolean') refuse(id, field.name, value, 'not a boolean');
          this.byteColumn(f)[i] = value ? 2 : 1;
          break;
        default: {
          if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
            refuse(id, field.name, value, 'not a non-negative safe integer');
          }
          if (field.kind === 'int32' && value > INT32_MAX) {
            refuse(id, field.name, value, `above ${INT32_MAX} does not fit INT32`);
          }
          this.numberColumn(f)[i] = value;
        }
      }
    }
    if (this.isNull(EXCHANGE_TIME, i) && this.isNull(SCHEDULED_TIME, i)) {
      refuse(id, 'event_time', null, 'a record needs an event time');
    }
  }

  /** Row i as a record of the given product (null optional fields left out, as silver readers give them). */
  tick(i: number, productId: string): PriceTick {
    const out: Record<string, unknown> = {};
    for (const name of PRICE_TICK_COLUMNS) {
      if (name === 'product_id') {
        out[name] = productId;
        continue;
      }
      const f = SILVER_FIELD_INDEX[name] as number;
      const field = SILVER_FIELDS[f] as SilverField;
      if (field.kind === 'id') {
        out[name] = readRecordId(this.ids, i * 16);
        continue;
      }
      if (this.isNull(f, i)) {
        if (PRICE_TICK_FIELDS[name].required) out[name] = null;
        continue;
      }
      switch (field.kind) {
        case 'enum':
          out[name] = (field.values as readonly string[])[(this.bytes[f] as Uint8Array)[i] as number];
          break;
        case 'boolean':
          out[name] = (this.bytes[f] as Uint8Array)[i] === 2;
          break;
        case 'decimal': {
          const m = (this.numbers[f] as Float64Array)[i] as number;
          out[name] =
            m === BIG_DECIMAL ? this.bigText[f]?.get(i) : decimalText(m, (this.bytes[f] as Uint8Array)[i] as number);
          break;
        }
        case 'timestamp':
          out[name] = isoText(
            (this.numbers[f] as Float64Array)[i] as number,
            (this.micros[f] as Uint16Array)[i] as number,
            (this.bytes[f] as Uint8Array)[i] as number,
          );
          break;
        default:
          out[name] = (this.numbers[f] as Float64Array)[i];
      }
    }
    return out as PriceTick;
  }

  /** Set every field of rows [0, n) to null (the ids are overwritten by whoever fills the rows). */
  clear(n = this.capacity): void {
    for (let f = 1; f < SILVER_FIELDS.length; f++) {
      const kind = (SILVER_FIELDS[f] as SilverField).kind;
      if (kind === 'enum') this.bytes[f]?.fill(NULL_CODE, 0, n);
      else if (kind === 'boolean') this.bytes[f]?.fill(NULL_BOOL, 0, n);
      else this.numbers[f]?.fill(Number.NaN, 0, n);
      this.bigText[f]?.clear();
    }
  }
}

/** Copy row `i` of `from` into row `j` of `to`, every field. */
export function copySilverRow(from: SilverColumnBatch, i: number, to: SilverColumnBatch, j: number): void {
  const src = from.ids;
  const dst = to.ids;
  for (let k = 0; k < 16; k++) dst[j * 16 + k] = src[i * 16 + k] as number;
  for (let f = 1; f < SILVER_FIELDS.length; f++) {
    const kind = (SILVER_FIELDS[f] as SilverField).kind;
    if (kind === 'enum' || kind === 'boolean') {
      const src = from.bytes[f];
      if (src !== undefined) to.byteColumn(f)[j] = src[i] as number;
      else to.setNull(f, j);
      continue;
    }
    const src = from.numbers[f];
    const v = src === undefined ? Number.NaN : (src[i] as number);
    if (v !== v) {
      to.setNull(f, j);
      continue;
    }
    to.numberColumn(f)[j] = v;
    if (kind === 'decimal' || kind === 'timestamp') to.byteColumn(f)[j] = (from.bytes[f] as Uint8Array)[i] as number;
    if (kind === 'timestamp') to.microColumn(f)[j] = (from.micros[f] as Uint16Array)[i] as number;
    if (kind === 'decimal') {
      if (v === BIG_DECIMAL) {
        let big = to.bigText[f];
        if (big === undefined) {
          big = new Map();
          to.bigText[f] = big;
        }
        big.set(j, from.bigText[f]?.get(i) as string);
      } else to.bigText[f]?.delete(j);
    }
  }
}
