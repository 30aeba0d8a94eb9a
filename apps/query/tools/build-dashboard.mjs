#!/usr/bin/env node
// Builds the dashboard's browser assets: the client bundled with lightweight-charts (esbuild, no CDN), the page and
// its stylesheet. Used by `query:build` and by the e2e test (which builds into a temp folder).
//   node apps/query/tools/build-dashboard.mjs --outdir dist/apps/query/public
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const appRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Write index.html, dashboard.css and dashboard.js (+ map) into `outdir`. */
export async function buildDashboard(outdir) {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [join(appRoot, 'src/dashboard/client/dashboard.client.ts')],
    outfile: join(outdir, 'dashboard.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'dashboard.css'])
    copyFileSync(join(appRoot, 'src/dashboard/public', file), join(outdir, file));
  return outdir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
  if (!values.outdir) {
    console.error('usage: build-dashboard.mjs --outdir <folder>');
    process.exit(2);
  }
  await buildDashboard(resolve(values.outdir));
  console.log(`dashboard assets -> ${values.outdir}`);
}
