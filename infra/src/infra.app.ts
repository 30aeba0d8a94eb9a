import { App, Aws, type Environment } from 'aws-cdk-lib';
import { join } from 'node:path';
import { dockerContextFiles, requireAsset, type InfraAssets } from './assets';
import { pascalPrefix, readInfraConfig, type InfraConfig } from './infra.config';
import { loadNamedQueries } from './named-queries';
import { BackupReplicaStack } from './stacks/backup-replica.stack';
import { BackupStack } from './stacks/backup.stack';
import { CompactorStack, SILVER_TABLE_NAME, readCompactorContext } from './stacks/compactor.stack';
import { ATHENA_RESULTS_PREFIX, DataStack } from './stacks/data.stack';
import { ExtractorStack } from './stacks/extractor.stack';
import { OpsStack } from './stacks/ops.stack';
import { QueryStack } from './stacks/query.stack';

/**
 * Construct ids of the stacks. `cdk deploy BtcEtlBackup` selects by this id even when a `namePrefix` other than
 * `btc-etl` renames the CloudFormation stack (e.g. to `BtcEtlDevBackup`), so the deploy targets never change.
 */
export const STACK_IDS = {
  data: 'BtcEtlData',
  backup: 'BtcEtlBackup',
  extractor: 'BtcEtlExtractor',
  query: 'BtcEtlQuery',
  compactor: 'BtcEtlCompactor',
  backupReplica: 'BtcEtlBackupReplica',
  ops: 'BtcEtlOps',
} as const;

export interface InfraStacks {
  config: InfraConfig;
  data: DataStack;
  backup: BackupStack;
  extractor: ExtractorStack;
  query: QueryStack;
  compactor: CompactorStack;
  ops: OpsStack;
  /** Only with context `backupReplicaRegion` and/or `backupReplicaAccount`. */
  backupReplica?: BackupReplicaStack;
}

/**
 * Every stack of the pipeline in one app, wired through props. Context is read and validated once here.
 * @example const { data } = buildInfra(new App({ context: { namePrefix: 'btc-etl-dev' } }), workspaceAssets());
 */
