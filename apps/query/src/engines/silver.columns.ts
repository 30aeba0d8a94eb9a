/* eslint-disable @typescript-eslint/no-non-null-assertion -- typed-array and DataView reads at offsets the page
   headers and lengths bound; `?? 0` would add a branch to every value of the hottest loops of the silver reader */
import { DataError } from '@btc-etl/errors';
import type { ColumnMetaData, CompressionCodec, DataReader, SchemaElement } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { snappyUncompress } from 'hyparquet/src/snappy.js';

/**
 * Silver column chunks decoded page by page straight into typed arrays, for the typed query path: no per-row
 * objects, no BigInt, buffers reused from one row group to the next. Three kinds of column:
 * - `int64` (TIMESTAMP micros): a Float64Array, exact below 2^53 (the year 2255), NaN for null;
 * - `decimal16` (DECIMAL(38,18) as FIXED_LEN_BYTE_ARRAY(16)): the unscaled value in three exact limbs of 42/43/43
 *   bits (see {@link DecimalLimbs}), compared without BigInt;
 * - `string` (BYTE_ARRAY UTF8): a dictionary code per row into a string table (low-cardinality columns such as
 *   `status` and `lexical_forms`), or one string per row (`record_id`).
 * Encodings: PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY, and DELTA_BINARY_PACKED for int64; pages V1 and V2;
 * UNCOMPRESSED or SNAPPY. A chunk in anything else is refused up front ({@link typedChunkSupported}) and the
 * caller reads it through hyparquet's general path instead, so an encoding change in the writer costs speed,
 * never an answer.
 */

/** A silver value the typed decoder cannot hold exactly (beyond the year 2255, a negative DECIMAL, a corrupt page). */
export class SilverColumnError extends DataError<{ column: string }> {}

export type SilverColumnKind = 'int64' | 'decimal16' | 'string-codes' | 'string-values';

const CODECS = new Set<CompressionCodec>(['UNCOMPRESSED', 'SNAPPY']);
/** The value encodings each kind decodes (`RLE` is listed for the definition levels every optional column has). */
const ENCODINGS: Record<SilverColumnKind, ReadonlySet<string>> = {
  int64: new Set(['PLAIN', 'RLE', 'PLAIN_DICTIONARY', 'RLE_DICTIONARY', 'DELTA_BINARY_PACKED']),
  decimal16: new Set(['PLAIN', 'RLE', 'PLAIN_DICTIONARY', 'RLE_DICTIONARY']),
  'string-codes': new Set(['PLAIN', 'RLE', 'PLAIN_DICTIONARY', 'RLE_DICTIONARY']),
  'string-values': new Set(['PLAIN', 'RLE', 'PLAIN_DICTIONARY', 'RLE_DICTIONARY']),
};
const PHYSICAL: Record<SilverColumnKind, string> = {
  int64: 'INT64',
  decimal16: 'FIXED_LEN_BYTE_ARRAY',
  'string-codes': 'BYTE_ARRAY',
  'string-values': 'BYTE_ARRAY',
};

/**
 * Whether the typed decoder reads this column chunk as `kind`: flat, of the expected physical type, in encodings and
 * a codec it knows. `false` sends the row group through the general reader.
 */
export function typedChunkSupported(
  meta: ColumnMetaData | undefined,
  element: SchemaElement | undefined,
  kind: SilverColumnKind,
): boolean {
  if (meta === undefined || element === undefined || meta.path_in_schema.length !== 1) return false;
  if (meta.type !== PHYSICAL[kind] || !CODECS.has(meta.codec)) return false;
  if (kind === 'decimal16' && element.type_length !== 16) return false;
  if (element.repetition_type === 'REPEATED') return false;
  return meta.encodings.every((e) => ENCODINGS[kind].has(e));
}

/** Where a column chunk starts in the file and how long it is (dictionary page included). */
export function chunkRange(meta: ColumnMetaData): { start: number; end: number } {
  const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
  return { start, end: start + Number(meta.total_compressed_size) };
}

const TWO_32 = 4294967296;
const TWO_21 = 2097152;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * An unsigned 128-bit unscaled decimal in three limbs, each an exact double: `hi` bits 86-127, `mid` bits 43-85, `lo`
 * bits 0-42. Limb by limb, most significant first, they compare as the value does.
 */
export interface DecimalLimbs {
  hi: Float64Array;
  mid: Float64Array;
  lo: Float64Array;
}

