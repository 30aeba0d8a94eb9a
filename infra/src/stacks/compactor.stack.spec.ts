import { catchError } from '@btc-etl/testing';
import { SILVER_COLUMNS } from '@btc-etl/price-schema';
import { Match } from 'aws-cdk-lib/assertions';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceAssets } from '../assets';
import { InfraConfigError } from '../infra.errors';
import { policyStatements, synthInfra, type SynthesizedInfra } from '../test/synth-infra';
import { readCompactorContext, silverNamedQueries } from './compactor.stack';

let infra: SynthesizedInfra;
let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'compactor-stack-'));
  const queries = join(scratch, 'named-queries.json');
  writeFileSync(
    queries,
    JSON.stringify([
      { name: 'btc-etl-ohlc', description: 'auto', layer: 'auto', sql: 'SELECT 1' },
      { name: 'btc-etl-ohlc-silver', description: 'silver only', layer: 'silver', sql: 'SELECT 2 FROM silver_ticks' },
    ]),
  );
  infra = synthInfra(
    { products: 'BTC-USD,ETH-USD', compactIntervalMinutes: '10' },
    { ...workspaceAssets(), namedQueriesJson: queries },
  );
});
afterAll(() => {
  infra.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});
const compactor = () => infra.templates.compactor;

describe('CompactorStack', () => {
  it('runs the compactor build on Node.js 22 with S3, the buckets and EMF on', () => {
    compactor().hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'btc-etl-compactor',
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          OBJECT_STORE: 's3',
          RAW_BUCKET: Match.anyValue(),
          SILVER_BUCKET: { Ref: Match.stringLikeRegexp('^SilverBucket') },
          METRICS_EMF: 'true',
          NODE_OPTIONS: '--max-old-space-size=512',
        }),
      },
    });
  });

  it('is invoked by EventBridge Scheduler at the configured rate, through a role that may invoke only it', () => {
    compactor().hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(10 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Function'), 'Arn'] } }),
    });
    const invoke = policyStatements(compactor()).filter((s) => JSON.stringify(s.statement.Action).includes('lambda:'));
    expect(invoke.map((s) => s.statement.Action)).toEqual(['lambda:InvokeFunction']);
  });

  it('reads only raw/ of the raw bucket and writes only the silver bucket', () => {
    const statements = policyStatements(compactor()).filter((s) => s.logicalId.startsWith('RoleDefaultPolicy'));
    const s3 = statements.filter((s) => JSON.stringify(s.statement.Action).includes('s3:'));
    const bySid = Object.fromEntries(s3.map((s) => [s.statement.Sid, s.statement]));
    expect(Object.keys(bySid).sort()).toEqual(['ListRaw', 'ListSilver', 'ReadRaw', 'ReadWriteSilver']);
    expect(bySid.ReadRaw?.Action).toBe('s3:GetObject');
    expect(JSON.stringify(bySid.ReadRaw?.Resource)).toContain('/raw/*');
    expect(bySid.ListRaw?.Condition).toEqual({ StringLike: { 's3:prefix': ['raw/*'] } });
    const writes = s3.filter((s) => JSON.stringify(s.statement.Action).match(/Put|Delete/));
    expect(writes.map((s) => s.statement.Sid)).toEqual(['ReadWriteSilver']);
    expect(JSON.stringify(bySid.ReadWriteSilver?.Resource)).not.toContain('Fn::ImportValue');
  });

  it('declares silver_ticks as Parquet with the codec columns and projection over product, day and hour', () => {
    compactor().hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'silver_ticks',
        PartitionKeys: [
          { Name: 'product_id', Type: 'string' },
          { Name: 'dt', Type: 'string' },
          { Name: 'hour', Type: 'int' },
        ],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.product_id.values': 'BTC-USD,ETH-USD',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.hour.range': '0,23',
          'projection.hour.digits': '2',
          'storage.location.template': Match.anyValue(),
        }),
        StorageDescriptor: Match.objectLike({
          Columns: SILVER_COLUMNS.map((c) => ({ Name: c.name, Type: c.glue })),
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        }),
      }),
    });
    const table = Object.values(compactor().findResources('AWS::Glue::Table'))[0]?.Properties;
    expect(JSON.stringify(table.TableInput.Parameters['storage.location.template'])).toContain(
      '/silver/ticks/product_id=${product_id}/dt=${dt}/hour=${hour}/',
    );
    expect(SILVER_COLUMNS.find((c) => c.name === 'price')?.glue).toBe('decimal(38,18)');
  });

  it("deploys the query app's silver-layer named queries, and only those", () => {
    compactor().resourceCountIs('AWS::Athena::NamedQuery', 1);
    compactor().hasResourceProperties('AWS::Athena::NamedQuery', {
      Name: 'btc-etl-ohlc-silver',
      QueryString: 'SELECT 2 FROM silver_ticks',
    });
    expect(silverNamedQueries(join(scratch, 'absent.json'))).toEqual([]);
  });

  it('keeps the silver bucket private, encrypted, TLS-only and on stack deletion', () => {
    compactor().hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      }),
    });
  });

  it.each([
    [{ products: 'btc' }, 'products'],
    [{ compactIntervalMinutes: '0' }, 'compactIntervalMinutes'],
  ])('refuses bad context %j naming the key', (context, key) => {
    const error = catchError(
      () => readCompactorContext((k) => (context as Record<string, unknown>)[k]),
      // an InfraConfigError, so the CDK entry point prints the message and exits 2 instead of a stack trace
      InfraConfigError,
    );
    expect(error.issues.map((i) => i.key)).toEqual([key]);
    expect(error.message).toContain(`-c ${key}=`);
  });
});
