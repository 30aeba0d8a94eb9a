import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catchError } from '@btc-etl/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { workspaceAssets } from './assets';
import { InfraAssetMissingError, InfraNamedQueriesError } from './infra.errors';
import { loadNamedQueries } from './named-queries';

const dir = mkdtempSync(join(tmpdir(), 'infra-named-queries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const query = (over: Record<string, unknown> = {}) => ({
  name: 'a',
  description: 'b',
  layer: 'auto',
  sql: 'SELECT 1',
  ...over,
});

describe('loadNamedQueries', () => {
  it('fails naming the file and the build that writes it when it is missing', () => {
    const path = join(dir, 'absent.json');
    const error = catchError(() => loadNamedQueries(path), InfraAssetMissingError);
    expect(error.path).toBe(path);
    expect(error.message).toContain('npx nx run query:build');
  });

  it("takes the query app's queries as they are", () => {
    const queries = [query({ name: 'latest' }), query({ name: 'latest-raw', layer: 'raw' })];
    expect(loadNamedQueries(file('ok.json', JSON.stringify(queries)))).toEqual(queries);
  });

  it('reads what query:build wrote (infra:test depends on it)', () => {
    const queries = loadNamedQueries(workspaceAssets().namedQueriesJson);
    expect(new Set(queries.map((q) => q.layer))).toEqual(new Set(['auto', 'raw', 'silver']));
    // infra's own hand-written queries (OHLC by arrival hour) are gone: every query is the app's
    expect(queries.every((q) => q.name.startsWith('btc-etl-'))).toBe(true);
    expect(queries.some((q) => q.sql.includes('GROUP BY product_id, datehour'))).toBe(false);
  });

  it.each([
    ['not-json.json', '{', /not JSON/],
    ['empty.json', '[]', /at least one/],
    ['missing-sql.json', JSON.stringify([{ name: 'a', description: 'b', layer: 'raw' }]), /0\.sql/],
    ['missing-layer.json', JSON.stringify([{ name: 'a', description: 'b', sql: 'SELECT 1' }]), /0\.layer/],
    ['bad-layer.json', JSON.stringify([query({ layer: 'gold' })]), /0\.layer/],
    ['extra-key.json', JSON.stringify([query({ db: 'x' })]), /db/],
    ['dupes.json', JSON.stringify([query(), query()]), /unique/],
    ['long-name.json', JSON.stringify([query({ name: 'n'.repeat(129) })]), /0\.name/],
  ])('rejects %s with the path and the reason', (name, content, reason) => {
    const path = file(name, content);
    const error = catchError(() => loadNamedQueries(path), InfraNamedQueriesError);
    expect(error.message).toMatch(reason);
    expect(error.path).toBe(path);
  });
});
