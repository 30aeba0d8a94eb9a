import nx from '@nx/eslint-plugin';

/** Who may import whom (shared/ARCHITECTURE.md). Production code first; specs may also use test helpers. */
const depConstraints = [
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
  { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:util'] },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:data-access', 'type:util'] },
  { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:util'] },
  { sourceTag: 'type:test-util', onlyDependOnLibsWithTags: ['type:util', 'type:data-access'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:util', 'type:data-access', 'type:test-util'] },
];
const withTestUtils = depConstraints.map((c) =>
  c.sourceTag === 'type:e2e' || c.sourceTag === 'type:test-util'
    ? c
    : { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'type:test-util'] },
);

const testFiles = ['**/*.spec.ts', '**/test/**/*.ts', '**/*.bench.ts', '**/bench/**/*.ts'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/.nx', '**/cdk.out', '**/tmp', '**/test-results', '**/public/vendor'],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: true, allow: [], depConstraints }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@btc-etl/*/testing'],
              message:
                "a lib's testing door (factories, fakes) is for specs, fixtures and benches, not production code",
            },
          ],
        },
      ],
    },
  },
  {
    files: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: true, allow: [], depConstraints: withTestUtils },
      ],
      'no-restricted-imports': 'off',
    },
  },
  {
    // Config files import the shared root config by path; they are build tooling, not project code.
    files: ['**/vitest.config.ts', '**/vite.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
