import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeSilverParquet, type PriceTick } from './index';
import { okTick } from './testing';

// DuckDB, an independent Parquet reader, stands in for Athena: it must see DECIMAL(38,18) and TIMESTAMP columns with
// the exact values, and filter by them correctly (its pushdown trusts the row-group statistics we write).
describe('silver files read by DuckDB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'silver-duck-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads typed, exact values and filters through the statistics', async () => {
    const ticks: PriceTick[] = Array.from({ length: 3000 }, (_, i) =>
      okTick({
        record_id: i.toString(16).padStart(32, '0'),
        price: i === 7 ? '99999999999999999999.999999999999999999' : `${97000 + i}.${String(i % 100).padStart(2, '0')}`,
        exchange_time: new Date(Date.UTC(2026, 10, 27, 19) + i * 1000 + 123).toISOString().replace('Z', '456Z'),
      }),
    );
    const file = join(dir, 'part.parquet');
    writeFileSync(file, encodeSilverParquet(ticks, { productId: 'BTC-USD' }));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const read = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJS();
      const types = await read(`DESCRIBE SELECT price, exchange_time, event_time FROM '${file}'`);
      expect(types.map((r) => r.column_type)).toEqual([
        'DECIMAL(38,18)',
        'TIMESTAMP WITH TIME ZONE',
        'TIMESTAMP WITH TIME ZONE',
      ]);
      const big = await read(
        `SELECT CAST(price AS VARCHAR) AS p FROM '${file}' WHERE record_id = '${ticks[7]?.record_id}'`,
      );
      expect(big).toEqual([{ p: '99999999999999999999.999999999999999999' }]);
      const window = await read(
        `SELECT count(*) AS n, CAST(min(price) AS VARCHAR) AS lo,
                CAST(strftime(min(event_time), '%Y-%m-%dT%H:%M:%S.%f') AS VARCHAR) AS first
         FROM '${file}'
         WHERE event_time >= TIMESTAMPTZ '2026-11-27 19:30:00+00' AND event_time < TIMESTAMPTZ '2026-11-27 19:40:00+00'
           AND price > 98900`,
      );
      // the same question answered over the records in JS
      const from = Date.UTC(2026, 10, 27, 19, 30);
      const to = Date.UTC(2026, 10, 27, 19, 40);
      const hits = ticks.filter((t) => {
        const ms = Date.parse(t.exchange_time ?? '');
        return ms >= from && ms < to && Number(t.price) > 98900;
      });
      expect(hits.length).toBeGreaterThan(100);
      expect(window).toEqual([
        {
          n: BigInt(hits.length),
          lo: `${hits[0]?.price}0000000000000000`,
          first: hits[0]?.exchange_time?.replace('Z', ''),
        },
      ]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