/** The 16 big-endian bytes at `offset` as limbs into `out[at]`; refuses a negative (two's complement) value. */
function readDecimal16(view: DataView, offset: number, out: DecimalLimbs, at: number, column: string): void {
  const w0 = view.getUint32(offset);
  const w1 = view.getUint32(offset + 4);
  const w2 = view.getUint32(offset + 8);
  const w3 = view.getUint32(offset + 12);
  if (w0 >= 0x80000000) throw new SilverColumnError(`${column}: a negative DECIMAL is not a silver price`, { column });
  out.hi[at] = w0 * 1024 + (w1 >>> 22);
  out.mid[at] = (w1 & 0x3fffff) * TWO_21 + (w2 >>> 11);
  out.lo[at] = (w2 & 0x7ff) * TWO_32 + w3;
}

/** Limbs back to the 16 big-endian bytes of the DECIMAL (the inverse of {@link readDecimal16}). */
export function limbsToBytes(hi: number, mid: number, lo: number, out = new Uint8Array(16)): Uint8Array {
  const view = new DataView(out.buffer, out.byteOffset, 16);
  const w3 = lo % TWO_32;
  const w2 = Math.floor(lo / TWO_32) + (mid % TWO_21) * 2048;
  const w1 = Math.floor(mid / TWO_21) + (hi % 1024) * 4194304;
  const w0 = Math.floor(hi / 1024);
  view.setUint32(0, w0);
  view.setUint32(4, w1);
  view.setUint32(8, w2);
  view.setUint32(12, w3);
  return out;
}

/** Growable typed buffers, kept across row groups: a batch reallocates only when a row group is larger. */
class Grow {
  f64 = new Float64Array(0);
  i32 = new Int32Array(0);
  u8 = new Uint8Array(0);
  floats(n: number): Float64Array {
    if (this.f64.length < n) this.f64 = new Float64Array(Math.max(n, this.f64.length * 2));
    return this.f64;
  }
  ints(n: number): Int32Array {
    if (this.i32.length < n) this.i32 = new Int32Array(Math.max(n, this.i32.length * 2));
    return this.i32;
  }
  bytes(n: number): Uint8Array {
    if (this.u8.length < n) this.u8 = new Uint8Array(Math.max(n, this.u8.length * 2));
    return this.u8;
  }
}

/** A zigzag varint as an exact number; refuses one beyond 2^53. */
function readZigZagNumber(reader: DataReader, column: string): number {
  const view = reader.view;
  let z = 0;
  let scale = 1;
  for (;;) {
    const byte = view.getUint8(reader.offset++);
    z += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) break;
    scale *= 128;
    if (scale > 2 ** 56) throw new SilverColumnError(`${column}: a varint longer than 8 bytes`, { column });
  }
  if (z > MAX_SAFE) throw new SilverColumnError(`${column}: a value beyond 2^53 in a delta header`, { column });
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

function readVarUint(reader: DataReader): number {
  const view = reader.view;
  let v = 0;
  let scale = 1;
  for (;;) {
    const byte = view.getUint8(reader.offset++);
    v += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return v;
    scale *= 128;
  }
}

/**
 * DELTA_BINARY_PACKED INT64 values into doubles, exactly: every delta (min delta plus a bit-packed value of at most
 * 45 bits, unpacked with doubles that never pass 2^53) and every value is checked to stay below 2^53.
 */
function deltaBinaryUnpackNumbers(reader: DataReader, count: number, out: Float64Array, column: string): void {
  const view = reader.view;
  const blockSize = readVarUint(reader);
  const miniblocks = readVarUint(reader);
  readVarUint(reader); // total count: the page header's value count is the one trusted
  const perMiniblock = blockSize / miniblocks;
  if (!Number.isInteger(perMiniblock) || perMiniblock % 8 !== 0) {
    throw new SilverColumnError(`${column}: a delta block of ${blockSize} values in ${miniblocks} miniblocks`, {
      column,
    });
  }
  let value = readZigZagNumber(reader, column);
  let n = 0;
  if (count > 0) out[n++] = value;
  while (n < count) {
    const minDelta = readZigZagNumber(reader, column);
    const widths = reader.offset;
    let offset = widths + miniblocks;
    for (let m = 0; m < miniblocks && n < count; m++) {
      const width = view.getUint8(widths + m);
      if (width > 45 || Math.abs(minDelta) + 2 ** width > MAX_SAFE) {
        throw new SilverColumnError(`${column}: deltas of ${width} bits do not fit a double exactly`, { column });
      }
      const end = offset + (perMiniblock * width) / 8;
      if (width === 0) {
        for (let j = 0; j < perMiniblock && n < count; j++) {
          value += minDelta;
          out[n++] = value;
        }
      } else {
        const unit = 2 ** width;
        let buffer = 0; // at most width + 7 bits <= 52: exact
        let bits = 0;
        let scale = 1;
        for (let j = 0; j < perMiniblock && n < count; j++) {
          while (bits < width) {
            buffer += view.getUint8(offset++) * scale;
            scale *= 256;
            bits += 8;
          }
          const packed = buffer % unit;
          buffer = (buffer - packed) / unit;
          scale /= unit;
          bits -= width;
          value += minDelta + packed;
          out[n++] = value;
        }
      }
      offset = end;
    }
    if (value > MAX_SAFE || value < -MAX_SAFE) {
      throw new SilverColumnError(`${column}: a time beyond 2^53 microseconds (the year 2255)`, { column });
    }
    reader.offset = offset;
  }
}

