import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeSilverParquet,
  PRICE_TICK_FIELDS,
  SILVER_FIELDS,
  SilverColumnBatch,
  SilverParquetEncoder,
  SilverParquetWriter,
  silverRowGroups,
  type PriceTick,
} from './index';
import { missedTick, okTick, seededRandom } from './testing';

// The writer encodes pages itself (dictionary and plain decimals, delta-packed times and integers, bit-packed
// levels): two independent readers must get every value back with every digit, and DuckDB's pushdown must find the
// row-group statistics true.

const H = Date.UTC(2026, 10, 27, 19);
const iso = (ms: number, fraction: string) => `${new Date(ms).toISOString().slice(0, 19)}${fraction}Z`;

/** Records with every kind of value each column can hold, nulls mixed in, in silver order. */
function records(n: number): PriceTick[] {
  const rand = seededRandom(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const digits = (k: number) => Array.from({ length: k }, () => Math.floor(rand() * 10)).join('');
  const bigDecimals = [
    '99999999999999999999.999999999999999999',
    '0.000000000000000001',
    '12345678901234567890',
    '1.50000000000000000000000000000',
    '123456789012345.678',
    '0',
  ];
  const out: PriceTick[] = [];
  let price = 9_712_340;
  for (let i = 0; i < n; i++) {
    price += Math.floor(rand() * 5) - 2;
    const exchange = iso(H + i * 1000 + Math.floor(rand() * 999), pick(['', '.1', '.123456', '.123000', '.123456000']));
    const id = i.toString(16).padStart(32, '0');
    const extra: Partial<PriceTick> = {};
    if (rand() < 0.5)
      extra.volume_24h = rand() < 0.05 ? pick(bigDecimals) : `${1 + Math.floor(rand() * 9)}${digits(4)}.${digits(8)}`;
    if (rand() < 0.3) extra.trade_id = rand() < 0.1 ? Number.MAX_SAFE_INTEGER - i : 700_000_000 + i;
    if (rand() < 0.3) extra.sequence = 90_000_000_000 + i * 3;
    if (rand() < 0.2) extra.granularity_s = pick([60, 300, 2_147_483_647]);
    if (rand() < 0.2) extra.backfilled = rand() < 0.5;
    if (rand() < 0.2) {
      extra.gap_start = pick(['1000-01-01T00:00:00.000001Z', '9999-12-31T23:59:59.999999Z', '1969-12-31T23:59:59.5Z']);
      extra.gap_end = iso(H + i, '.000001');
      extra.gap_from_sequence = 0;
      extra.gap_to_sequence = Number.MAX_SAFE_INTEGER;
    }
    if (rand() < 0.2)
      extra.open = extra.high = extra.low = `${Math.floor(price / 100)}.${String(price % 100).padStart(2, '0')}`;
    const tick =
      rand() < 0.1
        ? missedTick(pick(['timeout', 'http_429', 'sequence_gap'] as const), {
            record_id: id,
            scheduled_time: exchange,
            ingest_time: iso(H + i * 1000 + 400, '.4'),
            ...extra,
          })
        : okTick({
            record_id: id,
            source: pick(['coinbase-ws-ticker', 'coinbase-exchange-ticker', 'coinbase-candles'] as const),
            price:
              i % 97 === 5 ? pick(bigDecimals) : `${Math.floor(price / 100)}.${String(price % 100).padStart(2, '0')}`,
            exchange_time: exchange,
            scheduled_time: rand() < 0.5 ? null : iso(H + i * 1000, '.000'),
            ingest_time: iso(H + i * 1000 + 400, '.4'),
            bid: rand() < 0.8 ? `${Math.floor((price - 1) / 100)}.${String((price - 1) % 100).padStart(2, '0')}` : null,
            ...extra,
          });
    out.push(tick);
  }
  return out;
}

/** A decimal as DuckDB prints DECIMAL(38,18): 18 fraction digits. */
function decimal18(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const [int, frac = ''] = text.split('.');
  return `${int}.${frac.slice(0, 18).padEnd(18, '0')}`;
}

function micros(text: string | null | undefined): bigint | null {
  if (text === null || text === undefined) return null;
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(text) as RegExpExecArray;
  return BigInt(Date.parse(`${m[1]}Z`)) * 1000n + BigInt((m[2] ?? '').slice(0, 6).padEnd(6, '0'));
}

describe('silver writer output read by hyparquet and DuckDB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'silver-writer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ticks = records(3000);
  const file = join(dir, 'part.parquet');
  const encoder = new SilverParquetEncoder({ productId: 'BTC-USD' });
  encoder.write(ticks, 700);
  const chunks = encoder.finish();
  const bytes = Buffer.concat(chunks);
  writeFileSync(file, bytes);

  it('gives every record back exactly through hyparquet (strings as written)', async () => {
    const back = await decodeSilverParquet(bytes);
    const expected = ticks.map((t) =>
      Object.fromEntries(Object.entries(t).filter(([k, v]) => v !== undefined && (v !== null || isRequired(k)))),
    );
    expect(back).toEqual(expected);
  });

  it('gives every value back with every digit through DuckDB, and its statistics filters agree', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const read = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJS();
      const columns = SILVER_FIELDS.map((f) =>
        f.kind === 'decimal'
          ? `CAST(${f.name} AS VARCHAR) AS ${f.name}`
          : f.kind === 'timestamp'
            ? `epoch_us(${f.name}) AS ${f.name}`
            : f.name,
      );
      const rows = await read(`SELECT ${columns.join(', ')}, epoch_us(event_time) AS event_time FROM '${file}'`);
      const expected = ticks.map((t) => {
        const row: Record<string, unknown> = {};
        for (const f of SILVER_FIELDS) {
          const v = t[f.name];
          row[f.name] =
            f.kind === 'decimal'
              ? decimal18(v as string | null)
              : f.kind === 'timestamp'
                ? micros(v as string | null)
                : f.kind === 'int64'
                  ? v === null || v === undefined
                    ? null
                    : BigInt(v as number)
                  : (v ?? null);
        }
        row.event_time = micros(t.exchange_time ?? t.scheduled_time);
        return row;
      });
      expect(rows).toEqual(expected);

      // a range query through the row-group statistics (min/max of event_time, price) against the same in JS
      const from = H + 1000 * 1000;
      const to = H + 1400 * 1000;
      const hits = ticks.filter((t) => {
        const ms = Number((micros(t.exchange_time ?? t.scheduled_time) as bigint) / 1000n);
        return ms >= from && ms < to && t.price !== null && Number(t.price) > 97100;
      });
      const window = await read(
        `SELECT count(*) AS n FROM '${file}'
         WHERE event_time >= make_timestamptz(${from * 1000}) AND event_time < make_timestamptz(${to * 1000})
           AND price > 97100`,
      );
      expect(hits.length).toBeGreaterThan(10);
      expect(window).toEqual([{ n: BigInt(hits.length) }]);
      const stats = await read(
        `SELECT row_group_id AS g, stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata('${file}')
         WHERE path_in_schema = 'event_time' ORDER BY g`,
      );
      const truth = await read(
        `SELECT file_row_number // 700 AS g,
                CAST(min(event_time) AS VARCHAR) AS lo, CAST(max(event_time) AS VARCHAR) AS hi
         FROM read_parquet('${file}', file_row_number = true) GROUP BY g ORDER BY g`,
      );
      expect(stats.map((s) => [Number(s.g), s.lo, s.hi])).toEqual(truth.map((s) => [Number(s.g), s.lo, s.hi]));
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describe('row groups copied byte for byte (copyRowGroup)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'silver-copy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ticks = records(3000);
  const encoder = new SilverParquetEncoder({ productId: 'BTC-USD' });
  encoder.write(ticks, 700);
  const original = Buffer.concat(encoder.finish());

  /** The same file again: every other row group copied, the others decoded and written anew. */
  async function rewritten(): Promise<Buffer> {
    const writer = new SilverParquetWriter({ productId: 'BTC-USD' });
    let rowStart = 0;
    for (const [g, group] of silverRowGroups(original).entries()) {
      const rows = Number(group.num_rows);
      if (g % 2 === 0) writer.copyRowGroup(original, group);
      else {
        const back = await decodeSilverParquet(original, { rowStart, rowEnd: rowStart + rows });
        const batch = new SilverColumnBatch(rows);
        back.forEach((tick, i) => batch.setTick(i, tick));
        writer.writeBatch(batch, rows);
      }
      rowStart += rows;
    }
    return Buffer.concat(writer.finish());
  }

  it('reads back the same records with the same statistics, exact decimals included, through hyparquet', async () => {
    const copy = await rewritten();
    expect(await decodeSilverParquet(copy)).toEqual(await decodeSilverParquet(original));
    const statistics = (file: Buffer) =>
      silverRowGroups(file).map((g) => g.columns.map((c) => [c.meta_data?.path_in_schema, c.meta_data?.statistics]));
    expect(statistics(copy)).toEqual(statistics(original));
    // the decimals' statistics are exact: 99999999999999999999.999999999999999999 is no float
    const price = silverRowGroups(copy).flatMap((g) =>
      g.columns.filter((c) => c.meta_data?.path_in_schema[0] === 'price'),
    );
    expect(price.some((c) => c.meta_data?.statistics?.max_value === 99999999999999999999999999999999999999n)).toBe(
      true,
    );
  });

  it('is a file DuckDB reads with the same values and the same statistics', async () => {
    const copy = join(dir, 'copy.parquet');
    const first = join(dir, 'original.parquet');
    writeFileSync(copy, await rewritten());
    writeFileSync(first, original);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const read = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJS();
      const all = (file: string) => read(`SELECT * EXCLUDE (lexical_forms) FROM '${file}'`);
      expect(await all(copy)).toEqual(await all(first));
      const stats = (file: string) =>
        read(
          `SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count
           FROM parquet_metadata('${file}') ORDER BY row_group_id, column_id`,
        );
      expect(await stats(copy)).toEqual(await stats(first));
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

function isRequired(name: string): boolean {
  return PRICE_TICK_FIELDS[name as keyof typeof PRICE_TICK_FIELDS].required;
}
