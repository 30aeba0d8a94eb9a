import { GLUE_COLUMNS } from '@btc-etl/price-schema';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InfraNamedQueriesError } from './infra.errors';
import { defaultNamedQueries, loadNamedQueries } from './named-queries';

const dir = mkdtempSync(join(tmpdir(), 'infra-named-queries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('loadNamedQueries', () => {
  it("uses infra's defaults when the query build wrote no file", () => {
    const set = loadNamedQueries(join(dir, 'absent.json'), 'raw_ticks');
    expect(set.source).toBe('infra-default');
    expect(set.queries).toEqual(defaultNamedQueries('raw_ticks'));
  });

  it("takes the query app's queries as they are", () => {
    const queries = [{ name: 'latest', description: 'latest price', sql: 'SELECT 1' }];
    const set = loadNamedQueries(file('ok.json', JSON.stringify(queries)), 'raw_ticks');
    expect(set).toEqual({ source: 'query-app', path: join(dir, 'ok.json'), queries });
  });

  it.each([
    ['not-json.json', '{', /not JSON/],
    ['empty.json', '[]', /at least one/],
    ['missing-sql.json', JSON.stringify([{ name: 'a', description: 'b' }]), /0\.sql/],
    ['extra-key.json', JSON.stringify([{ name: 'a', description: 'b', sql: 'SELECT 1', db: 'x' }]), /db/],
    ['dupes.json', JSON.stringify([1, 2].map(() => ({ name: 'a', description: 'b', sql: 'SELECT 1' }))), /unique/],
    ['long-name.json', JSON.stringify([{ name: 'n'.repeat(129), description: 'b', sql: 'SELECT 1' }]), /0\.name/],
  ])('rejects %s with the path and the reason', (name, content, reason) => {
    const path = file(name, content);
    expect(() => loadNamedQueries(path, 'raw_ticks')).toThrow(InfraNamedQueriesError);
    expect(() => loadNamedQueries(path, 'raw_ticks')).toThrow(reason);
    expect(() => loadNamedQueries(path, 'raw_ticks')).toThrow(path);
  });
});

describe('defaultNamedQueries', () => {
  it('select the schema columns from the given table and prune by datehour', () => {
    const queries = defaultNamedQueries('my_table');
    expect(new Set(queries.map((q) => q.name)).size).toBe(queries.length);
    for (const q of queries) {
      expect(q.sql).toContain('FROM "my_table"');
      expect(q.sql).toMatch(/WHERE[^]*datehour >= date_format\(/);
    }
    const latest = queries.find((q) => q.name === 'latest-ticks');
    expect(latest?.sql.split('\n')[0]).toBe(`SELECT ${GLUE_COLUMNS.map((c) => `"${c.name}"`).join(', ')}`);
  });
});
