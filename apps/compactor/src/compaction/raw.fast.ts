import {
  daysFromCivil,
  MISS_REASONS,
  PRICE_SOURCES,
  PRICE_TICK_COLUMNS,
  PRICE_TICK_FIELDS,
  SILVER_FIELD_INDEX,
  TICK_STATUSES,
  type SilverColumnBatch,
} from '@btc-etl/price-schema';

/**
 * The fast path of a raw line: the bytes of one NDJSON line straight into a row of silver's typed columns, without
 * a string, JSON.parse or an object. It recognises the lines the pipeline writes (a flat JSON object of the schema's
 * keys, no whitespace, no escapes, decimals of at most 15 digits) and is exactly as strict as PriceTickSchema plus
 * silver's fit rules: every column (required ones, optional ones when present, no unknown or repeated key),
 * calendar-valid times, the source/status/reason values and the ok/missed rules. Anything it does not recognise, valid
 * or not, goes to the slow path (JSON.parse, the schema, silverFitIssue), which has the last word and the detailed
 * message. `raw.fast.spec.ts` holds the two equal with a property test.
 */

type Kind = 'id' | 'product' | 'enum' | 'decimal' | 'timestamp' | 'int64' | 'int32' | 'boolean';

interface FieldSpec {
  name: Uint8Array;
  /** Column in SILVER_FIELDS, -1 for product_id. */
  f: number;
  kind: Kind;
  nullable: boolean;
  required: boolean;
  values?: Uint8Array[];
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const ENUMS: Record<string, readonly string[]> = { source: PRICE_SOURCES, status: TICK_STATUSES, reason: MISS_REASONS };

const FIELDS: FieldSpec[] = PRICE_TICK_COLUMNS.map((name) => {
  const spec = PRICE_TICK_FIELDS[name];
  const silver = spec.silver;
  const kind: Kind =
    name === 'record_id' ? 'id' : silver === 'partition' ? 'product' : silver === 'string' ? 'enum' : (silver as Kind);
  const values = ENUMS[name];
  if (kind === 'enum' && values === undefined) throw new Error(`raw.fast: no value list for ${name}`);
  return {
    name: ascii(name),
    f: kind === 'product' ? -1 : (SILVER_FIELD_INDEX[name] as number),
    kind,
    nullable: spec.schema.safeParse(null).success,
    required: spec.required,
    ...(values ? { values: values.map(ascii) } : {}),
  };
});
if (FIELDS.length > 31) throw new Error('raw.fast: a 32-bit mask holds at most 31 fields');
const REQUIRED_MASK = FIELDS.reduce((m, f, k) => (f.required ? m | (1 << k) : m), 0);
const OK = TICK_STATUSES.indexOf('ok');
const STATUS = FIELDS.findIndex((f) => f.kind === 'enum' && f.values?.length === TICK_STATUSES.length);
const field = (name: string) => FIELDS.findIndex((f) => String.fromCharCode(...f.name) === name);
const PRICE = field('price');
const REASON = field('reason');
const EXCHANGE = field('exchange_time');
const SCHEDULED = field('scheduled_time');
/** Offsets of the digits in `"YYYY-MM-DDTHH:MM:SS`. */
const TIME_DIGITS = [1, 2, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18, 19];
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const INT32_MAX = 2_147_483_647;

const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const CLOSE = 125;

/** The product of the last line, so a line of the same product costs a byte compare, not a string. */
let productBytes = new Uint8Array(0);
let productText = '';

/** Position in the line being parsed (one line at a time, no re-entrance). */
let p = 0;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function digit(b: Uint8Array, at: number): number {
  return (b[at] as number) - 48;
}

function matchLiteral(b: Uint8Array, lit: number[]): boolean {
  for (let k = 0; k < lit.length; k++) if (b[p + k] !== lit[k]) return false;
  p += lit.length;
  return true;
}
const NULL = [110, 117, 108, 108];
const TRUE = [116, 114, 117, 101];
const FALSE = [102, 97, 108, 115, 101];

/** A time string at p into row i of field f; false when not recognised. */
function parseTime(b: Uint8Array, e: number, out: SilverColumnBatch, f: number, i: number): boolean {
  const s = p;
  if (s + 22 > e || b[s] !== QUOTE) return false;
  for (const k of TIME_DIGITS) if (!isDigit(b[s + k] as number)) return false;
  if (b[s + 5] !== 45 || b[s + 8] !== 45 || b[s + 11] !== 84 || b[s + 14] !== COLON || b[s + 17] !== COLON) {
    return false;
  }
  const year = digit(b, s + 1) * 1000 + digit(b, s + 2) * 100 + digit(b, s + 3) * 10 + digit(b, s + 4);
  const month = digit(b, s + 6) * 10 + digit(b, s + 7);
  const day = digit(b, s + 9) * 10 + digit(b, s + 10);
  const hour = digit(b, s + 12) * 10 + digit(b, s + 13);
  const minute = digit(b, s + 15) * 10 + digit(b, s + 16);
  const second = digit(b, s + 18) * 10 + digit(b, s + 19);
  // the schema checks the calendar through Date.UTC, which maps years 0-99 to 1900-1999: those never pass there
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  if (day > 28) {
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    if (day > (month === 2 ? (leap ? 29 : 28) : (DAYS_IN_MONTH[month - 1] as number))) return false;
  }
  let at = s + 20;
  let us6 = 0;
  let digits = 0;
  if (b[at] === 46) {
    at++;
    while (isDigit(b[at] as number) && digits < 10) {
      const v = (b[at] as number) - 48;
      if (digits < 6) us6 = us6 * 10 + v;
      else if (v !== 0) return false; // below the microsecond: silver refuses it (slow path's reason)
      digits++;
      at++;
    }
    if (digits === 0 || digits > 9) return false;
    for (let k = digits; k < 6; k++) us6 *= 10;
  }
  if (b[at] !== 90 || b[at + 1] !== QUOTE) return false;
  p = at + 2;
  out.numberColumn(f)[i] =
    daysFromCivil(year, month, day) * 86_400_000 +
    hour * 3_600_000 +
    minute * 60_000 +
    second * 1000 +
    Math.floor(us6 / 1000);
  out.microColumn(f)[i] = us6 % 1000;
  out.byteColumn(f)[i] = digits;
  return true;
}

/** A decimal string of at most 15 digits (at most 18 after the point) into row i of field f. */
function parseDecimal(b: Uint8Array, e: number, out: SilverColumnBatch, f: number, i: number): boolean {
  if (b[p] !== QUOTE) return false;
  let at = p + 1;
  let m = 0;
  let total = 0;
  const intStart = at;
  while (at < e && isDigit(b[at] as number)) {
    m = m * 10 + ((b[at] as number) - 48);
    at++;
  }
  const intDigits = at - intStart;
  // leading zeros do not fit a DECIMAL: the slow path quarantines them with its reason
  if (intDigits === 0 || (intDigits > 1 && b[intStart] === 48)) return false;
  total = intDigits;
  let frac = 0;
  if (b[at] === 46) {
    at++;
    while (at < e && isDigit(b[at] as number)) {
      m = m * 10 + ((b[at] as number) - 48);
      at++;
      frac++;
    }
    if (frac === 0) return false;
    total += frac;
  }
  if (b[at] !== QUOTE || total > 15 || frac > 18) return false;
  p = at + 1;
  out.numberColumn(f)[i] = m;
  out.byteColumn(f)[i] = frac;
  return true;
}

/** A non-negative integer (JSON number without fraction or exponent) up to 2^53 - 1 into row i of field f. */
function parseInt64(b: Uint8Array, e: number, out: SilverColumnBatch, f: number, i: number, max: number): boolean {
  let at = p;
  let v = 0;
  while (at < e && isDigit(b[at] as number)) {
    v = v * 10 + ((b[at] as number) - 48);
    at++;
  }
  const n = at - p;
  if (n === 0 || n > 16 || (n > 1 && b[p] === 48) || v > max) return false;
  if (b[at] !== COMMA && b[at] !== CLOSE) return false;
  p = at;
  out.numberColumn(f)[i] = v;
  return true;
}

function parseEnum(b: Uint8Array, e: number, values: Uint8Array[]): number {
  if (b[p] !== QUOTE) return -1;
  for (let code = 0; code < values.length; code++) {
    const v = values[code] as Uint8Array;
    const end = p + 1 + v.length;
    if (end >= e || b[end] !== QUOTE) continue;
    let k = 0;
    while (k < v.length && b[p + 1 + k] === v[k]) k++;
    if (k === v.length) {
      p = end + 1;
      return code;
    }
  }
  return -1;
}

/** A byte's value as a lower-case hex digit, -1 for any other byte (a table: no branches per character). */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 16; c++) HEX['0123456789abcdef'.charCodeAt(c)] = c;

