import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceAssets } from '../assets';
import { loadNamedQueries } from '../named-queries';
import { asList, synthInfra, type SynthesizedInfra } from '../test/synth-infra';

let infra: SynthesizedInfra;
beforeAll(() => {
  infra = synthInfra();
});
afterAll(() => infra.cleanup());
const query = () => infra.templates.query;

describe('QueryStack', () => {
  it("saves the query app's named queries (auto and raw layers) in the workgroup and database", () => {
    const expected = loadNamedQueries(workspaceAssets().namedQueriesJson).filter((q) => q.layer !== 'silver');
    expect(new Set(expected.map((q) => q.layer))).toEqual(new Set(['auto', 'raw']));
    const saved = Object.values(query().findResources('AWS::Athena::NamedQuery')).map((r) => r.Properties);
    expect(saved.map((q) => q.Name)).toEqual(expected.map((q) => q.name));
    for (const [i, q] of saved.entries()) {
      expect(q).toEqual({
        Name: expected[i]?.name,
        Description: expected[i]?.description,
        QueryString: expected[i]?.sql,
        Database: 'btc_etl',
        WorkGroup: 'btc-etl',
      });
    }
  });

  it('deploys after the Data stack (workgroup, raw tables) and the Compactor stack (silver bucket and table)', () => {
    const dependencies = infra.stacks.query.dependencies.map((s) => s.stackName);
    expect(dependencies).toContain('BtcEtlData');
    expect(dependencies).toContain('BtcEtlCompactor');
  });

  it('grants query users the workgroup, the tables, raw/ and silver reads and result writes, nothing more', () => {
    const policy = Object.values(query().findResources('AWS::IAM::ManagedPolicy'))[0]?.Properties;
    expect(policy.ManagedPolicyName).toBe('btc-etl-query-user');
    const bySid = Object.fromEntries(
      (
        policy.PolicyDocument.Statement as {
          Sid: string;
          Action: string | string[];
          Resource: unknown;
          Condition?: unknown;
        }[]
      ).map((s) => [s.Sid, s]),
    );
    expect(Object.keys(bySid).sort()).toEqual([
      'ListResults',
      'ListSilverPrefixes',
      'ListTablePrefixes',
      'LocateBuckets',
      'ReadSilverObjects',
      'ReadTableMetadata',
      'ReadTableObjects',
      'RunQueriesInWorkGroup',
      'WriteAndReadResults',
    ]);
    expect(JSON.stringify(bySid.RunQueriesInWorkGroup?.Resource)).toContain(':workgroup/btc-etl"');
    expect(JSON.stringify(bySid.ReadTableMetadata?.Resource)).toContain(':table/btc_etl/raw_ticks"');
    expect(JSON.stringify(bySid.ReadTableMetadata?.Resource)).toContain(':table/btc_etl/backup_ticks"');
    // the `auto` named queries (and silver ones run by hand) read silver_ticks
    expect(JSON.stringify(bySid.ReadTableMetadata?.Resource)).toContain(':table/btc_etl/silver_ticks"');
    const reads = JSON.stringify(bySid.ReadTableObjects?.Resource);
    expect(reads).toMatch(/RawBucket.*\/raw\/\*.*BackupBucket.*\/raw\/\*/);
    expect(bySid.ReadTableObjects?.Action).toBe('s3:GetObject');
    expect(bySid.ListTablePrefixes?.Condition).toEqual({ StringLike: { 's3:prefix': ['raw/*'] } });
    // silver: the Parquet under silver/ticks/ and the compactor's watermark, in the compactor's bucket only
    const silverReads = asList(bySid.ReadSilverObjects?.Resource).map((r) => JSON.stringify(r));
    expect(silverReads).toHaveLength(2);
    expect(silverReads[0]).toMatch(/SilverBucket.*\/silver\/ticks\/\*"/);
    expect(silverReads[1]).toMatch(/SilverBucket.*\/_state\/compactor\/watermark\.json"/);
    expect(bySid.ReadSilverObjects?.Action).toBe('s3:GetObject');
    expect(JSON.stringify(bySid.ListSilverPrefixes?.Resource)).toMatch(/SilverBucket/);
    // unconditioned: a missing watermark must read as 404 (no silver yet), which S3 gives only to a lister
    expect(bySid.ListSilverPrefixes?.Condition).toBeUndefined();
    expect(JSON.stringify(bySid.LocateBuckets?.Resource)).toMatch(/SilverBucket/);
    // nothing else of the silver bucket: not the compactor's other state, not quarantine
    expect(JSON.stringify(policy.PolicyDocument)).not.toMatch(
      /quarantine|_state\/compactor\/\*|_state\/compactor\/raw/,
    );
    expect(JSON.stringify(bySid.WriteAndReadResults?.Resource)).toContain('/athena/*');
    // Writes go to the results bucket only: every Put/Abort names it.
    for (const s of Object.values(bySid)) {
      if ([s.Action].flat().some((a) => /Put|Abort|Delete/.test(a)))
        expect(JSON.stringify(s.Resource)).toMatch(/AthenaResultsBucket/);
    }
    expect(JSON.stringify(policy.PolicyDocument)).not.toMatch(/s3:Delete/);
  });
});
