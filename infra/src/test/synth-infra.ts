import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT, workspaceAssets, type InfraAssets } from '../assets';
import { buildInfra, type InfraStacks } from '../infra.app';

export interface SynthesizedInfra {
  stacks: InfraStacks;
  assembly: CloudAssembly;
  outdir: string;
  templates: {
    data: Template;
    backup: Template;
    extractor: Template;
    query: Template;
    compactor: Template;
    ops: Template;
    backupReplica?: Template;
  };
  /** The stack's asset manifest (`<stack>.assets.json`): what `cdk deploy` would upload or build. */
  assetManifest(stackName: string): AssetManifest;
  /** Delete the cloud assembly (call in `afterAll`). */
  cleanup(): void;
}

export interface AssetManifest {
  files: Record<string, { displayName?: string; source: { path: string; packaging: string } }>;
  dockerImages?: Record<
    string,
    { displayName?: string; source: { directory: string; dockerFile?: string; platform?: string } }
  >;
}

/**
 * One synthesis per context for the whole test run: infra's vitest config shares the module graph between files
 * (`isolate: false`), so the files that synthesize the same context with the workspace's assets (the default context
 * is used by several) get the same app. Treat it as read-only; its folder goes with the run's (synth.global-setup.ts).
 */
const shared = new Map<string, SynthesizedInfra>();

/**
 * Synthesize the whole app once (call it in `beforeAll`/module scope, once per test file): the same `buildInfra`
 * as `cdk synth`, with the workspace's real build outputs unless `assets` says otherwise. Without `assets`, a context
 * already synthesized in this run is not synthesized again (and `cleanup` leaves it for the next file).
 */
export function synthInfra(context: Record<string, unknown> = {}, assets?: InfraAssets): SynthesizedInfra {
  if (assets) return synthesize(context, assets);
  const key = JSON.stringify(context);
  const found = shared.get(key);
  if (found) return found;
  const infra = synthesize(context, workspaceAssets());
  shared.set(key, { ...infra, cleanup: () => undefined });
  return shared.get(key) as SynthesizedInfra;
}

function synthesize(context: Record<string, unknown>, assets: InfraAssets): SynthesizedInfra {
  const outdir = mkdtempSync(join(process.env.INFRA_SYNTH_DIR ?? tmpdir(), 'infra-synth-'));
  // cdk.json's context first (feature flags, defaults), as `cdk synth` applies it; the test's own keys win.
  const cdkJson = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'infra/cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const app = new App({ outdir, context: { ...cdkJson.context, ...context } });
  const stacks = buildInfra(app, assets);
  const assembly = app.synth();
  const template = (stackName: string) =>
    Template.fromJSON(assembly.getStackByName(stackName).template as Record<string, unknown>);
  return {
    stacks,
    assembly,
    outdir,
    templates: {
      data: template(stacks.data.stackName),
      backup: template(stacks.backup.stackName),
      extractor: template(stacks.extractor.stackName),
      query: template(stacks.query.stackName),
      compactor: template(stacks.compactor.stackName),
      ops: template(stacks.ops.stackName),
      ...(stacks.backupReplica ? { backupReplica: template(stacks.backupReplica.stackName) } : {}),
    },
    assetManifest: (stackName) =>
      JSON.parse(readFileSync(join(outdir, `${stackName}.assets.json`), 'utf8')) as AssetManifest,
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** Every IAM statement in a template (identity policies, managed policies, resource policies), with its owner. */
export interface FoundStatement {
  logicalId: string;
  type: string;
  statement: {
    Effect: string;
    Action?: unknown;
    Resource?: unknown;
    Principal?: unknown;
    Condition?: unknown;
    Sid?: string;
  };
}

export function policyStatements(template: Template): FoundStatement[] {
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  const found: FoundStatement[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    // Trust policies (AssumeRolePolicyDocument) say who may assume a role, not what it may do: not collected.
    const docs: unknown[] = [props.PolicyDocument];
    for (const p of (props.Policies as { PolicyDocument: unknown }[] | undefined) ?? []) docs.push(p.PolicyDocument);
    for (const doc of docs) {
      const statements = (doc as { Statement?: FoundStatement['statement'][] } | undefined)?.Statement ?? [];
      for (const statement of statements) found.push({ logicalId, type: resource.Type, statement });
    }
  }
  return found;
}

/** `Action`/`Resource` as an array, whatever shape the template used. */
export const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
