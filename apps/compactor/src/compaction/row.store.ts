import { PRICE_TICK_COLUMNS, type PriceTick, type PriceTickField } from '@btc-etl/price-schema';

/**
 * The records of one partition while it is compacted, packed so that an event hour of a 500 msg/s stream (1.8M
 * records) fits well under 512 MiB: record ids as 16 bytes, event and ingest times as doubles (epoch microseconds
 * are exact below 2^53), and every other field in a small binary row in 4 MiB blocks (no growth by doubling).
 *
 * Dedup keeps one record per record_id: the earliest ingest_time (the copy the raw queries keep too), the first one
 * added on a tie. `sortedRows()` gives the survivors in silver order (event time, then record_id).
 */

const BLOCK = 4 << 20;
const ENUM_FIELDS = new Set<PriceTickField>(['product_id', 'source', 'status', 'reason']);
const TIME_FIELDS = new Set<PriceTickField>(['exchange_time', 'scheduled_time', 'ingest_time', 'gap_start', 'gap_end']);
const FIELDS = PRICE_TICK_COLUMNS.filter((c) => c !== 'record_id');

const T_NULL = 0;
const T_ABSENT = 1;
const T_STRING = 2;
const T_NUMBER = 3;
const T_TRUE = 4;
const T_FALSE = 5;
const T_ENUM = 6;
const T_TIME = 7;
/** A time equal to the row's event (or, for ingest_time, ingest) time, kept in its column: only its form is stored. */
const T_TIME_EVENT = 8;
const T_TIME_INGEST = 9;

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** ISO-8601 UTC to [epoch microseconds, fraction digits, nanosecond remainder digits beyond 6]. */
function isoToMicros(iso: string): [number, number, string] | undefined {
  const m = ISO.exec(iso);
  if (!m) return undefined;
  const frac = m[7] ?? '';
  const ms = Date.UTC(
    +(m[1] as string),
    +(m[2] as string) - 1,
    +(m[3] as string),
    +(m[4] as string),
    +(m[5] as string),
    +(m[6] as string),
  );
  return [ms * 1000 + Number(frac.slice(0, 6).padEnd(6, '0')), frac.length, frac.slice(6)];
}

function microsToIso(micros: number, digits: number, beyond: string): string {
  const us = ((micros % 1_000_000) + 1_000_000) % 1_000_000;
  const base = new Date((micros - us) / 1000).toISOString().slice(0, 19);
  if (digits === 0) return `${base}Z`;
  return `${base}.${(String(us).padStart(6, '0') + beyond).slice(0, digits).padEnd(digits, '0')}Z`;
}

/** Grows a list of fixed-size blocks; a row never spans two blocks. */
class Arena {
  readonly blocks: Uint8Array[] = [];
  #block = new Uint8Array(0);
  #at = 0;
  bytes = 0;

  /** Start of a row of at most `max` bytes: [block index, offset]. */
  reserve(max: number): void {
    if (this.#at + max > this.#block.byteLength) {
      this.#block = new Uint8Array(Math.max(BLOCK, max));
      this.blocks.push(this.#block);
      this.#at = 0;
    }
  }
  get position(): number {
    return (this.blocks.length - 1) * BLOCK + this.#at;
  }
  get block(): Uint8Array {
    return this.#block;
  }
  get at(): number {
    return this.#at;
  }
  advance(n: number): void {
    this.#at += n;
    this.bytes += n;
  }
}

const scratch = new DataView(new ArrayBuffer(8));

export class RowStore {
  readonly #arena = new Arena();
  readonly #enumValues: string[] = [];
  readonly #enumIndex = new Map<string, number>();
  /** Per row: where its bytes start (block * BLOCK + offset), its id, event and ingest microseconds. */
  #offsets = new Float64Array(1024);
  #ids = new Uint8Array(1024 * 16);
  #event = new Float64Array(1024);
  #ingest = new Float64Array(1024);
  #rows = 0;
  /** Open-addressed hash table of row index + 1 by record id (FNV-1a over the id's 16 bytes, linear probing). */
  #table = new Uint32Array(2048);
  #live = 0;
  #duplicates = 0;

  /** Rows held, duplicates excluded. */
  get size(): number {
    return this.#live;
  }
  /** Records added that were a copy of a record already held. */
  get duplicates(): number {
    return this.#duplicates;
  }
  /** Bytes held in row blocks and columns (an estimate of the store's memory). */
  get bytes(): number {
    return (
      this.#arena.blocks.length * BLOCK + this.#offsets.byteLength * 3 + this.#ids.byteLength + this.#table.byteLength
    );
  }

