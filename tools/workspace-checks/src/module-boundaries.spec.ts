import { ESLint } from 'eslint';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const eslint = new ESLint({ cwd: root });

/** Lint a snippet as if it were a file at `path` in the workspace, and return the module-boundary messages. */
async function boundaryErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(root, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries (eslint @nx/enforce-module-boundaries)', () => {
  it('lets a util lib import another util lib', async () => {
    expect(
      await boundaryErrors(
        'libs/s3-keys/src/probe.ts',
        "import { recordId } from '@btc-etl/price-schema';\nexport const x = recordId;\n",
      ),
    ).toEqual([]);
  });

  it('fails a util lib that imports a data-access lib', async () => {
    const errors = await boundaryErrors(
      'libs/price-schema/src/probe.ts',
      "import * as s from '@btc-etl/object-store';\nexport const x = s;\n",
    );
    expect(errors.join('\n')).toMatch(/tagged with "type:util" can only depend on libs tagged with "type:util"/);
  });

  it('fails a lib that imports an app by relative path', async () => {
    const errors = await boundaryErrors(
      'libs/s3-keys/src/probe.ts',
      "import * as app from '../../../apps/extractor/src/main';\nexport const x = app;\n",
    );
    expect(errors.length).toBeGreaterThan(0);
  });

  it('fails production code that imports the test utilities, and lets specs use them', async () => {
    const code = "import { startMoto } from '@btc-etl/testing';\nexport const x = startMoto;\n";
    expect((await boundaryErrors('libs/s3-keys/src/probe.ts', code)).join('\n')).toMatch(
      /can only depend on libs tagged with "type:util"/,
    );
    expect(await boundaryErrors('libs/s3-keys/src/probe.spec.ts', code)).toEqual([]);
  });

  it('keeps the record factories out of production code: only tests may use the testing door', async () => {
    const code = "import { okTick } from '@btc-etl/price-schema/testing';\nexport const x = okTick;\n";
    const [production] = await eslint.lintText(code, { filePath: resolve(root, 'apps/query/src/probe.ts') });
    expect(production?.messages.map((m) => m.message).join('\n')).toMatch(/testing door/);
    const [spec] = await eslint.lintText(code, { filePath: resolve(root, 'apps/query/src/probe.spec.ts') });
    expect(spec?.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  });

  it.each([
    ['the extractor', 'apps/extractor/src/probe.ts', '@btc-etl/coinbase', null],
    [
      'the query app',
      'apps/query/src/probe.ts',
      '@btc-etl/coinbase',
      /"scope:query" can only depend on libs tagged with "scope:shared", "scope:query"/,
    ],
    [
      'the backup Lambda',
      'apps/backup-lambda/src/probe.ts',
      '@btc-etl/coinbase',
      /"scope:backup" can only depend on libs tagged with "scope:shared", "scope:backup"/,
    ],
    [
      'a shared data-access lib',
      'libs/object-store/src/probe.ts',
      '@btc-etl/coinbase',
      /"scope:shared" can only depend on libs tagged with "scope:shared"/,
    ],
    ['the query app', 'apps/query/src/probe.ts', '@btc-etl/object-store', null],
  ])('scope tags: %s (%s) importing %s', async (_who, path, lib, refused) => {
    const errors = await boundaryErrors(path, `import * as lib from '${lib}';\nexport const x = lib;\n`);
    if (refused === null) expect(errors).toEqual([]);
    else expect(errors.join('\n')).toMatch(refused);
  });

  it('fails a deep import into a lib instead of its index', async () => {
    const errors = await boundaryErrors(
      'libs/s3-keys/src/probe.ts',
      "import { recordId } from '../../price-schema/src/record-id';\nexport const x = recordId;\n",
    );
    expect(errors.length).toBeGreaterThan(0);
  });
});
