import { projectTestConfig } from '../../vitest.shared.ts';

export default projectTestConfig('query', { moto: true });
