import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asList, policyStatements, synthInfra, type SynthesizedInfra } from './test/synth-infra';

/**
 * The only `*` resources allowed, each with the reason AWS forces it. Anything else with a `*` fails the suite.
 */
const STAR_RESOURCE_ALLOWED: Record<string, string> = {
  // ECR's GetAuthorizationToken returns a registry-wide login token and supports no resource-level permission:
  // the ECS execution role needs it to pull the extractor image (the pull itself is scoped to the asset repo).
  'ecr:GetAuthorizationToken': 'no resource-level permissions (docs: Amazon ECR actions, resources and condition keys)',
};

let infra: SynthesizedInfra;
beforeAll(() => {
  infra = synthInfra();
});
afterAll(() => infra.cleanup());

const all = () =>
  Object.entries(infra.templates).flatMap(([stack, template]) =>
    policyStatements(template).map((found) => ({ stack, ...found })),
  );

describe('least privilege across every stack', () => {
  it('finds the policies it checks (a sanity check on the walker itself)', () => {
    const stacks = new Set(all().map((s) => s.stack));
    expect([...stacks].sort()).toEqual(['backup', 'compactor', 'data', 'extractor', 'ops', 'query']);
    expect(all().length).toBeGreaterThan(15);
  });

  it('allows no wildcard action anywhere', () => {
    const wild = all()
      .filter((s) => s.statement.Effect === 'Allow')
      .flatMap((s) => asList(s.statement.Action).map((action) => ({ where: `${s.stack}/${s.logicalId}`, action })))
      .filter(({ action }) => typeof action !== 'string' || action.includes('*'));
    expect(wild).toEqual([]);
  });

  it('allows a `*` resource only where AWS requires it', () => {
    const starred = all()
      .filter((s) => s.statement.Effect === 'Allow' && asList(s.statement.Resource).includes('*'))
      .map((s) => ({ where: `${s.stack}/${s.logicalId}`, actions: asList(s.statement.Action) }));
    for (const s of starred) {
      for (const action of s.actions)
        expect(STAR_RESOURCE_ALLOWED, `${s.where}: ${String(action)} on *`).toHaveProperty([String(action)]);
    }
    // The extractor's execution role is the one place: prove the allow-list is actually exercised.
    expect(starred.map((s) => s.actions)).toEqual([['ecr:GetAuthorizationToken']]);
  });

  it('uses wildcard principals only in the TLS-only deny statements', () => {
    const anyone = all().filter((s) => JSON.stringify(s.statement.Principal ?? null).includes('"*"'));
    expect(anyone.length).toBeGreaterThan(0);
    for (const s of anyone) {
      expect(s.statement.Effect).toBe('Deny');
      expect(JSON.stringify(s.statement.Condition)).toMatch(/aws:SecureTransport|s3:TlsVersion/);
    }
  });

  it('attaches no AWS-managed policy to any role', () => {
    const roles = Object.values(infra.templates).flatMap((t) => Object.values(t.findResources('AWS::IAM::Role')));
    expect(roles.filter((r) => r.Properties.ManagedPolicyArns !== undefined)).toEqual([]);
  });
});
