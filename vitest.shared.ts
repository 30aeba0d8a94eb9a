import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * `@btc-etl/*` aliases read from tsconfig.base.json, so tests and the build resolve libs the same way. Each matches its
 * whole specifier: `@btc-etl/price-schema` must not swallow `@btc-etl/price-schema/testing`.
 */
function workspaceAliases(): { find: RegExp; replacement: string }[] {
  const base = JSON.parse(readFileSync(resolve(root, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  return Object.entries(base.compilerOptions.paths).map(([name, [target]]) => ({
    find: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`),
    replacement: resolve(root, target ?? ''),
  }));
}

export interface ProjectTestOptions {
  /** Start moto once for the run and expose AWS_ENDPOINT_URL to every test file. */
  moto?: boolean;
  testTimeout?: number;
  /** Extra test config merged last. */
  test?: NonNullable<ViteUserConfig['test']>;
}

/** One vitest config for every project: `*.spec.ts` next to the code, `*.int.spec.ts` for real local services. */
export function projectTestConfig(projectName: string, options: ProjectTestOptions = {}) {
  return defineConfig({
    resolve: { alias: workspaceAliases() },
    test: {
      name: projectName,
      include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
      environment: 'node',
      // Timeouts only catch hangs: a verdict never depends on how fast the machine is. 120 s is ~10x what the slowest
      // int spec takes alone, enough for 2 shared cores with a suite beside it and a busy core (tools/flake-hunt.sh).
      testTimeout: options.testTimeout ?? 120_000,
      hookTimeout: 120_000,
      globalSetup: options.moto ? [resolve(root, 'libs/testing/src/moto.global-setup.ts')] : [],
      // JUnit beside the console: tools/flake-hunt.sh reads test-results/<project>/junit.xml (the test target's
      // outputs); TEST_RESULTS_DIR moves it (.ci/run's Node 22 lane, which runs beside the Node 20 one).
      reporters: [
        'default',
        [
          'junit',
          { outputFile: resolve(root, process.env.TEST_RESULTS_DIR ?? 'test-results', projectName, 'junit.xml') },
        ],
      ],
      // Built bundles (dist/) are what Node and Lambda load: import them natively, never through Vite's transform
      // (which resolves a bundle's bare builtin `from "stream"` as a file beside the project and fails).
      server: { deps: { external: [/\/dist\//] } },
      ...options.test,
    },
  });
}