function parseId(b: Uint8Array, e: number, out: SilverColumnBatch, i: number): boolean {
  if (p + 34 > e || b[p] !== QUOTE || b[p + 33] !== QUOTE) return false;
  const ids = out.ids;
  const at = p + 1;
  for (let k = 0; k < 16; k++) {
    const hi = HEX[b[at + 2 * k] as number] as number;
    const lo = HEX[b[at + 2 * k + 1] as number] as number;
    if ((hi | lo) < 0) return false;
    ids[i * 16 + k] = (hi << 4) | lo;
  }
  p += 34;
  return true;
}

/** [A-Z0-9]{2,12}-[A-Z0-9]{2,12}: the product's text, or undefined. */
function parseProduct(b: Uint8Array, e: number): string | undefined {
  if (b[p] !== QUOTE) return undefined;
  const start = p + 1;
  let at = start;
  let dash = -1;
  while (at < e && b[at] !== QUOTE) {
    const c = b[at] as number;
    if (c === 45) {
      if (dash !== -1) return undefined;
      dash = at;
    } else if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57))) return undefined;
    at++;
  }
  if (at >= e || dash === -1) return undefined;
  const left = dash - start;
  const right = at - dash - 1;
  if (left < 2 || left > 12 || right < 2 || right > 12) return undefined;
  p = at + 1;
  const len = at - start;
  let same = len === productBytes.length;
  for (let k = 0; same && k < len; k++) same = b[start + k] === productBytes[k];
  if (!same) {
    // a copy (a Buffer's slice is a view): the bytes are a borrowed chunk that the next read overwrites
    productBytes = Uint8Array.prototype.slice.call(b, start, at);
    productText = String.fromCharCode(...productBytes);
  }
  return productText;
}

