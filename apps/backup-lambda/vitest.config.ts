import { projectTestConfig } from '../../vitest.shared.ts';

export default projectTestConfig('backup-lambda', { moto: true });
