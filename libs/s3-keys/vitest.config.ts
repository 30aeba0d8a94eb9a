import { projectTestConfig } from '../../vitest.shared.ts';

export default projectTestConfig('s3-keys');