/** A column chunk's decoded rows; which fields are filled depends on its kind. */
export interface DecodedColumn {
  rows: number;
  /** 1 where the row has a value (optional columns), for every kind. */
  valid: Uint8Array;
  /** `int64`: the values (NaN where null). */
  numbers: Float64Array;
  /** `decimal16`: the unscaled values. */
  limbs: DecimalLimbs;
  /** `string-codes`: an index into `table` per row (-1 where null). */
  codes: Int32Array;
  table: string[];
  /** `string-values`: the values (null where null). */
  strings: (string | null)[];
}

const utf8 = new TextDecoder('utf-8');

/**
 * Decodes column chunks of one kind; one instance per column of a query, its buffers reused from chunk to chunk
 * (the returned {@link DecodedColumn} is valid until the next `decode`).
 */
export class SilverColumnDecoder {
  private readonly valid = new Grow();
  private readonly values = new Grow();
  private readonly limbBuffers = [new Grow(), new Grow(), new Grow()] as const;
  private readonly dense = new Grow(); // dictionary indexes, or values before nulls are spread out
  private readonly denseLimbs = [new Grow(), new Grow(), new Grow()] as const;
  private readonly pageBuffer = new Grow();
  private readonly out: DecodedColumn;

  constructor(
    private readonly column: string,
    private readonly kind: SilverColumnKind,
  ) {
    this.out = {
      rows: 0,
      valid: new Uint8Array(0),
      numbers: new Float64Array(0),
      limbs: { hi: new Float64Array(0), mid: new Float64Array(0), lo: new Float64Array(0) },
      codes: new Int32Array(0),
      table: [],
      strings: [],
    };
  }

  /**
   * Decode the `rows` rows of one column chunk (its bytes from {@link chunkRange}).
   * @throws SilverColumnError on a value the typed path cannot hold exactly, or on a malformed page
   */
  decode(bytes: Uint8Array, meta: ColumnMetaData, element: SchemaElement, rows: number): DecodedColumn {
    const column = this.column;
    const out = this.out;
    const optional = element.repetition_type !== 'REQUIRED';
    out.rows = rows;
    out.valid = this.valid.bytes(rows);
    out.valid.fill(1, 0, rows);
    this.prepare(rows);
    const reader: DataReader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
    const dictionary: Dictionary = { size: 0, numbers: undefined, limbs: undefined, table: [] };
    let row = 0;
    while (row < rows) {
      if (reader.offset >= bytes.byteLength) {
        throw new SilverColumnError(`${column}: the chunk ends after ${row} of ${rows} rows`, { column });
      }
      const header = parquetHeader(reader);
      const pageStart = reader.offset;
      const compressed = bytes.subarray(pageStart, pageStart + header.compressed_page_size);
      reader.offset = pageStart + header.compressed_page_size;
      if (header.type === 'DICTIONARY_PAGE') {
        const count = header.dictionary_page_header?.num_values ?? 0;
        this.readDictionary(this.uncompress(compressed, header.uncompressed_page_size, meta.codec), count, dictionary);
        continue;
      }
      let page: Uint8Array;
      let levels: Uint8Array | undefined;
      let encoding: string;
      let pageRows: number;
      if (header.type === 'DATA_PAGE') {
        const h = header.data_page_header!;
        pageRows = h.num_values;
        encoding = h.encoding;
        page = this.uncompress(compressed, header.uncompressed_page_size, meta.codec);
        if (optional) {
          const length = new DataView(page.buffer, page.byteOffset, 4).getUint32(0, true);
          levels = page.subarray(4, 4 + length);
          page = page.subarray(4 + length);
        }
      } else if (header.type === 'DATA_PAGE_V2') {
        const h = header.data_page_header_v2!;
        pageRows = h.num_values;
        encoding = h.encoding;
        if (h.repetition_levels_byte_length !== 0) {
          throw new SilverColumnError(`${column}: repetition levels in a flat column`, { column });
        }
        const defLength = h.definition_levels_byte_length;
        levels = optional ? compressed.subarray(0, defLength) : undefined;
        const body = compressed.subarray(defLength);
        const size = header.uncompressed_page_size - defLength;
        page = h.is_compressed === false || size === 0 ? body : this.uncompress(body, size, meta.codec);
      } else {
        throw new SilverColumnError(`${column}: unexpected ${header.type} page`, { column });
      }
      if (row + pageRows > rows) {
        throw new SilverColumnError(`${column}: pages hold more than the row group's ${rows} rows`, { column });
      }
      let present = pageRows;
      if (levels !== undefined) {
        const valid = out.valid.subarray(row, row + pageRows);
        readRleBitPackedHybrid({ view: viewOf(levels), offset: 0 }, 1, valid, levels.byteLength);
        present = 0;
        for (let i = 0; i < pageRows; i++) present += valid[i]!;
      }
      this.readValues(page, encoding, row, pageRows, present, dictionary);
      row += pageRows;
    }
    return out;
  }