/**
 * The field whose name is the quoted key at `start` (its closing quote included), trying the columns from `guess` on:
 * lines list them in schema order. -1 for any other key (unknown, or written with an escape): the slow path's case.
 */
function keyAt(b: Uint8Array, start: number, e: number, guess: number): number {
  let k = guess;
  for (let n = 0; n < FIELDS.length; n++, k++) {
    if (k === FIELDS.length) k = 0;
    const name = (FIELDS[k] as FieldSpec).name;
    const len = name.length;
    if (start + len >= e || b[start + len] !== QUOTE) continue;
    let j = 0;
    while (j < len && b[start + j] === name[j]) j++;
    if (j === len) return k;
  }
  return -1;
}

/**
 * Parse line bytes [s, e) into row i of `out`. Returns the record's product id, or undefined when the line is not
 * one the fast path recognises (row i is then undefined: the caller takes the slow path).
 */
export function parseLineFast(
  b: Uint8Array,
  s: number,
  e: number,
  out: SilverColumnBatch,
  i: number,
): string | undefined {
  if (b[e - 1] !== CLOSE) return undefined;
  const product = parseRecord(b, s, e, out, i);
  return p === e ? product : undefined;
}

/** Where the line {@link parseLineAt} took last ends: the index of its `\n`. */
let lineEnd = -1;

/**
 * Parse the line that starts at s, whose end is not known yet, into row i of `out`: the same record as
 * {@link parseLineFast} would read from [s, the first `\n` after s) (a `\r` before it tolerated), without a search for
 * the newline first (none of the bytes the fast path accepts is a newline, so the `\n` right after the record's `}`
 * is the line's first). Returns the product id and leaves the newline's index to {@link lastLineEnd}; undefined when
 * the fast path does not take the line (not recognised, or cut at the end of `b`): find its end and take the slow path.
 */
