import { GLUE_COLUMNS, GLUE_PARTITION_KEYS } from '@btc-etl/price-schema';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthInfra, type SynthesizedInfra } from '../test/synth-infra';

// Non-default context (as `cdk -c key=value` gives it: strings) so every value below is proven to come from context.
const context = {
  namePrefix: 'btc-etl-dev',
  firehoseBufferSizeMb: '16',
  firehoseBufferIntervalSeconds: '120',
  rawTransitionDays: '45',
  backupTransitionDays: '120',
  backupNoncurrentExpirationDays: '60',
  backupObjectLockDays: '45',
  backupObjectLockMode: 'compliance',
  athenaResultsExpirationDays: '3',
  athenaBytesScannedCutoffMb: '512',
  backupTimeoutSeconds: '40',
  backupBatchWindowSeconds: '7',
  logRetentionDays: '14',
};

let infra: SynthesizedInfra;
let defaults: SynthesizedInfra;
beforeAll(() => {
  infra = synthInfra(context);
  defaults = synthInfra();
});
afterAll(() => {
  infra.cleanup();
  defaults.cleanup();
});
const data = () => infra.templates.data;

const bucketLogicalId = (name: string) => {
  const found = data().findResources('AWS::S3::Bucket', {
    Properties: { BucketName: { 'Fn::Join': ['', Match.arrayWith([`btc-etl-dev-${name}-`])] } },
  });
  const ids = Object.keys(found);
  expect(ids, `bucket ${name}`).toHaveLength(1);
  return ids[0] as string;
};

describe('DataStack buckets', () => {
  it('names the stack from the prefix and keeps the construct id the deploy targets select by', () => {
    expect(infra.stacks.data.stackName).toBe('BtcEtlDevData');
    expect(infra.stacks.data.node.id).toBe('BtcEtlData');
  });

  it('encrypts, blocks public access, enforces bucket ownership and retains raw, backup and results buckets', () => {
    for (const name of ['raw', 'backup', 'athena-results']) {
      const id = bucketLogicalId(name);
      const bucket = data().toJSON().Resources[id];
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      expect(bucket.DeletionPolicy).toBe(name === 'athena-results' ? 'Delete' : 'Retain');
    }
  });

  it('denies every request without TLS (and below TLS 1.2) on each bucket', () => {
    for (const name of ['raw', 'backup', 'athena-results']) {
      data().hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketLogicalId(name) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            }),
          ]),
        },
      });
    }
  });

  it('versions only the backup bucket', () => {
    const versioned = (name: string) =>
      data().toJSON().Resources[bucketLogicalId(name)].Properties.VersioningConfiguration;
    expect(versioned('backup')).toEqual({ Status: 'Enabled' });
    expect(versioned('raw')).toBeUndefined();
  });

  it('locks every backup version for the configured days and mode (S3 Object Lock), and only the backup bucket', () => {
    const props = (name: string) => data().toJSON().Resources[bucketLogicalId(name)].Properties;
    expect(props('backup').ObjectLockEnabled).toBe(true);
    expect(props('backup').ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 45 } },
    });
    // the lock needs versioning; the noncurrent expiry (60 days) comes due only after it (45 days)
    expect(props('backup').VersioningConfiguration).toEqual({ Status: 'Enabled' });
    for (const name of ['raw', 'athena-results']) expect(props(name).ObjectLockConfiguration).toBeUndefined();
  });

  it('locks in governance mode for 90 days by default, with the noncurrent expiry no earlier', () => {
    expect(defaults.templates.data.toJSON().Resources.BackupBucket26B8E51C.Properties).toMatchObject({
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 90 } } },
      LifecycleConfiguration: {
        Rules: [expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 90 } })],
      },
    });
    // no replica unless asked for
    expect(defaults.stacks.backupReplica).toBeUndefined();
    defaults.templates.data.resourceCountIs('AWS::IAM::Role', 1);
  });

  it('moves raw and backup objects to cheaper storage after the configured ages and expires query results', () => {
    const rules = (name: string) =>
      data().toJSON().Resources[bucketLogicalId(name)].Properties.LifecycleConfiguration.Rules as Record<
        string,
        unknown
      >[];
    expect(rules('raw')).toEqual([
      expect.objectContaining({
        Status: 'Enabled',
        Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 45 }],
      }),
    ]);
    expect(rules('backup')).toEqual([
      expect.objectContaining({
        Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 120 }],
        NoncurrentVersionExpiration: { NoncurrentDays: 60 },
      }),
    ]);
    expect(rules('athena-results')).toEqual([expect.objectContaining({ ExpirationInDays: 3 })]);
  });
});

