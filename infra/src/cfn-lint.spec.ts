import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCfnLint, runCfnLint } from './cfn-lint';
import { synthInfra, type SynthesizedInfra } from './test/synth-infra';

let infra: SynthesizedInfra;
let scratch: string;
beforeAll(() => {
  infra = synthInfra();
  scratch = mkdtempSync(join(tmpdir(), 'infra-cfn-lint-'));
});
afterAll(() => {
  infra.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

describe('cfn-lint', () => {
  it('passes every synthesized template with no error and no warning', () => {
    const templates = infra.assembly.stacks.map((s) => join(infra.outdir, s.templateFile));
    expect(templates).toHaveLength(6);
    const result = runCfnLint(templates, { command: findCfnLint() });
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('fails on a template with an error, so the check above can fail', () => {
    const broken = join(scratch, 'broken.template.json');
    writeFileSync(
      broken,
      JSON.stringify({
        Resources: {
          Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 'forty-two', NoSuchProperty: true } },
        },
      }),
    );
    const result = runCfnLint([broken]);
    expect(result.exitCode & 2).toBe(2);
    expect(result.output).toMatch(/NoSuchProperty/);
  });

  it("finds cfn-lint when Debian's python3 comes first on PATH (as under Nx)", () => {
    const command = findCfnLint({ ...process.env, PATH: `/usr/bin:/bin:${process.env.PATH ?? ''}` });
    expect(command.file).toMatch(/cfn-lint$|python3?$/);
  });
});
