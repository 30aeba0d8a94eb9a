import { App } from 'aws-cdk-lib';
import { workspaceAssets } from './assets';
import { buildInfra } from './infra.app';
import { InfraError } from './infra.errors';

// The CDK entry point (cdk.json: `npx tsx src/main.ts`). Bad context or a missing build output ends the run with
// the message alone: the stack trace would only point at this file.
try {
  const app = new App();
  buildInfra(app, workspaceAssets());
  app.synth();
} catch (error) {
  if (!(error instanceof InfraError)) throw error;
  console.error(error.message);
  process.exit(2);
}