describe('DataStack constructs', () => {
  // The logical ids before the DataStack was split into constructs (issue 12): a named resource whose id changes
  // is replaced, and the replacement fails on a stack deployed before the split (its name is taken).
  it.each([
    ['AWS::S3::Bucket', ['RawBucket0C3EE094', 'BackupBucket26B8E51C', 'AthenaResultsBucket879938FA']],
    [
      'AWS::S3::BucketPolicy',
      ['RawBucketPolicy61C50A52', 'BackupBucketPolicy8C403F71', 'AthenaResultsBucketPolicyD63DEF63'],
    ],
    ['AWS::SQS::Queue', ['RawObjectsDeadLetterQueue46FB4AD4', 'RawObjectsQueueA23F03D5']],
    ['AWS::SQS::QueuePolicy', ['RawObjectsDeadLetterQueuePolicy5FEFA680', 'RawObjectsQueuePolicy589B6E8A']],
    ['AWS::KinesisFirehose::DeliveryStream', ['DeliveryStream']],
    ['AWS::Logs::LogGroup', ['FirehoseLogGroup1B45149B']],
    ['AWS::IAM::Role', ['FirehoseRoleAA67C190']],
    ['AWS::IAM::Policy', ['FirehosePolicy3A3B2DF8']],
    ['AWS::Glue::Database', ['Database']],
    ['AWS::Glue::Table', ['RawTable', 'BackupTable']],
    ['AWS::Athena::WorkGroup', ['WorkGroup']],
  ])('keeps the logical ids of every %s deployed before the split', (type, ids) => {
    expect(Object.keys(data().findResources(type)).sort()).toEqual([...ids].sort());
  });

  it("uses the L2 DeliveryStream without its unused CIDR mapping (CloudFormation's W7001)", () => {
    expect(infra.stacks.data.deliveryStream.deliveryStream.deliveryStreamName).toBeDefined();
    expect(data().toJSON().Mappings).toBeUndefined();
  });
});

describe('DataStack Firehose', () => {
  it(
    'delivers Direct PUT records into raw/ by arrival hour, ' +
      'with an error prefix, buffering and logging from context',
    () => {
      data().hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
        DeliveryStreamName: 'btc-etl-dev-ticks',
        DeliveryStreamType: 'DirectPut',
        DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
        ExtendedS3DestinationConfiguration: {
          BucketARN: { 'Fn::GetAtt': [bucketLogicalId('raw'), 'Arn'] },
          Prefix: 'raw/!{timestamp:yyyy/MM/dd/HH}/',
          ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/',
          BufferingHints: { SizeInMBs: 16, IntervalInSeconds: 120 },
          CompressionFormat: 'UNCOMPRESSED',
          CloudWatchLoggingOptions: { Enabled: true, LogGroupName: Match.anyValue(), LogStreamName: Match.anyValue() },
        },
      });
      data().hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: '/aws/kinesisfirehose/btc-etl-dev-ticks',
        RetentionInDays: 14,
      });
    },
  );

  it("lets Firehose's role write raw/ and errors/ objects and the log stream, nothing else", () => {
    const policies = data().findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('FirehosePolicy') },
    });
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.map((s) => s.Action)).toEqual([
      ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
      'logs:PutLogEvents',
    ]);
    const objectArns = JSON.stringify(statements[1].Resource);
    expect(objectArns).toContain('/raw/*');
    expect(objectArns).toContain('/errors/*');
    // the streams of its own log group only (the L2 creates and names the stream)
    expect(JSON.stringify(statements[2].Resource)).toMatch(
      /:log-group:",\{"Ref":"FirehoseLogGroup[0-9A-F]+"\},":log-stream:\*"/,
    );
    // The stream is created only after its role may write, or Firehose's creation check fails.
    const stream = Object.values(data().findResources('AWS::KinesisFirehose::DeliveryStream'))[0];
    expect(stream?.DependsOn).toEqual(expect.arrayContaining(Object.keys(policies)));
  });
});

