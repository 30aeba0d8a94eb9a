import { ESLint } from 'eslint';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const eslint = new ESLint({ cwd: root });
const printWidth = (JSON.parse(readFileSync(resolve(root, '.prettierrc.json'), 'utf8')) as { printWidth: number })
  .printWidth;

/** A line of exactly `length` characters: a string constant, which Prettier leaves as it is. */
function lineOf(length: number): string {
  const head = "export const x = '";
  const line = `${head}${'a'.repeat(length - head.length - 2)}';`;
  expect(line).toHaveLength(length);
  return line;
}

/** Lint a snippet as if it were a file at `path` in the workspace, and return the max-len messages. */
async function widthErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(root, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'max-len').map((m) => m.message);
}

describe("line width (eslint max-len at Prettier's printWidth)", () => {
  it('holds the same width Prettier formats to', () => {
    expect(printWidth).toBe(120);
  });

  it.each([
    'libs/s3-keys/src/probe.ts',
    'apps/extractor/src/probe.spec.ts',
    'apps/query/src/probe.ts',
    'apps/compactor/src/probe.ts',
    'libs/price-schema/src/probe.ts',
    'tools/probe.mjs',
  ])('fails a line one character over the width in %s, and passes one at the width', async (path) => {
    expect(await widthErrors(path, `${lineOf(printWidth + 1)}\n`)).toEqual([
      `This line has a length of ${printWidth + 1}. Maximum allowed is ${printWidth}.`,
    ]);
    expect(await widthErrors(path, `${lineOf(printWidth)}\n`)).toEqual([]);
  });

  it('fails a long comment, which Prettier does not wrap', async () => {
    const comment = `// ${'word '.repeat(30)}`.trimEnd();
    expect(comment.length).toBeGreaterThan(printWidth);
    expect(await widthErrors('libs/s3-keys/src/probe.ts', `${comment}\nexport const x = 1;\n`)).toHaveLength(1);
  });

  it('lets a line through when a URL makes it long (a URL cannot be wrapped)', async () => {
    const code = `// see https://docs.aws.amazon.com/AmazonS3/latest/userguide/${'x'.repeat(printWidth)}.html\n`;
    expect(await widthErrors('libs/s3-keys/src/probe.ts', `${code}export const x = 1;\n`)).toEqual([]);
  });
});
