import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let root: string | undefined;

/**
 * vitest globalSetup: one folder for every cloud assembly this run synthesizes (INFRA_SYNTH_DIR, read by
 * synth-infra.ts), removed after the run. The shared assemblies outlive their files, and workers end without running
 * exit handlers, so the run's end is where they go.
 */
export function setup(): void {
  root = mkdtempSync(join(tmpdir(), 'infra-synth-run-'));
  process.env.INFRA_SYNTH_DIR = root;
}

export function teardown(): void {
  if (root) rmSync(root, { recursive: true, force: true });
}