describe('DataStack S3 -> SQS', () => {
  it('sends raw/ ObjectCreated events to the queue, after the queue policy allows it', () => {
    const rawId = bucketLogicalId('raw');
    const raw = data().toJSON().Resources[rawId];
    expect(raw.Properties.NotificationConfiguration).toEqual({
      QueueConfigurations: [
        {
          Event: 's3:ObjectCreated:*',
          Queue: { 'Fn::GetAtt': [expect.stringMatching(/^RawObjectsQueue/), 'Arn'] },
          Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'raw/' }] } },
        },
      ],
    });
    const queuePolicies = Object.keys(data().findResources('AWS::SQS::QueuePolicy'));
    expect(raw.DependsOn).toEqual(
      expect.arrayContaining([queuePolicies.find((id) => id.startsWith('RawObjectsQueuePolicy'))]),
    );
    data().hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: {
              ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', Match.arrayWith([':s3:::btc-etl-dev-raw-'])] } },
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            },
          }),
        ]),
      },
    });
  });

  it(
    'redrives to a DLQ after 5 receives with a visibility ' + 'timeout of 6 x the Lambda timeout + the batching window',
    () => {
      data().hasResourceProperties('AWS::SQS::Queue', {
        QueueName: 'btc-etl-dev-raw-objects',
        VisibilityTimeout: 6 * 40 + 7,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RawObjectsDeadLetterQueue'), 'Arn'] },
          maxReceiveCount: 5,
        },
      });
      data().hasResourceProperties('AWS::SQS::Queue', {
        QueueName: 'btc-etl-dev-raw-objects-dlq',
        MessageRetentionPeriod: 14 * 86_400,
      });
    },
  );
});

describe('DataStack Glue and Athena', () => {
  it.each([
    ['raw_ticks', 'raw'],
    ['backup_ticks', 'backup'],
  ])('declares %s over raw/ in the %s bucket: schema columns, JSON SerDe, datehour projection', (name, bucket) => {
    data().hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'btc_etl_dev' } });
    const tables = Object.values(data().findResources('AWS::Glue::Table')).map((t) => t.Properties);
    expect(tables.map((t) => t.TableInput.Name).sort()).toEqual(['backup_ticks', 'raw_ticks']);
    const table = tables.find((t) => t.TableInput.Name === name);
    expect(table.DatabaseName).toBe('btc_etl_dev');
    const input = table.TableInput;
    expect(input.TableType).toBe('EXTERNAL_TABLE');
    const cfnColumn = (c: { name: string; type: string; comment?: string }) => ({
      Name: c.name,
      Type: c.type,
      ...(c.comment ? { Comment: c.comment } : {}),
    });
    expect(input.StorageDescriptor.Columns).toEqual(GLUE_COLUMNS.map(cfnColumn));
    expect(input.PartitionKeys).toEqual(GLUE_PARTITION_KEYS.map(cfnColumn));
    expect(input.StorageDescriptor.SerdeInfo).toEqual({ SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' });
    expect(input.StorageDescriptor.InputFormat).toBe('org.apache.hadoop.mapred.TextInputFormat');
    expect(input.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.datehour.type': 'date',
      'projection.datehour.format': 'yyyy/MM/dd/HH',
      'projection.datehour.range': '2026/01/01/00,NOW',
      'projection.datehour.interval': '1',
      'projection.datehour.interval.unit': 'HOURS',
    });
    const ref = { Ref: bucketLogicalId(bucket) };
    expect(input.Parameters['storage.location.template']).toEqual({
      'Fn::Join': ['', ['s3://', ref, '/raw/${datehour}/']],
    });
    expect(input.StorageDescriptor.Location).toEqual({ 'Fn::Join': ['', ['s3://', ref, '/raw/']] });
  });

  it('enforces the workgroup result location in the expiring results bucket and the bytes-scanned cutoff', () => {
    data().hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'btc-etl-dev',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 512 * 1024 * 1024,
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: bucketLogicalId('athena-results') }, '/athena/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      },
    });
  });

  it('has no custom-resource Lambda (the notification is plain CloudFormation)', () => {
    data().resourceCountIs('AWS::Lambda::Function', 0);
    data().resourceCountIs('Custom::S3BucketNotifications', 0);
  });
});