export function parseLineAt(b: Uint8Array, s: number, out: SilverColumnBatch, i: number): string | undefined {
  const product = parseRecord(b, s, b.length, out, i);
  if (product === undefined) return undefined;
  if (b[p] === 10) lineEnd = p;
  else if (b[p] === 13 && b[p + 1] === 10) lineEnd = p + 1;
  else return undefined;
  return product;
}

/** The index of the `\n` that ended the line {@link parseLineAt} took last. */
export function lastLineEnd(): number {
  return lineEnd;
}

/** The record at s (bytes up to e at most), p left after its closing brace; undefined when not recognised. */
function parseRecord(b: Uint8Array, s: number, e: number, out: SilverColumnBatch, i: number): string | undefined {
  if (b[s] !== 123) return undefined;
  p = s + 1;
  let seen = 0;
  let nulls = 0;
  let guess = 0;
  let product: string | undefined;
  let statusCode = -1;
  for (;;) {
    if (b[p] !== QUOTE) return undefined;
    const keyStart = p + 1;
    const k = keyAt(b, keyStart, e, guess);
    if (k === -1) return undefined;
    const keyEnd = keyStart + (FIELDS[k] as FieldSpec).name.length;
    if ((seen & (1 << k)) !== 0 || b[keyEnd + 1] !== COLON) return undefined;
    seen |= 1 << k;
    guess = k + 1;
    p = keyEnd + 2;
    const spec = FIELDS[k] as FieldSpec;
    if (b[p] === 110) {
      if (!spec.nullable || !matchLiteral(b, NULL)) return undefined;
      nulls |= 1 << k;
      if (spec.f >= 0) out.setNull(spec.f, i);
    } else {
      let ok: boolean;
      switch (spec.kind) {
        case 'id':
          ok = parseId(b, e, out, i);
          break;
        case 'product':
          product = parseProduct(b, e);
          ok = product !== undefined;
          break;
        case 'enum': {
          const code = parseEnum(b, e, spec.values as Uint8Array[]);
          ok = code !== -1;
          if (ok) out.byteColumn(spec.f)[i] = code;
          if (k === STATUS) statusCode = code;
          break;
        }
        case 'decimal':
          ok = parseDecimal(b, e, out, spec.f, i);
          break;
        case 'timestamp':
          ok = parseTime(b, e, out, spec.f, i);
          break;
        case 'int64':
          ok = parseInt64(b, e, out, spec.f, i, Number.MAX_SAFE_INTEGER);
          break;
        case 'int32':
          ok = parseInt64(b, e, out, spec.f, i, INT32_MAX);
          break;
        case 'boolean': {
          const t = b[p] === 116;
          ok = t ? matchLiteral(b, TRUE) : matchLiteral(b, FALSE);
          if (ok) out.byteColumn(spec.f)[i] = t ? 2 : 1;
          break;
        }
      }
      if (!ok) return undefined;
    }
    const c = b[p];
    p++;
    if (c === COMMA) continue;
    if (c !== CLOSE) return undefined;
    break;
  }
  if ((seen & REQUIRED_MASK) !== REQUIRED_MASK || product === undefined) return undefined;
  const priceNull = (nulls & (1 << PRICE)) !== 0;
  const reasonNull = (nulls & (1 << REASON)) !== 0;
  // ok records carry a price and no reason, missed ones a reason and no price; one of the two times at least
  if (statusCode === OK ? priceNull || !reasonNull : !priceNull || reasonNull) return undefined;
  if ((nulls & (1 << EXCHANGE)) !== 0 && (nulls & (1 << SCHEDULED)) !== 0) return undefined;
  // optional columns the line left out are null
  for (let k = 0; k < FIELDS.length; k++) {
    if ((seen & (1 << k)) === 0) out.setNull((FIELDS[k] as FieldSpec).f, i);
  }
  return product;
}
