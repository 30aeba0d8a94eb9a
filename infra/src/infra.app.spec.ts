import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceAssets } from './assets';
import { buildInfra, STACK_IDS } from './infra.app';
import { InfraAssetMissingError, InfraConfigError } from './infra.errors';
import { synthInfra, type SynthesizedInfra } from './test/synth-infra';

let infra: SynthesizedInfra;
beforeAll(() => {
  infra = synthInfra({ account: '123456789012', region: 'eu-central-1', namePrefix: 'btc-etl-stg' });
});
afterAll(() => infra.cleanup());

describe('buildInfra', () => {
  it('prefixes stack names from context and keeps the construct ids that `cdk deploy <id>` selects', () => {
    const { data, backup, extractor, query } = infra.stacks;
    expect([data, backup, extractor, query].map((s) => [s.node.id, s.stackName])).toEqual([
      [STACK_IDS.data, 'BtcEtlStgData'],
      [STACK_IDS.backup, 'BtcEtlStgBackup'],
      [STACK_IDS.extractor, 'BtcEtlStgExtractor'],
      [STACK_IDS.query, 'BtcEtlStgQuery'],
    ]);
  });

  it('pins every stack to the context account and region when given', () => {
    for (const stack of infra.assembly.stacks) {
      expect(stack.environment).toMatchObject({ account: '123456789012', region: 'eu-central-1' });
    }
  });

  it('wires the app stacks to the Data stack through props, so they deploy after it', () => {
    const dependsOnData = (id: string) =>
      infra.assembly.getStackArtifact(id).dependencies.some((d) => d.id === STACK_IDS.data);
    expect([STACK_IDS.backup, STACK_IDS.extractor, STACK_IDS.query].map(dependsOnData)).toEqual([true, true, true]);
    expect(infra.assembly.getStackArtifact(STACK_IDS.data).dependencies.map((d) => d.id)).not.toContain(
      STACK_IDS.backup,
    );
  });

  it('stays env-agnostic (no lookups, any account) without account and region', () => {
    const app = new App();
    const { data } = buildInfra(app, workspaceAssets());
    expect(data.account).toMatch(/^\$\{Token/);
    expect(data.region).toMatch(/^\$\{Token/);
  });

  it('fails on bad context before building anything', () => {
    const app = new App({ context: { firehoseBufferSizeMb: '500' } });
    expect(() => buildInfra(app, workspaceAssets())).toThrow(InfraConfigError);
    expect(app.node.children).toHaveLength(0);
  });

  it('names the missing build output and the command that builds it', () => {
    const assets = { ...workspaceAssets(), backupLambdaZip: '/nonexistent/backup-lambda.zip' };
    expect(() => buildInfra(new App(), assets)).toThrow(InfraAssetMissingError);
    expect(() => buildInfra(new App(), assets)).toThrow(
      /\/nonexistent\/backup-lambda\.zip.*npx nx run backup-lambda:build/,
    );
  });
});
