import { SILVER_LEXICAL_COLUMNS } from '@btc-etl/price-schema';
import { describe, expect, it } from 'vitest';
import { QUERIES, QUERY_NAMES } from '../queries/query.registry';
import type { QueryDefinition, ResultRow } from '../queries/query.types';
import { athenaStatement } from './athena.engine';
import { NO_WATERMARK, rawSourceSql } from './athena-source.sql';
import type { LayerName } from './layer';

const slack = { lateS: 600, bufferS: 300, skewS: 60 };
const sec = (iso: string) => Date.parse(iso) / 1000;
const ohlcPlan = {
  stores: ['raw'] as const,
  productIds: ['BTC-USD'],
  recordTime: ['exchange_time', 'scheduled_time'] as const,
};
const plan = (from: string, to: string, extra: object = ohlcPlan) => ({
  ...ohlcPlan,
  ...extra,
  fromSec: sec(from),
  toSec: sec(to),
});
const silver = (layer: LayerName, rawCompleteBefore?: number) => ({
  silverTable: 'silver_ticks',
  layer,
  ...(rawCompleteBefore !== undefined ? { rawCompleteBefore } : {}),
});
const placeholders = (sql: string) => sql.split('?').length - 1;

describe('rawSourceSql: the raw bucket per layer', () => {
  const p = plan('2026-11-27T10:15:00Z', '2026-11-28T02:00:00Z');

  it('raw: the datehour partitions of the arrival window, nothing from silver', () => {
    const s = rawSourceSql(p, slack, 'raw_ticks', silver('raw'));
    expect(s.sql).toContain('FROM "raw_ticks"');
    expect(s.sql).not.toContain('silver_ticks');
    expect(s.parameters).toEqual(["'2026/11/27/10'", "'2026/11/28/02'"]);
    expect(rawSourceSql(p, slack, 'raw_ticks', undefined)).toEqual(s);
  });

  it('silver: the event-hour partitions, the product, and the event_time range for row-group statistics', () => {
    const s = rawSourceSql(p, slack, 'raw_ticks', silver('silver'));
    expect(s.sql).toContain('FROM "silver_ticks"');
    expect(s.sql).not.toContain('raw_ticks');
    expect(s.sql).toMatch(
      /WHERE dt BETWEEN \? AND \?\n\s+AND \(dt <> \? OR hour >= \?\) AND \(dt <> \? OR hour <= \?\)/,
    );
    expect(s.parameters).toEqual([
      "'2026-11-27'",
      "'2026-11-28'",
      "'2026-11-27'",
      '10',
      "'2026-11-28'",
      '1', // [10:15, 02:00): the last hour is 01
      "'BTC-USD'",
      String(p.fromSec),
      String(p.toSec),
    ]);
    expect(placeholders(s.sql)).toBe(s.parameters.length);
  });

  it('silver for a plan over another time reads the event hours around it, without an event_time filter', () => {
    const gaps = plan('2026-11-27T10:00:00Z', '2026-11-27T11:00:00Z', { recordTime: ['scheduled_time'] });
    const s = rawSourceSql(gaps, slack, 'raw_ticks', silver('silver'));
    expect(s.sql).not.toContain('event_time');
    // [10:00 - 600 s - 60 s, 11:00 + 60 s): hours 09 to 11
    expect(s.parameters.slice(0, 6)).toEqual([
      "'2026-11-27'",
      "'2026-11-27'",
      "'2026-11-27'",
      '9',
      "'2026-11-27'",
      '11',
    ]);
  });

  it('auto: silver UNION ALL raw from the watermark (a parameter), or every raw hour without one', () => {
    const withMark = rawSourceSql(p, slack, 'raw_ticks', silver('auto', sec('2026-11-27T20:00:00Z')));
    expect(withMark.sql).toMatch(
      /FROM "silver_ticks"[\s\S]*UNION ALL[\s\S]*FROM "raw_ticks"\n\s+WHERE datehour BETWEEN greatest\(\?, \?\) AND \?/,
    );
    expect(withMark.parameters.slice(-3)).toEqual(["'2026/11/27/20'", "'2026/11/27/10'", "'2026/11/28/02'"]);
    const none = rawSourceSql(p, slack, 'raw_ticks', silver('auto'));
    expect(none.sql).toBe(withMark.sql);
    expect(none.parameters.slice(-3)).toEqual([`'${NO_WATERMARK}'`, "'2026/11/27/10'", "'2026/11/28/02'"]);
  });

  it('rebuilds each decimal and time from its own lexical_forms position', () => {
    const s = rawSourceSql(p, slack, 'raw_ticks', silver('silver')).sql;
    for (const field of ['price', 'exchange_time', 'scheduled_time', 'ingest_time']) {
      const i = SILVER_LEXICAL_COLUMNS.indexOf(field as never) + 1;
      const expr = new RegExp(
        `CASE WHEN ${field} IS NULL THEN NULL [^\\n]*substr\\(lexical_forms, ${i}, 1\\)[^\\n]* AS ${field}`,
      );
      expect(s).toMatch(expr);
    }
  });
});

describe('every query over each layer', () => {
  const examples: Record<string, Record<string, unknown>> = {
    latest: { from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z', now: '2026-11-27T01:00:00Z' },
    ohlc: { product: 'BTC-USD', interval: '1m', from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z' },
    gaps: { product: 'BTC-USD', from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z' },
    completeness: { product: 'BTC-USD', from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z' },
    freshness: { from: '2026-11-27T00:00:00Z', to: '2026-11-27T01:00:00Z', now: '2026-11-27T01:00:00Z' },
    summary: { product: 'BTC-USD', from: '2026-11-27T00:00:00Z', to: '2026-11-28T00:00:00Z' },
  };
  const cases = QUERY_NAMES.flatMap((name) =>
    (['auto', 'raw', 'silver'] as const).map((layer) => [name, layer] as const),
  );

  it.each(cases)('%s over %s: placeholders match parameters, the backup stays raw', (name, layer) => {
    const definition = QUERIES[name] as unknown as QueryDefinition<unknown, ResultRow>;
    const statement = athenaStatement(definition, definition.params.parse(examples[name]), {
      rawTable: 'raw_ticks',
      backupTable: 'backup_ticks',
      slack,
      silver: silver(layer, sec('2026-11-27T00:00:00Z')),
    });
    expect(placeholders(statement.sql)).toBe(statement.parameters.length);
    expect(statement.sql.includes('"silver_ticks"')).toBe(layer !== 'raw');
    expect(statement.sql.includes('"raw_ticks"')).toBe(layer !== 'silver');
    if (name === 'freshness') expect(statement.sql).toContain('FROM "backup_ticks"');
  });
});
