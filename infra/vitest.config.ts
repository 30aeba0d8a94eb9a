import { projectTestConfig } from '../vitest.shared.ts';

// Synthesis and cfn-lint are CPU-bound and slow on 2 shared cores: give them room, never the network.
// Files share one module graph (isolate: false): aws-cdk-lib loads once, and synthInfra() synthesizes each context once
// per run (test/synth-infra.ts), instead of once per file. The specs only read the synthesized app.
export default projectTestConfig('infra', {
  testTimeout: 120_000,
  test: { isolate: false, globalSetup: ['src/test/synth.global-setup.ts'] },
});
