import { SILVER_COLUMNS, SILVER_PARTITION_KEYS } from '@btc-etl/price-schema';
import { RAW_PREFIX, SILVER_PREFIX } from '@btc-etl/s3-keys';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { InfraConfig } from '../infra.config';
import { InfraConfigError } from '../infra.errors';

export const SILVER_TABLE_NAME = 'silver_ticks';

/** The context keys only this stack reads (validated once, in `readCompactorContext`). */
export const CompactorContextSchema = z.object({
  /** Products the extractor records: the `product_id` partition projection's enum. */
  products: z
    .union([z.array(z.string()), z.string().transform((s) => s.split(','))])
    .pipe(z.array(z.string().regex(/^[A-Z0-9]{2,12}-[A-Z0-9]{2,12}$/, 'expected product ids such as "BTC-USD"')).min(1))
    .default(['BTC-USD']),
  compactIntervalMinutes: z.coerce.number().int().min(1).max(1440).default(5),
  /** COMPACT_LATE_SLACK_S: Firehose's buffer interval (<= 900 s) plus a margin. */
  compactLateSlackSeconds: z.coerce.number().int().min(0).max(86_400).default(1_200),
  compactorMemoryMb: z.coerce.number().int().min(512).max(10_240).default(1_024),
});
export type CompactorContext = z.infer<typeof CompactorContextSchema>;

export function readCompactorContext(get: (key: string) => unknown): CompactorContext {
  const raw = Object.fromEntries(
    Object.keys(CompactorContextSchema.shape)
      .map((k) => [k, get(k)])
      .filter(([, v]) => v !== undefined),
  );
  const parsed = CompactorContextSchema.safeParse(raw);
  if (!parsed.success) {
    // An InfraConfigError, like every other context key: main.ts prints it alone and exits 2 (no stack trace).
    throw new InfraConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? '');
        return { key, value: raw[key], message: issue.message };
      }),
    );
  }
  return parsed.data;
}

export interface CompactorStackProps extends StackProps {
  config: InfraConfig;
  compactor: CompactorContext;
  /** The compactor Lambda's zip (`index.mjs` exporting `handler`): dist/apps/compactor/compactor-lambda.zip. */
  codeZip: string;
  rawBucket: s3.IBucket;
  databaseName: string;
  workGroupName: string;
  /** The query app's named queries (`[{ name, description, layer, sql }]`); those of layer `silver` are deployed. */
  namedQueriesJson?: string;
}

/**
 * The silver layer: its bucket, the compactor Lambda run by EventBridge Scheduler, the `silver_ticks` Glue table
 * (Parquet, partition projection over product / event date / event hour) and the Athena named queries over silver.
 * The Lambda reads raw/ and nothing else of the raw bucket, and writes only the silver bucket.
 */
