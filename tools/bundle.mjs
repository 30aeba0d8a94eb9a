#!/usr/bin/env node
// Bundles one app entry into a single ESM file for Node (20 here, 22 on Lambda/Fargate), with a `require` shim for
// the CommonJS dependencies that esbuild inlines. Used by every app's `build` target.
//   node tools/bundle.mjs --entry apps/x/src/main.ts --outfile dist/apps/x/main.js [--external pkg ...] [--minify]
//     [--main-fields module,main]  (esbuild's default for platform node is main,module: the CommonJS builds, which
//     cannot be tree-shaken; module,main picks the ESM builds where packages have them, e.g. for a Lambda bundle)
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    entry: { type: 'string' },
    outfile: { type: 'string' },
    external: { type: 'string', multiple: true, default: [] },
    minify: { type: 'boolean', default: false },
    target: { type: 'string', default: 'node20' },
    'main-fields': { type: 'string' },
  },
});
if (!values.entry || !values.outfile) {
  console.error('usage: bundle.mjs --entry <file.ts> --outfile <out.js|.mjs> [--external pkg]... [--minify]');
  process.exit(2);
}
mkdirSync(dirname(values.outfile), { recursive: true });
const result = await build({
  entryPoints: [values.entry],
  outfile: values.outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: values.target,
  sourcemap: 'linked',
  minify: values.minify,
  // error classes take their name from the class (DataError): minified bundles must keep class names
  keepNames: true,
  legalComments: 'none',
  external: values.external,
  mainFields: values['main-fields']?.split(','),
  tsconfig: 'tsconfig.base.json',
  metafile: true,
  logLevel: 'warning',
  banner: {
    js:
      "import { createRequire as __btcEtlCreateRequire } from 'node:module'; " +
      'const require = __btcEtlCreateRequire(import.meta.url);',
  },
});
writeFileSync(`${values.outfile}.meta.json`, JSON.stringify(result.metafile));
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`bundled ${values.entry} -> ${values.outfile} (${(bytes / 1024).toFixed(1)} KiB with source map)`);
