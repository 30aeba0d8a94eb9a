import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfraAssetMissingError, InfraError } from './infra.errors';

/** The repository root, found from this file so `cdk` works from any working directory. */
export const WORKSPACE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A Docker build: the context directory, the Dockerfile (relative to it) and the paths the build reads. */
export interface DockerImageSource {
  context: string;
  dockerfile: string;
  /**
   * Docker-ignore patterns for the context. The extractor builds from the repository root, so everything is
   * excluded but the Dockerfile and what it copies: CDK stages (and fingerprints) only those, never node_modules.
   */
  exclude: string[];
}

/** Where the stacks find what other projects build. Tests may point these elsewhere. */
export interface InfraAssets {
  /** The backup Lambda's deployment zip (`index.mjs` exporting `handler` at its root). */
  backupLambdaZip: string;
  /** The compactor Lambda's deployment zip (`index.mjs` exporting `handler`). */
  compactorLambdaZip: string;
  extractorImage: DockerImageSource;
  /** JSON `{ name, description, sql }[]` the query app writes at build time; absent = infra's built-in queries. */
  namedQueriesJson: string;
}

/** The build outputs of this repository, as the apps' `build` targets write them. */
export function workspaceAssets(root: string = WORKSPACE_ROOT): InfraAssets {
  return {
    backupLambdaZip: join(root, 'dist/apps/backup-lambda/backup-lambda.zip'),
    compactorLambdaZip: join(root, 'dist/apps/compactor/compactor-lambda.zip'),
    extractorImage: dockerImageSource(root, 'apps/extractor/Dockerfile'),
    namedQueriesJson: join(root, 'dist/apps/query/named-queries.json'),
  };
}

/**
 * The sources of every `COPY`/`ADD` of a Dockerfile (not `--from` stages), relative to the build context.
 * @example dockerfileSources('COPY dist/a.js dist/a.js.map ./') // ['dist/a.js', 'dist/a.js.map']
 */
export function dockerfileSources(dockerfile: string): string[] {
  const instructions = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => /^(COPY|ADD)\s/i.test(line));
  const sources: string[] = [];
  for (const instruction of instructions) {
    const rest = instruction.replace(/^(COPY|ADD)\s+/i, '');
    const words = rest.startsWith('[')
      ? (JSON.parse(rest) as string[])
      : rest.split(/\s+/).filter((w) => !w.startsWith('--'));
    if (/(^|\s)--from=/.test(rest)) continue; // copies from another stage, not from the context
    sources.push(...words.slice(0, -1));
  }
  return sources;
}

/** A Docker build from `root` whose context holds only `dockerfile` and the files it copies. */
export function dockerImageSource(root: string, dockerfile: string): DockerImageSource {
  const path = join(root, dockerfile);
  if (!existsSync(path)) return { context: root, dockerfile, exclude: ['*'] };
  const sources = dockerfileSources(readFileSync(path, 'utf8'));
  for (const source of sources) {
    if (source.startsWith('/') || source.split('/').includes('..') || source === '.' || source.includes('*')) {
      throw new InfraError(`${dockerfile}: COPY ${source} would send more than named files to the build; name them`);
    }
  }
  return { context: root, dockerfile, exclude: ['*', `!${dockerfile}`, ...sources.map((s) => `!${s}`)] };
}

/** The context files an image build needs (the Dockerfile and its COPY sources), as absolute paths. */
export function dockerContextFiles(source: DockerImageSource): string[] {
  return source.exclude.filter((p) => p.startsWith('!')).map((p) => join(source.context, p.slice(1)));
}

/** Fail with what makes a missing asset appear, instead of CDK's bare ENOENT deep in synthesis. */
export function requireAsset(what: string, path: string, remedy: string): string {
  if (!existsSync(path)) throw new InfraAssetMissingError(what, path, remedy);
  return path;
}
