import { projectTestConfig } from '../vitest.shared.ts';

// Synthesis and cfn-lint are CPU-bound and slow on 2 shared cores: give them room, never the network.
export default projectTestConfig('infra', { testTimeout: 120_000 });
