import { RAW_PREFIX, SILVER_PREFIX, SILVER_WATERMARK_KEY } from '@btc-etl/s3-keys';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../infra.config';
import type { NamedQuery } from '../named-queries';

export interface QueryStackProps extends StackProps {
  config: InfraConfig;
  /** The query app's named queries this stack saves (those of layer `silver` go with the silver table). */
  namedQueries: readonly NamedQuery[];
  databaseName: string;
  /** The Glue tables the queries read (raw_ticks, backup_ticks, silver_ticks). */
  tableNames: string[];
  workGroupName: string;
  /** The raw and backup buckets; query users read their `raw/` objects. */
  dataBuckets: s3.IBucket[];
  /**
   * The compactor's bucket: query users read its Parquet under `silver/ticks/` (the silver_ticks table, and the local
   * engine's silver layer) and the compactor's watermark (`_state/compactor/watermark.json`), which tells `auto`
   * which raw hours silver already holds. Nothing else of it (the compactor's other state, quarantine).
   */
  silverBucket: s3.IBucket;
  resultsBucket: s3.IBucket;
  /** Prefix of the results bucket the workgroup writes to (e.g. `athena/`). */
  resultsPrefix: string;
}

/**
 * The query app's queries saved as Athena named queries in the workgroup, and a managed policy that lets a user or
 * role run queries there (Athena, or the local engine with OBJECT_STORE=s3): read the tables' metadata, their `raw/`
 * objects and silver's Parquet and watermark, write results to the workgroup's location.
 */
export class QueryStack extends Stack {
  readonly queryUserPolicy: iam.ManagedPolicy;
  readonly namedQueries: athena.CfnNamedQuery[];

  constructor(scope: Construct, id: string, props: QueryStackProps) {
    super(scope, id, props);
    const { config, databaseName, tableNames, workGroupName, dataBuckets, silverBucket, resultsBucket, resultsPrefix } =
      props;
    const silverKeys = [`${SILVER_PREFIX}*`, SILVER_WATERMARK_KEY];

    this.namedQueries = props.namedQueries.map(
      (q) =>
        new athena.CfnNamedQuery(this, `NamedQuery-${q.name.replace(/[^A-Za-z0-9]/g, '-')}`, {
          name: q.name,
          description: q.description,
          database: databaseName,
          queryString: q.sql,
          workGroup: workGroupName,
        }),
    );

    const workGroupArn = this.formatArn({ service: 'athena', resource: 'workgroup', resourceName: workGroupName });
    const glueArn = (resource: string, resourceName?: string) =>
      this.formatArn({ service: 'glue', resource, ...(resourceName ? { resourceName } : {}) });

    this.queryUserPolicy = new iam.ManagedPolicy(this, 'QueryUserPolicy', {
      managedPolicyName: `${config.namePrefix}-query-user`,
      description:
        `Run Athena queries ` +
        `in workgroup ${workGroupName} over ${tableNames.map((t) => `${databaseName}.${t}`).join(', ')}`,
      statements: [
        new iam.PolicyStatement({
          sid: 'RunQueriesInWorkGroup',
          actions: [
            'athena:StartQueryExecution',
            'athena:StopQueryExecution',
            'athena:GetQueryExecution',
            'athena:BatchGetQueryExecution',
            'athena:ListQueryExecutions',
            'athena:GetQueryResults',
            'athena:GetQueryRuntimeStatistics',
            'athena:GetWorkGroup',
            'athena:GetNamedQuery',
            'athena:BatchGetNamedQuery',
            'athena:ListNamedQueries',
          ],
          resources: [workGroupArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadTableMetadata',
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
          // Glue checks the catalog and the database as well as the table itself.
          resources: [
            glueArn('catalog'),
            glueArn('database', databaseName),
            ...tableNames.map((t) => glueArn('table', `${databaseName}/${t}`)),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ReadTableObjects',
          actions: ['s3:GetObject'],
          resources: dataBuckets.map((b) => b.arnForObjects(`${RAW_PREFIX}*`)),
        }),
        new iam.PolicyStatement({
          sid: 'ListTablePrefixes',
          actions: ['s3:ListBucket'],
          resources: dataBuckets.map((b) => b.bucketArn),
          conditions: { StringLike: { 's3:prefix': [`${RAW_PREFIX}*`] } },
        }),
        new iam.PolicyStatement({
          sid: 'ReadSilverObjects',
          actions: ['s3:GetObject'],
          resources: silverKeys.map((k) => silverBucket.arnForObjects(k)),
        }),
        new iam.PolicyStatement({
          sid: 'ListSilverPrefixes',
          // No s3:prefix condition on purpose: S3 answers a GET of a missing key with 404 only to a caller that may
          // list the bucket, else 403. Before the compactor's first run the watermark does not exist, and the auto
          // layer must read that as "no silver yet", not fail on AccessDenied. A listing shows key names only.
          actions: ['s3:ListBucket'],
          resources: [silverBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'LocateBuckets',
          actions: ['s3:GetBucketLocation'],
          resources: [...dataBuckets.map((b) => b.bucketArn), silverBucket.bucketArn, resultsBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'WriteAndReadResults',
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [resultsBucket.arnForObjects(`${resultsPrefix}*`)],
        }),
        new iam.PolicyStatement({
          sid: 'ListResults',
          actions: ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [resultsBucket.bucketArn],
        }),
      ],
    });

    new CfnOutput(this, 'QueryUserPolicyArn', {
      value: this.queryUserPolicy.managedPolicyArn,
      description: 'attach to users or roles that run queries',
    });
  }
}
