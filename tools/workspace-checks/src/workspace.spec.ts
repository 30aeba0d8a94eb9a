import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const allDeps = { ...pkg.dependencies, ...pkg.devDependencies };

function trackedSources(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.mjs', '*.json'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f && !f.includes('node_modules') && f !== 'package.json' && f !== 'package-lock.json');
}

describe('workspace', () => {
  it('pins every dependency to an exact version (shared/REFERENCE.md: mixing nx versions breaks the graph)', () => {
    const loose = Object.entries(allDeps).filter(([, v]) => !/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(v));
    expect(loose).toEqual([]);
  });

  it('keeps every @nx/* plugin on the same version as nx', () => {
    const nxVersion = allDeps['nx'];
    const mismatched = Object.entries(allDeps).filter(([n, v]) => n.startsWith('@nx/') && v !== nxVersion);
    expect(mismatched).toEqual([]);
  });

  it('gives every package the design names a real use in the code', () => {
    const files = trackedSources().filter((f) => !f.startsWith('tools/workspace-checks/'));
    const text = files.map((f) => readFileSync(resolve(root, f), 'utf8')).join('\n');
    const named = [
      '@aws-sdk/client-firehose',
      '@aws-sdk/client-s3',
      '@aws-sdk/lib-storage',
      'got',
      'hyparquet',
      'vitest',
      '@nx/js:node',
    ];
    const unused = named.filter((name) => !new RegExp(`['"]${name.replace(/[/.]/g, '\\$&')}['"]`).test(text));
    expect(unused).toEqual([]);
  });

  it('commits no focused or skipped tests', () => {
    const offenders = trackedSources()
      .filter((f) => /\.spec\.ts$/.test(f))
      .filter((f) => /\b(it|test|describe)\.(only|skip)\(/.test(readFileSync(resolve(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('keeps generated output out of git', () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n');
    expect(
      tracked.filter((f) => /^(dist|coverage|data|tmp|\.nx|node_modules)\//.test(f) || /\/(dist|cdk\.out)\//.test(f)),
    ).toEqual([]);
  });
});
