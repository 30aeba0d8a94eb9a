import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCfnLint } from './cfn-lint';
import { InfraError } from './infra.errors';

// `npx nx run infra:cfn-lint`: lint every template of a synthesized cloud assembly (default dist/infra).
const dir = resolve(process.argv[2] ?? 'dist/infra');
try {
  const templates = readdirSync(dir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => join(dir, f));
  if (templates.length === 0)
    throw new InfraError(`no *.template.json in ${dir}: run \`npx nx run infra:synth\` first`);
  const result = runCfnLint(templates, { regions: [process.env.CDK_LINT_REGION ?? 'us-east-1'] });
  if (result.output) console.log(result.output);
  console.log(`cfn-lint: ${templates.length} templates, exit code ${result.exitCode}`);
  process.exit(result.exitCode === 0 ? 0 : 1);
} catch (error) {
  if (!(error instanceof InfraError)) throw error;
  console.error(error.message);
  process.exit(2);
}
