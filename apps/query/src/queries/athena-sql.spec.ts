import { describe, expect, it } from 'vitest';
import { athenaSql, ident, int, str } from './athena-sql';
import { ATHENA_NAMED_QUERIES } from './athena-named-queries';
import { QUERIES, QUERY_NAMES } from './query.registry';

describe('athenaSql', () => {
  it('turns values into placeholders and quotes string literals', () => {
    const inner = athenaSql`a = ${int(1)}`;
    const s = athenaSql`SELECT * FROM ${ident('raw_ticks')} WHERE p = ${str("it's")} AND ${inner}`;
    expect(s.sql).toBe('SELECT * FROM "raw_ticks" WHERE p = ? AND a = ?');
    expect(s.parameters).toEqual(["'it''s'", '1']);
  });

  it('refuses identifiers and numbers that could break the statement', () => {
    expect(() => ident('raw_ticks; DROP TABLE x')).toThrow(/identifier/);
    expect(() => int(1.5)).toThrow(/integer/);
  });
});

describe('Athena named queries', () => {
  it(
    'has one per query and layer, with as many placeholders as example parameters ' + 'and no user value in the SQL',
    () => {
      expect(ATHENA_NAMED_QUERIES.map((q) => q.name)).toEqual(
        QUERY_NAMES.flatMap((n) => [`btc-etl-${n}`, `btc-etl-${n}-raw`, `btc-etl-${n}-silver`]),
      );
      for (const q of ATHENA_NAMED_QUERIES) {
        expect(q.sql).not.toMatch(/BTC-USD|2026/);
        const placeholders = q.sql.split('?').length - 1;
        expect(q.description.split('e.g.: ')[1]?.split(', ')).toHaveLength(placeholders);
        if (q.layer === 'raw') expect(q.sql).toMatch(/datehour BETWEEN \? AND \?/);
        if (q.layer === 'auto') expect(q.sql).toMatch(/datehour BETWEEN greatest\(\?, \?\) AND \?/);
        if (q.layer === 'silver') expect(q.sql).not.toContain('"raw_ticks"');
        if (q.layer !== 'raw') expect(q.sql).toContain('FROM "silver_ticks"');
        expect(q.description.length).toBeLessThanOrEqual(1024);
      }
    },
  );

  it('reads the freshness of both buckets', () => {
    const freshness = ATHENA_NAMED_QUERIES.find((q) => q.name === 'btc-etl-freshness');
    expect(freshness?.sql).toContain('FROM "raw_ticks"');
    expect(freshness?.sql).toContain('FROM "backup_ticks"');
  });

  it('never varies its SQL text with the parameters', () => {
    const ctx = {
      rawTable: 'raw_ticks',
      backupTable: 'backup_ticks',
      datehourFrom: '2026/01/01/00',
      datehourTo: '2026/01/02/00',
      rawSource: { sql: '(SELECT * FROM "raw_ticks")', parameters: [] },
    };
    const a = QUERIES.ohlc.athena(
      QUERIES.ohlc.params.parse({ product: 'BTC-USD', interval: '1m', from: '2026-01-01', to: '2026-01-02' }),
      ctx,
    );
    const b = QUERIES.ohlc.athena(
      QUERIES.ohlc.params.parse({ product: 'ETH-EUR', interval: '1d', from: '2026-01-01', to: '2026-01-03' }),
      ctx,
    );
    expect(a.sql).toBe(b.sql);
    expect(a.parameters).not.toEqual(b.parameters);
  });
});
