import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfraAssetMissingError } from './infra.errors';

/** The repository root, found from this file so `cdk` works from any working directory. */
export const WORKSPACE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the stacks find what other projects build. Tests may point these elsewhere. */
export interface InfraAssets {
  /** The backup Lambda's deployment zip (`index.mjs` exporting `handler` at its root). */
  backupLambdaZip: string;
  /** The extractor image's Docker build context and the Dockerfile inside it (relative to the context). */
  extractorImage: { context: string; dockerfile: string; exclude: string[] };
  /** JSON `{ name, description, sql }[]` the query app writes at build time; absent = infra's built-in queries. */
  namedQueriesJson: string;
}

/** The build outputs of this repository, as the apps' `build` targets write them. */
export function workspaceAssets(root: string = WORKSPACE_ROOT): InfraAssets {
  return {
    backupLambdaZip: join(root, 'dist/apps/backup-lambda/backup-lambda.zip'),
    extractorImage: { context: join(root, 'apps/extractor'), dockerfile: 'Dockerfile', exclude: [] },
    namedQueriesJson: join(root, 'dist/apps/query/named-queries.json'),
  };
}

/** Fail with what makes a missing asset appear, instead of CDK's bare ENOENT deep in synthesis. */
export function requireAsset(what: string, path: string, remedy: string): string {
  if (!existsSync(path)) throw new InfraAssetMissingError(what, path, remedy);
  return path;
}