  /** A page's bytes uncompressed into a buffer reused page after page (what is kept from a page is copied out). */
  private uncompress(bytes: Uint8Array, size: number, codec: CompressionCodec): Uint8Array {
    if (codec === 'UNCOMPRESSED') {
      if (bytes.byteLength !== size) {
        throw new SilverColumnError(`${this.column}: a page of ${bytes.byteLength} bytes, ${size} announced`, {
          column: this.column,
        });
      }
      return bytes;
    }
    const out = this.pageBuffer.bytes(size).subarray(0, size);
    snappyUncompress(bytes, out);
    return out;
  }

  private prepare(rows: number): void {
    const out = this.out;
    switch (this.kind) {
      case 'int64':
        out.numbers = this.values.floats(rows);
        break;
      case 'decimal16':
        out.limbs = {
          hi: this.limbBuffers[0].floats(rows),
          mid: this.limbBuffers[1].floats(rows),
          lo: this.limbBuffers[2].floats(rows),
        };
        break;
      case 'string-codes':
        out.codes = this.values.ints(rows);
        out.table = [];
        break;
      case 'string-values':
        out.strings = new Array<string | null>(rows);
        break;
    }
  }

  private readDictionary(page: Uint8Array, count: number, dictionary: Dictionary): void {
    const view = viewOf(page);
    dictionary.size = count;
    switch (this.kind) {
      case 'int64': {
        const numbers = new Float64Array(count);
        for (let i = 0; i < count; i++) numbers[i] = this.plainInt64(view, i * 8);
        dictionary.numbers = numbers;
        break;
      }
      case 'decimal16': {
        const limbs = { hi: new Float64Array(count), mid: new Float64Array(count), lo: new Float64Array(count) };
        for (let i = 0; i < count; i++) readDecimal16(view, i * 16, limbs, i, this.column);
        dictionary.limbs = limbs;
        break;
      }
      default: {
        const table: string[] = [];
        let offset = 0;
        for (let i = 0; i < count; i++) {
          const length = view.getUint32(offset, true);
          table.push(utf8.decode(page.subarray(offset + 4, offset + 4 + length)));
          offset += 4 + length;
        }
        dictionary.table = table;
        if (this.kind === 'string-codes') this.out.table = table.slice();
      }
    }
  }

  private plainInt64(view: DataView, offset: number): number {
    const v = view.getInt32(offset + 4, true) * TWO_32 + view.getUint32(offset, true);
    if (v > MAX_SAFE || v < -MAX_SAFE) {
      throw new SilverColumnError(`${this.column}: a time beyond 2^53 microseconds (the year 2255)`, {
        column: this.column,
      });
    }
    return v;
  }