  /**
   * Add one record (already valid and fitting silver). Returns false when it was a duplicate of a held record
   * (then the copy with the earlier ingest_time is kept).
   */
  add(tick: PriceTick): boolean {
    const event = isoToMicros((tick.exchange_time ?? tick.scheduled_time) as string);
    const ingest = isoToMicros(tick.ingest_time);
    if (event === undefined || ingest === undefined) throw new TypeError(`record ${tick.record_id}: bad time`);
    const slot = this.#find(tick.record_id);
    const existing = this.#table[slot] as number;
    if (existing !== 0) {
      this.#duplicates++;
      const row = existing - 1;
      if (ingest[0] >= (this.#ingest[row] as number)) return false;
      // the new copy arrived at the pipeline first: it replaces the held one (same id, same slot)
      this.#write(row, tick, event[0], ingest[0]);
      return false;
    }
    const row = this.#rows++;
    this.#grow();
    this.#write(row, tick, event[0], ingest[0]);
    writeId(this.#ids, row, tick.record_id);
    this.#table[slot] = row + 1;
    this.#live++;
    if (this.#live * 2 > this.#table.length) this.#rehash();
    return true;
  }

  /** Does the store hold this record id? */
  has(recordId: string): boolean {
    return this.#table[this.#find(recordId)] !== 0;
  }

  /** Row indexes of the held records in silver order: event time, then record_id. */
  sortedRows(): Uint32Array {
    const order = new Uint32Array(this.#live);
    let n = 0;
    for (let i = 0; i < this.#table.length; i++) {
      const v = this.#table[i] as number;
      if (v !== 0) order[n++] = v - 1;
    }
    const event = this.#event;
    const ids = this.#ids;
    order.sort((a, b) => {
      const d = (event[a] as number) - (event[b] as number);
      if (d !== 0) return d;
      for (let k = 0; k < 16; k++) {
        const x = (ids[a * 16 + k] as number) - (ids[b * 16 + k] as number);
        if (x !== 0) return x;
      }
      return 0;
    });
    return order;
  }

  /** The record held at a row index. */
  get(row: number): PriceTick {
    const out: Record<string, unknown> = { record_id: readId(this.#ids, row) };
    const pos = this.#offsets[row] as number;
    const block = this.#arena.blocks[Math.floor(pos / BLOCK)] as Uint8Array;
    let at = pos % BLOCK;
    for (const field of FIELDS) {
      const tag = block[at++] as number;
      switch (tag) {
        case T_NULL:
          out[field] = null;
          break;
        case T_ABSENT:
          break;
        case T_ENUM:
          out[field] = this.#enumValues[block[at++] as number];
          break;
        case T_TRUE:
        case T_FALSE:
          out[field] = tag === T_TRUE;
          break;
        case T_NUMBER:
        case T_TIME:
        case T_TIME_EVENT:
        case T_TIME_INGEST: {
          let value: number;
          if (tag === T_TIME_EVENT) value = this.#event[row] as number;
          else if (tag === T_TIME_INGEST) value = this.#ingest[row] as number;
          else {
            for (let k = 0; k < 8; k++) scratch.setUint8(k, block[at + k] as number);
            value = scratch.getFloat64(0);
            at += 8;
          }
          if (tag === T_NUMBER) {
            out[field] = value;
          } else {
            const digits = block[at++] as number;
            const beyondLength = block[at++] as number;
            const beyond = latin1(block, at, beyondLength);
            at += beyondLength;
            out[field] = microsToIso(value, digits, beyond);
          }
          break;
        }
        case T_STRING: {
          const length = block[at++] as number;
          out[field] = latin1(block, at, length);
          at += length;
          break;
        }
      }
    }
    return out as PriceTick;
  }

  #write(row: number, tick: PriceTick, event: number, ingest: number): void {
    const arena = this.#arena;
    arena.reserve(1024);
    this.#offsets[row] = arena.position;
    this.#event[row] = event;
    this.#ingest[row] = ingest;
    const block = arena.block;
    const start = arena.at;
    let at = start;
    for (const field of FIELDS) {
      const value = tick[field];
      if (value === undefined) {
        block[at++] = T_ABSENT;
      } else if (value === null) {
        block[at++] = T_NULL;
      } else if (ENUM_FIELDS.has(field)) {
        block[at++] = T_ENUM;
        block[at++] = this.#enum(value as string);
      } else if (typeof value === 'boolean') {
        block[at++] = value ? T_TRUE : T_FALSE;
      } else if (typeof value === 'number' || TIME_FIELDS.has(field)) {
        let number: number;
        let time: [number, number, string] | undefined;
        if (typeof value === 'number') {
          block[at++] = T_NUMBER;
          number = value;
        } else {
          time = isoToMicros(value as string);
          if (time === undefined) throw new TypeError(`record ${tick.record_id}: ${field} is not an ISO time`);
          number = time[0];
        }
        if (time === undefined) {
          scratch.setFloat64(0, number);
          for (let k = 0; k < 8; k++) block[at++] = scratch.getUint8(k);
        } else if (field === 'ingest_time') {
          block[at++] = T_TIME_INGEST;
        } else if (number === event && (field === 'exchange_time' || field === 'scheduled_time')) {
          block[at++] = T_TIME_EVENT;
        } else {
          block[at++] = T_TIME;
          scratch.setFloat64(0, number);
          for (let k = 0; k < 8; k++) block[at++] = scratch.getUint8(k);
        }
        if (time !== undefined) {
          block[at++] = time[1];
          block[at++] = time[2].length;
          at = writeLatin1(block, at, time[2]);
        }
      } else {
        const text = value as string;
        if (text.length > 255) throw new TypeError(`record ${tick.record_id}: ${field} longer than 255 characters`);
        block[at++] = T_STRING;
        block[at++] = text.length;
        at = writeLatin1(block, at, text);
      }
    }
    arena.advance(at - start);
  }

  #enum(value: string): number {
    let index = this.#enumIndex.get(value);
    if (index === undefined) {
      index = this.#enumValues.length;
      if (index > 255) throw new TypeError('more than 256 distinct product/source/status/reason values');
      this.#enumValues.push(value);
      this.#enumIndex.set(value, index);
    }
    return index;
  }

  #grow(): void {
    if (this.#rows <= this.#offsets.length) return;
    const size = this.#offsets.length * 2;
    const grow = (a: Float64Array) => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    this.#offsets = grow(this.#offsets);
    this.#event = grow(this.#event);
    this.#ingest = grow(this.#ingest);
    const ids = new Uint8Array(size * 16);
    ids.set(this.#ids);
    this.#ids = ids;
  }

  #find(recordId: string): number {
    writeId(idScratch, 0, recordId);
    const mask = this.#table.length - 1;
    let slot = hashId(idScratch, 0) & mask;
    for (;;) {
      const v = this.#table[slot] as number;
      if (v === 0 || sameBytes(this.#ids, v - 1, idScratch)) return slot;
      slot = (slot + 1) & mask;
    }
  }

  #rehash(): void {
    const old = this.#table;
    this.#table = new Uint32Array(old.length * 2);
    const mask = this.#table.length - 1;
    for (let i = 0; i < old.length; i++) {
      const v = old[i] as number;
      if (v === 0) continue;
      let slot = hashId(this.#ids, v - 1) & mask;
      while (this.#table[slot] !== 0) slot = (slot + 1) & mask;
      this.#table[slot] = v;
    }
  }
}

function hexValue(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}

function writeId(ids: Uint8Array, row: number, id: string): void {
  for (let k = 0; k < 16; k++)
    ids[row * 16 + k] = (hexValue(id.charCodeAt(2 * k)) << 4) | hexValue(id.charCodeAt(2 * k + 1));
}

const idScratch = new Uint8Array(16);

/** Every byte of the id counts: ids are hashes in production, but the table must not rely on it (test ids are not). */
function hashId(ids: Uint8Array, row: number): number {
  let h = 0x811c9dc5;
  for (let k = row * 16; k < row * 16 + 16; k++) h = Math.imul(h ^ (ids[k] as number), 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}

function sameBytes(ids: Uint8Array, row: number, id: Uint8Array): boolean {
  for (let k = 0; k < 16; k++) if (ids[row * 16 + k] !== id[k]) return false;
  return true;
}

const HEX = '0123456789abcdef';
function readId(ids: Uint8Array, row: number): string {
  let s = '';
  for (let k = 0; k < 16; k++) {
    const b = ids[row * 16 + k] as number;
    s += HEX.charAt(b >> 4) + HEX.charAt(b & 15);
  }
  return s;
}

function writeLatin1(block: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) block[at++] = text.charCodeAt(i);
  return at;
}

function latin1(block: Uint8Array, at: number, length: number): string {
  return Buffer.from(block.buffer, block.byteOffset + at, length).toString('latin1');
}
