import { projectTestConfig } from '../../vitest.shared.ts';

// One moto for the whole suite (reset between scenarios); files run one after another because every scenario
// drives real processes on a 2-core machine and measures their timing.
export default projectTestConfig('e2e', {
  moto: true,
  testTimeout: 180_000,
  test: { fileParallelism: false, maxWorkers: 1 },
});
