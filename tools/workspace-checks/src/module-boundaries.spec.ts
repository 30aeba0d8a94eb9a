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
        "import { okTick } from '@btc-etl/price-schema';\nexport const x = okTick;\n",
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

  it('fails a deep import into a lib instead of its index', async () => {
    const errors = await boundaryErrors(
      'libs/s3-keys/src/probe.ts',
      "import { okTick } from '../../price-schema/src/price-tick.factory';\nexport const x = okTick;\n",
    );
    expect(errors.length).toBeGreaterThan(0);
  });
});
