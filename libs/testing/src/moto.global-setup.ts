import type { TestProject } from 'vitest/node';
import { motoClientEnv, startMoto, type MotoServer } from './moto';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

let moto: MotoServer | undefined;

/** vitest globalSetup: one moto per test run, on a free port, its endpoint in AWS_ENDPOINT_URL for every worker. */
export async function setup(project: TestProject): Promise<void> {
  moto = await startMoto();
  Object.assign(process.env, motoClientEnv(moto.endpoint));
  project.provide('motoEndpoint', moto.endpoint);
}

export async function teardown(): Promise<void> {
  await moto?.stop();
}
