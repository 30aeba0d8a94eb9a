import nx from '@nx/eslint-plugin';

/** Who may import whom by layer (shared/ARCHITECTURE.md). Production code first; specs may also use test helpers. */
const typeConstraints = [
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
  { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:util'] },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:data-access', 'type:util'] },
  { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:util'] },
  { sourceTag: 'type:test-util', onlyDependOnLibsWithTags: ['type:util', 'type:data-access'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:util', 'type:data-access', 'type:test-util'] },
];
/**
 * Who may import whom by domain. `scope:shared` libs serve everyone and depend only on each other; a domain lib
 * (`scope:coinbase`) serves its own app (`scope:extractor`) and no other, so the backup Lambda or the query app cannot
 * grow a dependency on the Coinbase client. The compactor app is `scope:silver`; e2e drives every part.
 */
const scopeConstraints = [
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:coinbase', onlyDependOnLibsWithTags: ['scope:shared', 'scope:coinbase'] },
  { sourceTag: 'scope:extractor', onlyDependOnLibsWithTags: ['scope:shared', 'scope:coinbase', 'scope:extractor'] },
  { sourceTag: 'scope:backup', onlyDependOnLibsWithTags: ['scope:shared', 'scope:backup'] },
  { sourceTag: 'scope:query', onlyDependOnLibsWithTags: ['scope:shared', 'scope:query'] },
  { sourceTag: 'scope:silver', onlyDependOnLibsWithTags: ['scope:shared', 'scope:silver'] },
  { sourceTag: 'scope:infra', onlyDependOnLibsWithTags: ['scope:shared', 'scope:infra'] },
  { sourceTag: 'scope:workspace', onlyDependOnLibsWithTags: ['scope:shared', 'scope:workspace'] },
  {
    sourceTag: 'scope:e2e',
    onlyDependOnLibsWithTags: [
      'scope:shared',
      'scope:coinbase',
      'scope:extractor',
      'scope:backup',
      'scope:query',
      'scope:silver',
      'scope:e2e',
    ],
  },
];
const depConstraints = [...typeConstraints, ...scopeConstraints];
const withTestUtils = [
  ...typeConstraints.map((c) =>
    c.sourceTag === 'type:e2e' || c.sourceTag === 'type:test-util'
      ? c
      : { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'type:test-util'] },
  ),
  ...scopeConstraints,
];

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
    // Issue 12: no line longer than Prettier's printWidth. Prettier breaks code but not strings, template literals,
    // comments or regexes; those are wrapped by hand and this rule keeps them wrapped.
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    rules: { 'max-len': ['error', { code: 120, tabWidth: 2, ignoreUrls: true }] },
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
