import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

/** Every entry point of a lib (`@btc-etl/x` and doors such as `@btc-etl/x/testing`), from tsconfig.base.json. */
function libDoors(): [string, string][] {
  const base = JSON.parse(readFileSync(resolve(root, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  return Object.entries(base.compilerOptions.paths).map(([name, [target]]) => [name, target ?? '']);
}

/** Source files git knows below `dir` (tracked, or new and not ignored), specs left out. */
function productionSources(dir: string): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', `${dir}/*.ts`], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
}

/** `export * from ...` statements (also `export * as x from`), one per match. */
export function starExports(source: string): string[] {
  return [...source.matchAll(/^\s*export\s+\*(\s+as\s+\w+)?\s+from\s+['"][^'"]+['"]/gm)].map((m) => m[0].trim());
}

describe('lib doors', () => {
  it('finds the doors it checks', () => {
    expect(libDoors().map(([name]) => name)).toEqual(
      expect.arrayContaining(['@btc-etl/price-schema', '@btc-etl/coinbase', '@btc-etl/price-schema/testing']),
    );
  });

  it('recognises a star export, and no named one', () => {
    expect(starExports('export * from \'./a\';\nexport * as b from "./b";\n')).toHaveLength(2);
    expect(starExports("export { a, type B } from './a';\n// export * from './c' is not allowed\n")).toEqual([]);
  });

  it.each(libDoors())('%s names its exports (no export *): %s', (_name, target) => {
    expect(starExports(readFileSync(resolve(root, target), 'utf8'))).toEqual([]);
  });

  it('gives every error class in the libs one base: DataError (name from the class, facts in data)', () => {
    const direct = productionSources('libs')
      .filter((f) => f !== 'libs/errors/src/data.error.ts')
      .flatMap((f) =>
        [
          ...readFileSync(resolve(root, f), 'utf8').matchAll(
            /class\s+(\w+)(?:<[^>]*>)?\s+extends\s+(Error|TypeError|RangeError)\b/g,
          ),
        ].map((m) => `${f}: ${m[1]} extends ${m[2]}`),
      );
    expect(direct).toEqual([]);
  });
});