export class CompactorStack extends Stack {
  readonly silverBucket: s3.Bucket;
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: CompactorStackProps) {
    super(scope, id, props);
    const { config, compactor, rawBucket } = props;
    const functionName = `${config.namePrefix}-compactor`;

    this.silverBucket = new s3.Bucket(this, 'SilverBucket', {
      bucketName: `${config.namePrefix}-silver-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // silver can be rebuilt from raw (`compactor run --from --to`), but not for free: keep it on stack deletion
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });

    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'Role', {
      description: `${functionName}: read raw/, read and write silver`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRaw',
        actions: ['s3:GetObject'],
        resources: [rawBucket.arnForObjects(`${RAW_PREFIX}*`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListRaw',
        actions: ['s3:ListBucket'],
        resources: [rawBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${RAW_PREFIX}*`] } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteSilver',
        // Delete: superseded generations and files of lost races are collected
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [
          this.silverBucket.arnForObjects(`${SILVER_PREFIX}*`),
          this.silverBucket.arnForObjects('_state/compactor/*'),
          this.silverBucket.arnForObjects('quarantine/*'),
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListSilver',
        // also makes a missing manifest or state object a 404, not a 403
        actions: ['s3:ListBucket'],
        resources: [this.silverBucket.bucketArn],
      }),
    );

    this.function = new lambda.Function(this, 'Function', {
      functionName,
      description: 'Compacts raw NDJSON into silver Parquet (event-time partitions, deduplicated, incremental)',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(props.codeZip),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      timeout: Duration.minutes(15),
      memorySize: compactor.compactorMemoryMb,
      environment: {
        OBJECT_STORE: 's3',
        RAW_BUCKET: rawBucket.bucketName,
        SILVER_BUCKET: this.silverBucket.bucketName,
        COMPACT_LATE_SLACK_S: String(compactor.compactLateSlackSeconds),
        METRICS_EMF: 'true',
        POWERTOOLS_SERVICE_NAME: 'compactor',
        // V8 collects before growing past this; the row store and output live outside the heap
        NODE_OPTIONS: `--max-old-space-size=${Math.floor(compactor.compactorMemoryMb / 2)}`,
      },
    });

    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: `${functionName}: EventBridge Scheduler may invoke it`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
    );
    const minutes = compactor.compactIntervalMinutes;
    new scheduler.CfnSchedule(this, 'Schedule', {
      name: `${config.namePrefix}-compactor`,
      description: 'One incremental compaction run; overlapping runs are safe (conditional manifest puts)',
      scheduleExpression: `rate(${minutes} minute${minutes === 1 ? '' : 's'})`,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: this.function.functionArn,
        roleArn: schedulerRole.roleArn,
        retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: compactor.compactIntervalMinutes * 60 },
      },
    });

    // --- Glue table over silver/ticks/ with partition projection -----------------------------------------------
    const location = `s3://${this.silverBucket.bucketName}/${SILVER_PREFIX}`;
    const table = new glue.CfnTable(this, 'SilverTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: props.databaseName,
      tableInput: {
        name: SILVER_TABLE_NAME,
        description:
          'Deduplicated price records in Parquet, ' +
          'partitioned by product and UTC event hour (exchange_time, else scheduled_time)',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: SILVER_PARTITION_KEYS.map((k) => ({ name: k.name, type: k.type })),
        parameters: {
          classification: 'parquet',
          'projection.enabled': 'true',
          'projection.product_id.type': 'enum',
          'projection.product_id.values': compactor.products.join(','),
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${config.projectionStart.slice(0, 10).replace(/\//g, '-')},NOW`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'projection.hour.type': 'integer',
          'projection.hour.range': '0,23',
          'projection.hour.digits': '2',
          'storage.location.template': `${location}product_id=\${product_id}/dt=\${dt}/hour=\${hour}/`,
        },
        storageDescriptor: {
          location,
          columns: SILVER_COLUMNS.map((c) => ({ name: c.name, type: c.glue })),
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        },
      },
    });

    for (const query of silverNamedQueries(props.namedQueriesJson)) {
      new athena.CfnNamedQuery(this, `Query${query.name.replace(/[^A-Za-z0-9]/g, '')}`, {
        name: query.name,
        description: query.description.slice(0, 1024),
        database: props.databaseName,
        workGroup: props.workGroupName,
        queryString: query.sql,
      }).node.addDependency(table);
    }

    new CfnOutput(this, 'SilverBucketName', { value: this.silverBucket.bucketName, description: 'SILVER_BUCKET' });
    new CfnOutput(this, 'FunctionName', { value: this.function.functionName, description: 'compactor Lambda' });
    new CfnOutput(this, 'SilverTableName', { value: SILVER_TABLE_NAME, description: 'ATHENA_SILVER_TABLE' });
  }
}

const NamedQueryFile = z.array(
  z.object({
    name: z.string().min(1).max(128),
    description: z.string().min(1),
    layer: z.string(),
    sql: z.string().min(1),
  }),
);

/** The query app's named queries of layer `silver` (none when its build has not written the file yet). */
export function silverNamedQueries(path: string | undefined): { name: string; description: string; sql: string }[] {
  if (path === undefined || !existsSync(path)) return [];
  const parsed = NamedQueryFile.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: not the query app's named queries (${parsed.error.message})`);
  return parsed.data.filter((q) => q.layer === 'silver');
}
