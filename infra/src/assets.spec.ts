import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerContextFiles, dockerfileSources, dockerImageSource, WORKSPACE_ROOT, workspaceAssets } from './assets';
import { InfraError } from './infra.errors';

const dir = mkdtempSync(join(tmpdir(), 'infra-assets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dockerfileSources', () => {
  it('lists COPY and ADD sources, skipping flags, other stages and the destination', () => {
    const dockerfile = [
      'FROM node:22-slim AS build',
      'COPY --chown=node:node dist/a.js dist/a.js.map ./',
      'copy ["dist/b.json", "/app/"]',
      'ADD \\',
      '  vendor/c.tar /opt/',
      'COPY --from=build /app/x /y',
      'RUN echo COPY not/this /z',
    ].join('\n');
    expect(dockerfileSources(dockerfile)).toEqual(['dist/a.js', 'dist/a.js.map', 'dist/b.json', 'vendor/c.tar']);
  });
});

describe('dockerImageSource', () => {
  it('excludes everything from the context but the Dockerfile and the files it copies', () => {
    writeFileSync(join(dir, 'Dockerfile'), 'FROM node:22-slim\nCOPY dist/main.js ./\n');
    const source = dockerImageSource(dir, 'Dockerfile');
    expect(source.exclude).toEqual(['*', '!Dockerfile', '!dist/main.js']);
    expect(dockerContextFiles(source)).toEqual([join(dir, 'Dockerfile'), join(dir, 'dist/main.js')]);
  });

  it.each(['.', 'dist/*.js', '../secrets', '/etc/passwd'])(
    'refuses COPY %s (it would send more than named files)',
    (src) => {
      writeFileSync(join(dir, 'Dockerfile.bad'), `FROM node:22-slim\nCOPY ${src} ./\n`);
      expect(() => dockerImageSource(dir, 'Dockerfile.bad')).toThrow(InfraError);
    },
  );

  it("reads apps/extractor's Dockerfile from the repository root", () => {
    const { extractorImage } = workspaceAssets();
    expect(extractorImage.context).toBe(WORKSPACE_ROOT);
    expect(extractorImage.exclude).toContain('!apps/extractor/Dockerfile');
    expect(extractorImage.exclude).toContain('!dist/apps/extractor/main.js');
  });
});