export function buildInfra(app: App, assets: InfraAssets): InfraStacks {
  const config = readInfraConfig((key) => app.node.tryGetContext(key));
  // Env-agnostic unless both are given: synthesis never looks anything up, the CLI's credentials pick the target.
  const env: Environment | undefined =
    config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const stackName = (id: string) => `${pascalPrefix(config.namePrefix)}${id.replace(/^BtcEtl/, '')}`;
  const common = { env, config, tags: { project: 'bitcoin-stream-etl', 'name-prefix': config.namePrefix } };

  // The replica (another region and/or account) shares no references with the Data stack: both name its bucket and
  // the replication role the same way, and the replica deploys first.
  const replicaConfigured = config.backupReplicaRegion !== undefined || config.backupReplicaAccount !== undefined;
  const replicaTarget = replicaConfigured
    ? {
        bucketName:
          `${config.namePrefix}-backup-replica-${config.backupReplicaAccount ?? Aws.ACCOUNT_ID}` +
          `-${config.backupReplicaRegion ?? Aws.REGION}`,
        account: config.backupReplicaAccount,
        region: config.backupReplicaRegion ?? config.region ?? Aws.REGION,
        roleName: `${config.namePrefix}-backup-replication`,
      }
    : undefined;
  const backupReplica = replicaTarget
    ? new BackupReplicaStack(app, STACK_IDS.backupReplica, {
        config,
        tags: common.tags,
        env: {
          account: config.backupReplicaAccount ?? config.account,
          region: config.backupReplicaRegion ?? config.region,
        },
        stackName: stackName(STACK_IDS.backupReplica),
        description: 'bitcoin-stream-etl: replica of the backup bucket (Object Lock, another region or account)',
        bucketName: replicaTarget.bucketName,
        source:
          config.backupReplicaAccount !== undefined && config.account !== undefined
            ? { account: config.account, roleName: replicaTarget.roleName }
            : undefined,
      })
    : undefined;

  const data = new DataStack(app, STACK_IDS.data, {
    ...common,
    backupReplica: replicaTarget,
    stackName: stackName(STACK_IDS.data),
    description: 'bitcoin-stream-etl: buckets, Firehose, S3 -> SQS, Glue table, Athena workgroup',
  });
  if (backupReplica) data.addStackDependency(backupReplica, 'the replication rule needs its destination bucket');
  const backup = new BackupStack(app, STACK_IDS.backup, {
    ...common,
    stackName: stackName(STACK_IDS.backup),
    description: 'bitcoin-stream-etl: backup Lambda (SQS event source)',
    codeZip: requireAsset(
      'the backup Lambda zip',
      assets.backupLambdaZip,
      'build it first with `npx nx run backup-lambda:build`',
    ),
    rawBucket: data.rawBucket,
    backupBucket: data.backupBucket,
    queue: data.queue,
  });
  requireAsset(
    "the extractor's Dockerfile",
    join(assets.extractorImage.context, assets.extractorImage.dockerfile),
    'apps/extractor ships it',
  );
  for (const file of dockerContextFiles(assets.extractorImage)) {
    requireAsset('a file the extractor image copies', file, 'build it first with `npx nx run extractor:build`');
  }
  const extractor = new ExtractorStack(app, STACK_IDS.extractor, {
    ...common,
    stackName: stackName(STACK_IDS.extractor),
    description: 'bitcoin-stream-etl: extractor on ECS Fargate',
    image: assets.extractorImage,
    deliveryStreamName: data.deliveryStreamName,
    deliveryStreamArn: data.deliveryStreamArn,
  });
  const compactorContext = readCompactorContext((key) => app.node.tryGetContext(key));
  const compactor = new CompactorStack(app, STACK_IDS.compactor, {
    ...common,
    stackName: stackName(STACK_IDS.compactor),
    description: 'bitcoin-stream-etl: silver bucket, compactor Lambda on a schedule, silver_ticks Glue table',
    compactor: compactorContext,
    codeZip: requireAsset(
      'the compactor Lambda zip',
      assets.compactorLambdaZip,
      'build it first with `npx nx run compactor:build`',
    ),
    rawBucket: data.rawBucket,
    databaseName: data.databaseName,
    workGroupName: data.workGroupName,
    namedQueriesJson: assets.namedQueriesJson,
  });
  // the table and named queries go into the data stack's database and workgroup, named by string
  compactor.node.addDependency(data);
  const query = new QueryStack(app, STACK_IDS.query, {
    ...common,
    stackName: stackName(STACK_IDS.query),
    description: 'bitcoin-stream-etl: Athena named queries and the query-user policy',
    // layer `silver` queries are saved by the CompactorStack, beside the silver_ticks table they read
    namedQueries: loadNamedQueries(assets.namedQueriesJson).filter((q) => q.layer !== 'silver'),
    databaseName: data.databaseName,
    tableNames: [data.tableName, data.backupTableName, SILVER_TABLE_NAME],
    workGroupName: data.workGroupName,
    dataBuckets: [data.rawBucket, data.backupBucket],
    // a reference: the query stack deploys after the compactor's, which owns the bucket
    silverBucket: compactor.silverBucket,
    resultsBucket: data.resultsBucket,
    resultsPrefix: ATHENA_RESULTS_PREFIX,
  });
  // Named queries name the workgroup by string: it must exist first.
  query.node.addDependency(data);
  // Alarms and the dashboard find every metric by resource name: no references, no deploy-order coupling.
  const ops = new OpsStack(app, STACK_IDS.ops, {
    ...common,
    stackName: stackName(STACK_IDS.ops),
    description: 'bitcoin-stream-etl: alarms (SNS topic) and the pipeline dashboard',
    compactor: compactorContext,
  });
  return { config, data, backup, extractor, query, compactor, ops, backupReplica };
}
