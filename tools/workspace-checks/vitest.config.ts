import { projectTestConfig } from '../../vitest.shared.ts';

export default projectTestConfig('workspace-checks', { testTimeout: 60_000 });
