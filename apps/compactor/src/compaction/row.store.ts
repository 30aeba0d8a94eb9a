import {
  copySilverRow,
  EXCHANGE_TIME,
  SILVER_ROW_GROUP_SIZE,
  INGEST_TIME,
  SCHEDULED_TIME,
  readRecordId,
  SilverColumnBatch,
  writeRecordId,
  type PriceTick,
} from '@btc-etl/price-schema';

/**
 * The records of one partition while it is compacted, as silver's typed columns (SilverColumnBatch) in chunks of a
 * row group: no object per record, and a column that is null throughout a chunk costs nothing. An event hour of a 500
 * msg/s stream (1.8M records) takes ~170 MiB outside the V8 heap.
 *
 * Dedup keeps one record per record_id: the earliest ingest_time (the copy the raw queries keep too), the first one
 * added on a tie. Rows keep their insertion order (a replaced copy takes its predecessor's row), so `sortedRows()`
 * sorts input that is mostly in event order already.
 */

/** Rows per chunk: a silver row group, so a store already in silver order is written chunk by chunk, uncopied. */
const CHUNK = SILVER_ROW_GROUP_SIZE;
/**
 * Rows the first chunk starts with; it doubles up to CHUNK as rows come. A run holds a store per partition it
 * touches, most of them an hour of a 1 Hz product (3,600 rows): full chunks would hold 7x their rows in nulls.
 */
const FIRST_CHUNK = 1024;
const chunkOf = (row: number) => (row / CHUNK) | 0;

export class RowStore {
  readonly #chunks: SilverColumnBatch[] = [];
  readonly #staging = new SilverColumnBatch(1);
  #productId: string | undefined;
  #rows = 0;
  /**
   * Open-addressed hash table by record id, linear probing: per slot [row index + 1, hash of the id], side by side, so
   * a probe reads one cache line, and a rehash never goes back to the ids.
   */
  #table = new Uint32Array(2 * 2048);
  #slots = 2048;
  /** The hash of the id #find looked up last. */
  #hash = 0;
  readonly #idScratch = new Uint8Array(16);
  #duplicates = 0;

  /** @param productId the partition's product: every record added must be of it (default: the first one's). */
  constructor(productId?: string) {
    this.#productId = productId;
  }

  get productId(): string | undefined {
    return this.#productId;
  }

