import { projectTestConfig } from '../../vitest.shared.ts';

export default projectTestConfig('compactor', { moto: true, testTimeout: 120_000 });