  /** The page's `present` values, in order, into rows `[row, row + pageRows)` where `valid` says there is one. */
  private readValues(
    page: Uint8Array,
    encoding: string,
    row: number,
    pageRows: number,
    present: number,
    dictionary: Dictionary,
  ): void {
    const column = this.column;
    const out = this.out;
    const view = viewOf(page);
    const valid = out.valid;
    const dense = present !== pageRows;
    let indexes: Int32Array | undefined;
    if (encoding === 'PLAIN_DICTIONARY' || encoding === 'RLE_DICTIONARY') {
      if (dictionary.size === 0 && present > 0) {
        throw new SilverColumnError(`${column}: a dictionary page is missing`, { column });
      }
      indexes = this.dense.ints(present).subarray(0, present);
      const width = page[0] ?? 0;
      if (width === 0) indexes.fill(0);
      else readRleBitPackedHybrid({ view, offset: 1 }, width, indexes, page.byteLength - 1);
      for (let j = 0; j < present; j++) {
        if (indexes[j]! >= dictionary.size) {
          throw new SilverColumnError(`${column}: a dictionary index past the dictionary`, { column });
        }
      }
    } else if (encoding !== 'PLAIN' && !(encoding === 'DELTA_BINARY_PACKED' && this.kind === 'int64')) {
      throw new SilverColumnError(`${column}: ${encoding} pages are not read by the typed path`, { column });
    }
    switch (this.kind) {
      case 'int64': {
        const target = out.numbers;
        let values: Float64Array;
        if (indexes !== undefined) {
          values = this.values2(present);
          const dict = dictionary.numbers!;
          for (let j = 0; j < present; j++) values[j] = dict[indexes[j]!]!;
        } else if (encoding === 'PLAIN') {
          values = this.values2(present);
          for (let j = 0; j < present; j++) values[j] = this.plainInt64(view, j * 8);
        } else {
          values = this.values2(present);
          deltaBinaryUnpackNumbers({ view, offset: 0 }, present, values, column);
        }
        spread(values, target, valid, row, pageRows, dense, Number.NaN);
        break;
      }
      case 'decimal16': {
        const target = out.limbs;
        const [gh, gm, gl] = this.denseLimbs;
        const values = { hi: gh.floats(present), mid: gm.floats(present), lo: gl.floats(present) };
        if (indexes !== undefined) {
          const dict = dictionary.limbs!;
          for (let j = 0; j < present; j++) {
            const k = indexes[j]!;
            values.hi[j] = dict.hi[k]!;
            values.mid[j] = dict.mid[k]!;
            values.lo[j] = dict.lo[k]!;
          }
        } else {
          if (page.byteLength < present * 16) {
            throw new SilverColumnError(`${column}: a page shorter than its values`, { column });
          }
          for (let j = 0; j < present; j++) readDecimal16(view, j * 16, values, j, column);
        }
        spread(values.hi, target.hi, valid, row, pageRows, dense, 0);
        spread(values.mid, target.mid, valid, row, pageRows, dense, 0);
        spread(values.lo, target.lo, valid, row, pageRows, dense, 0);
        break;
      }
      case 'string-codes': {
        const codes = out.codes;
        let j = 0;
        if (indexes !== undefined) {
          // the dictionary's codes are its own indexes (a plain page after it appends to the table)
          for (let i = row; i < row + pageRows; i++) codes[i] = valid[i] === 1 ? indexes[j++]! : -1;
        } else {
          const table = out.table;
          const known = new Map<string, number>(table.map((s, k) => [s, k]));
          let offset = 0;
          for (let i = row; i < row + pageRows; i++) {
            if (valid[i] !== 1) {
              codes[i] = -1;
              continue;
            }
            const length = view.getUint32(offset, true);
            const text = utf8.decode(page.subarray(offset + 4, offset + 4 + length));
            offset += 4 + length;
            let code = known.get(text);
            if (code === undefined) {
              code = table.length;
              table.push(text);
              known.set(text, code);
            }
            codes[i] = code;
          }
        }
        break;
      }
      case 'string-values': {
        const strings = out.strings;
        let j = 0;
        let offset = 0;
        for (let i = row; i < row + pageRows; i++) {
          if (valid[i] !== 1) {
            strings[i] = null;
            continue;
          }
          if (indexes !== undefined) strings[i] = dictionary.table[indexes[j++]!]!;
          else {
            const length = view.getUint32(offset, true);
            strings[i] = utf8.decode(page.subarray(offset + 4, offset + 4 + length));
            offset += 4 + length;
          }
        }
        break;
      }
    }
  }

  private readonly scratch = new Grow();
  private values2(n: number): Float64Array {
    return this.scratch.floats(n);
  }
}

interface Dictionary {
  size: number;
  numbers: Float64Array | undefined;
  limbs: DecimalLimbs | undefined;
  table: string[];
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Dense values into their rows: straight copy when the page has no nulls, else one value per valid row. */
function spread(
  values: Float64Array,
  target: Float64Array,
  valid: Uint8Array,
  row: number,
  pageRows: number,
  dense: boolean,
  empty: number,
): void {
  if (!dense) {
    target.set(values.subarray(0, pageRows), row);
    return;
  }
  // two stores, not one of `valid ? value : empty`: that merge of a double with a tagged number (`empty` is a Smi
  // for some columns) boxed every value, tens of MB of garbage a run
  let j = 0;
  for (let i = row; i < row + pageRows; i++) {
    if (valid[i] === 1) target[i] = values[j++]!;
    else target[i] = empty;
  }
}