  /** Rows held, duplicates excluded. */
  get size(): number {
    return this.#rows;
  }
  /** Records added that were a copy of a record already held. */
  get duplicates(): number {
    return this.#duplicates;
  }
  /** Bytes held in columns and the id table (the store's memory, outside the V8 heap). */
  get bytes(): number {
    let n = this.#table.byteLength;
    for (const chunk of this.#chunks) n += chunk.byteLength;
    return n;
  }

  /**
   * Add one record (valid by the price schema; a value silver cannot hold throws SilverValueError). Returns false when
   * it was a duplicate of a held record (then the copy with the earlier ingest_time is kept).
   */
  add(tick: PriceTick): boolean {
    this.#checkProduct(tick.product_id);
    this.#staging.setTick(0, tick);
    return this.addRow(this.#staging, 0);
  }

  /**
   * The batch whose row {@link slotIndex} is free for the next record: a parser fills it in place (every field), then
   * {@link commitSlot} adds it, without a copy. Anything else done to the store first may reuse the row.
   */
  slot(): SilverColumnBatch {
    const c = chunkOf(this.#rows);
    if (c === this.#chunks.length) this.#chunks.push(new SilverColumnBatch(c === 0 ? FIRST_CHUNK : CHUNK));
    let chunk = this.#chunks[c] as SilverColumnBatch;
    if (this.#rows % CHUNK === chunk.capacity) {
      chunk = chunk.grown(Math.min(CHUNK, chunk.capacity * 2));
      this.#chunks[c] = chunk;
    }
    return chunk;
  }

  get slotIndex(): number {
    return this.#rows % CHUNK;
  }

  /** Add the record filled in at the slot (of this store's product); false for a duplicate. */
  commitSlot(): boolean {
    return this.addRow(this.slot(), this.slotIndex);
  }

  /** Add row i of a batch (a record of this store's product, already fitting silver); false for a duplicate. */
  addRow(from: SilverColumnBatch, i: number, productId?: string): boolean {
    if (productId !== undefined) this.#checkProduct(productId);
    const slot = this.#find(from.ids, i * 16);
    const existing = this.#table[2 * slot] as number;
    if (existing !== 0) {
      this.#duplicates++;
      const row = existing - 1;
      const chunk = this.#chunks[chunkOf(row)] as SilverColumnBatch;
      const j = row % CHUNK;
      if (compareIngest(from, i, chunk, j) >= 0) return false;
      // the new copy arrived at the pipeline first: it replaces the held one (same id, same row)
      copySilverRow(from, i, chunk, j);
      return false;
    }
    const target = this.slot();
    const row = this.#rows++;
    // a record parsed in place at the slot is there already
    if (from !== target || i !== row % CHUNK) copySilverRow(from, i, target, row % CHUNK);
    this.#table[2 * slot] = row + 1;
    this.#table[2 * slot + 1] = this.#hash;
    if (this.#rows * 2 > this.#slots) this.#rehash();
    return true;
  }

  /** Add every record of another store (of the same product), in its row order; returns how many were new. */
  addAll(other: RowStore): number {
    let added = 0;
    for (let row = 0; row < other.#rows; row++) {
      const chunk = other.#chunks[chunkOf(row)] as SilverColumnBatch;
      if (this.addRow(chunk, row % CHUNK, other.#productId)) added++;
    }
    return added;
  }

  /** Does the store hold this record id? */
  has(recordId: string): boolean {
    return this.rowOf(recordId) !== -1;
  }

  /** The row holding this record id, -1 when none does. */
  rowOf(recordId: string): number {
    if (!writeRecordId(this.#idScratch, 0, recordId)) return -1;
    return (this.#table[2 * this.#find(this.#idScratch, 0)] as number) - 1;
  }

  /** The event time of a row (exchange_time, else scheduled_time) in epoch microseconds. */
  eventMicros(row: number): number {
    const chunk = this.#chunks[chunkOf(row)] as SilverColumnBatch;
    const j = row % CHUNK;
    const exchange = chunk.numbers[EXCHANGE_TIME]?.[j] ?? Number.NaN;
    const f = exchange === exchange ? EXCHANGE_TIME : SCHEDULED_TIME;
    return (chunk.numbers[f]?.[j] as number) * 1000 + ((chunk.micros[f]?.[j] as number) ?? 0);
  }

  /** The record id of a row, as text. */
  idOf(row: number): string {
    return readRecordId((this.#chunks[chunkOf(row)] as SilverColumnBatch).ids, (row % CHUNK) * 16);
  }

  /** Add one of this store's rows to another store (of the same product); false for a duplicate there. */
  copyRowTo(row: number, target: RowStore): boolean {
    return target.addRow(this.#chunks[chunkOf(row)] as SilverColumnBatch, row % CHUNK, this.#productId);
  }

  /** Row indexes of the held records in silver order: event time, then record_id. */
  sortedRows(): Uint32Array {
    const n = this.#rows;
    const ms = new Float64Array(n);
    const us = new Uint16Array(n);
    for (let c = 0; c < this.#chunks.length; c++) {
      const chunk = this.#chunks[c] as SilverColumnBatch;
      const exMs = chunk.numbers[EXCHANGE_TIME];
      const exUs = chunk.micros[EXCHANGE_TIME];
      const scMs = chunk.numbers[SCHEDULED_TIME];
      const scUs = chunk.micros[SCHEDULED_TIME];
      const end = Math.min(CHUNK, n - c * CHUNK);
      for (let j = 0; j < end; j++) {
        const t = exMs === undefined ? Number.NaN : (exMs[j] as number);
        const row = c * CHUNK + j;
        if (t === t) {
          ms[row] = t;
          us[row] = (exUs as Uint16Array)[j] as number;
        } else {
          ms[row] = (scMs as Float64Array)[j] as number;
          us[row] = (scUs as Uint16Array)[j] as number;
        }
      }
    }
    const compare = (a: number, b: number): number => {
      const d = (ms[a] as number) - (ms[b] as number);
      if (d !== 0) return d;
      const e = (us[a] as number) - (us[b] as number);
      if (e !== 0) return e;
      const ia = this.#chunks[chunkOf(a)]?.ids as Uint8Array;
      const ib = this.#chunks[chunkOf(b)]?.ids as Uint8Array;
      const pa = (a % CHUNK) * 16;
      const pb = (b % CHUNK) * 16;
      for (let k = 0; k < 16; k++) {
        const x = (ia[pa + k] as number) - (ib[pb + k] as number);
        if (x !== 0) return x;
      }
      return 0;
    };
    const order = new Uint32Array(n);
    let sorted = true;
    for (let i = 0; i < n; i++) {
      order[i] = i;
      if (sorted && i > 0 && compare(i - 1, i) > 0) sorted = false;
    }
    if (sorted) return order;
    // Array.prototype.sort is a TimSort: runs already in order (each raw object's records) cost one pass
    const rows = Array.from(order);
    rows.sort(compare);
    order.set(rows);
    return order;
  }

  /**
   * The held records in silver order as row groups of SILVER_ROW_GROUP_SIZE rows (the last one smaller): the chunks
   * themselves when the rows are in order already (records arrive about in event order), else copies in order.
   */
  forEachRowGroup(write: (group: SilverColumnBatch, rows: number) => void): void {
    const n = this.#rows;
    const order = this.sortedRows();
    let identity = true;
    for (let i = 0; i < n && identity; i++) identity = order[i] === i;
    if (identity) {
      for (let c = 0; c * CHUNK < n; c++) write(this.#chunks[c] as SilverColumnBatch, Math.min(CHUNK, n - c * CHUNK));
      return;
    }
    const group = new SilverColumnBatch(Math.min(CHUNK, n));
    for (let start = 0; start < n; start += CHUNK) {
      const end = Math.min(n, start + CHUNK);
      this.gather(order, start, end, group);
      write(group, end - start);
    }
  }

  /** The record held at a row index. */
  get(row: number): PriceTick {
    return (this.#chunks[chunkOf(row)] as SilverColumnBatch).tick(row % CHUNK, this.#productId ?? '');
  }

  /** Copy the rows order[start..end) into rows [0, end - start) of `into` (a row group for the writer). */
  gather(order: Uint32Array, start: number, end: number, into: SilverColumnBatch): void {
    for (let k = start; k < end; k++) {
      const row = order[k] as number;
      copySilverRow(this.#chunks[chunkOf(row)] as SilverColumnBatch, row % CHUNK, into, k - start);
    }
  }

  #checkProduct(productId: string): void {
    if (this.#productId === undefined) this.#productId = productId;
    else if (productId !== this.#productId) {
      throw new TypeError(`a store of ${this.#productId} records was handed one of ${productId}`);
    }
  }

  #find(ids: Uint8Array, at: number): number {
    const table = this.#table;
    const mask = this.#slots - 1;
    const hash = hashId(ids, at);
    this.#hash = hash;
    let slot = hash & mask;
    for (;;) {
      const v = table[2 * slot] as number;
      if (v === 0) return slot;
      if (table[2 * slot + 1] === hash) {
        const row = v - 1;
        const held = (this.#chunks[chunkOf(row)] as SilverColumnBatch).ids;
        if (sameId(held, (row % CHUNK) * 16, ids, at)) return slot;
      }
      slot = (slot + 1) & mask;
    }
  }

  #rehash(): void {
    const old = this.#table;
    this.#slots *= 2;
    const table = new Uint32Array(2 * this.#slots);
    const mask = this.#slots - 1;
    for (let i = 0; i < old.length; i += 2) {
      const v = old[i] as number;
      if (v === 0) continue;
      const hash = old[i + 1] as number;
      let slot = hash & mask;
      while (table[2 * slot] !== 0) slot = (slot + 1) & mask;
      table[2 * slot] = v;
      table[2 * slot + 1] = hash;
    }
    this.#table = table;
  }
}

/** ingest_time of a's row i against b's row j (ingest_time is never null). */
function compareIngest(a: SilverColumnBatch, i: number, b: SilverColumnBatch, j: number): number {
  const d = (a.numbers[INGEST_TIME]?.[i] as number) - (b.numbers[INGEST_TIME]?.[j] as number);
  if (d !== 0) return d;
  return (a.micros[INGEST_TIME]?.[i] as number) - (b.micros[INGEST_TIME]?.[j] as number);
}

/**
 * Every byte of the id counts: ids are hashes in production, but the table must not rely on it (test ids are not).
 * The four 32-bit words, rotated apart, then one multiply (a third of FNV-1a's cost over 16 bytes).
 */
function hashId(ids: Uint8Array, at: number): number {
  const w1 = word(ids, at + 4);
  const w2 = word(ids, at + 8);
  const w3 = word(ids, at + 12);
  let h = Math.imul(
    word(ids, at) ^ ((w1 << 7) | (w1 >>> 25)) ^ ((w2 << 13) | (w2 >>> 19)) ^ ((w3 << 19) | (w3 >>> 13)),
    0x9e3779b1,
  );
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/** The little-endian 32-bit word at ids[at..at+4). */
function word(ids: Uint8Array, at: number): number {
  return (
    (ids[at] as number) |
    ((ids[at + 1] as number) << 8) |
    ((ids[at + 2] as number) << 16) |
    ((ids[at + 3] as number) << 24)
  );
}

function sameId(a: Uint8Array, ai: number, b: Uint8Array, bi: number): boolean {
  for (let k = 0; k < 16; k++) if (a[ai + k] !== b[bi + k]) return false;
  return true;
}
