import { CreateDeliveryStreamCommand, DescribeDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { decodeNdjson, decodeSilverParquet, type PriceTick } from '@btc-etl/price-schema';
import { SILVER_MANIFEST_NAME, SILVER_PREFIX, parseSilverKey, parseSilverManifest } from '@btc-etl/s3-keys';
import type { SilverPartitionOf } from './reconciliation';

/** Names of everything the pipeline uses on moto: the extractor's, backup's and query's defaults. */
export const STACK_NAMES = {
  rawBucket: 'btc-etl-raw',
  backupBucket: 'btc-etl-backup',
  silverBucket: 'btc-etl-silver',
  streamName: 'btc-etl-ticks',
  queueName: 'btc-etl-raw-events',
  dlqName: 'btc-etl-raw-events-dlq',
  rawPrefix: 'raw/',
} as const;

export interface StackOptions {
  /**
   * Receives before a message moves to the DLQ. AWS advice is >= 5 (shared/REFERENCE.md); the scenarios use 3 with a
   * 2 s visibility timeout so a poison message reaches the DLQ in seconds instead of minutes.
   */
  maxReceiveCount?: number;
  visibilityTimeoutS?: number;
}

export interface PipelineStack {
  readonly endpoint: string;
  readonly rawBucket: string;
  readonly backupBucket: string;
  /** The compactor's bucket: silver partitions, its state and watermark. */
  readonly silverBucket: string;
  readonly streamName: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly maxReceiveCount: number;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly firehose: FirehoseClient;
}

/** Clients straight to moto (no fault proxy in between): the harness's own view of the truth. */
export function motoClients(endpoint: string): { s3: S3Client; sqs: SQSClient; firehose: FirehoseClient } {
  return {
    s3: new S3Client({ endpoint, forcePathStyle: true }),
    sqs: new SQSClient({ endpoint }),
    firehose: new FirehoseClient({ endpoint }),
  };
}

/**
 * The AWS side of the pipeline on moto, as infra's data stack builds it: raw and backup buckets, a Direct PUT
 * delivery stream into raw under `raw/`, an event queue with a DLQ (redrive), and the raw bucket's ObjectCreated
 * notification on `raw/` into that queue. moto does fire S3 notifications for the objects its Firehose writes
 * (checked in `happy-path.int.spec.ts`), so no stand-in notifier is needed. The TestEvent S3 sends on configuring
 * the notification is left in the queue, as on AWS: the backup runner must skip it.
 */
export async function createPipelineStack(endpoint: string, options: StackOptions = {}): Promise<PipelineStack> {
  const { s3, sqs, firehose } = motoClients(endpoint);
  const n = STACK_NAMES;
  const maxReceiveCount = options.maxReceiveCount ?? 3;
  await s3.send(new CreateBucketCommand({ Bucket: n.rawBucket }));
  await s3.send(new CreateBucketCommand({ Bucket: n.backupBucket }));
  await s3.send(new CreateBucketCommand({ Bucket: n.silverBucket }));
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: n.dlqName }))).QueueUrl ?? '';
  const dlqArn = await queueArn(sqs, dlqUrl);
  const queueUrl =
    (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: n.queueName,
          Attributes: {
            VisibilityTimeout: String(options.visibilityTimeoutS ?? 2),
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(maxReceiveCount) }),
          },
        }),
      )
    ).QueueUrl ?? '';
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: n.rawBucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Id: 'raw-object-created',
            QueueArn: await queueArn(sqs, queueUrl),
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: n.rawPrefix }] } },
          },
        ],
      },
    }),
  );
  await firehose.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: n.streamName,
      DeliveryStreamType: 'DirectPut',
      ExtendedS3DestinationConfiguration: {
        BucketARN: `arn:aws:s3:::${n.rawBucket}`,
        RoleARN: 'arn:aws:iam::123456789012:role/btc-etl-firehose',
        Prefix: n.rawPrefix,
        ErrorOutputPrefix: 'errors/',
        BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 5 },
      },
    }),
  );
  const described = await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: n.streamName }));
  if (described.DeliveryStreamDescription?.DeliveryStreamName !== n.streamName) {
    throw new Error(`moto did not create the delivery stream ${n.streamName}`);
  }
  return {
    endpoint,
    rawBucket: n.rawBucket,
    backupBucket: n.backupBucket,
    silverBucket: n.silverBucket,
    streamName: n.streamName,
    queueUrl,
    dlqUrl,
    maxReceiveCount,
    s3,
    sqs,
    firehose,
  };
}

export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${queueUrl} has no QueueArn`);
  return arn;
}

/** Messages visible plus in flight plus delayed. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Receive (and delete) every message of a queue: for reading a DLQ at the end of a scenario. */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (let empty = 0; empty < 2; ) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) {
      empty++;
      continue;
    }
    for (const m of messages) {
      bodies.push(m.Body ?? '');
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return bodies;
}

export async function sendBodies(sqs: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<void> {
  for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

export interface StoredObject {
  key: string;
  size: number;
  /** Unquoted. */
  etag: string;
  lastModified: number;
}

/** Every object of a bucket (optionally under a prefix), page by page. */
export async function listObjects(s3: S3Client, bucket: string, prefix = ''): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? ([] as _Object[])) {
      out.push({
        key: o.Key ?? '',
        size: o.Size ?? 0,
        etag: (o.ETag ?? '').replace(/"/g, ''),
        lastModified: o.LastModified?.getTime() ?? 0,
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export interface BucketRecords {
  objects: StoredObject[];
  /** Every NDJSON line of every object, duplicates included, in key order. */
  records: PriceTick[];
  /** Key of the object each record came from (same index as `records`). */
  keyOf: string[];
}

/** Read and decode every object of a bucket under a prefix (records are validated by the schema's decoder). */
export async function readBucketRecords(
  s3: S3Client,
  bucket: string,
  prefix: string = STACK_NAMES.rawPrefix,
): Promise<BucketRecords> {
  const objects = (await listObjects(s3, bucket, prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
  const records: PriceTick[] = [];
  const keyOf: string[] = [];
  for (const o of objects) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.key }));
    const text = (await got.Body?.transformToString('utf8')) ?? '';
    for (const r of decodeNdjson(text)) {
      records.push(r);
      keyOf.push(o.key);
    }
  }
  return { objects, records, keyOf };
}

export interface SilverRecords {
  records: PriceTick[];
  /** The partition each record was read from (same index as `records`). */
  partitions: SilverPartitionOf[];
  /** Data files the manifests name, and data files in the partition folders that none names (leftovers). */
  files: string[];
  unnamedFiles: string[];
}

/**
 * Every record of the silver layer, read as readers must: each partition's manifest, then the files it names
 * (decoded with the price-schema's silver codec, so the strings come back as written).
 */
export async function readSilverRecords(s3: S3Client, bucket: string): Promise<SilverRecords> {
  const objects = await listObjects(s3, bucket, SILVER_PREFIX);
  const get = async (key: string) => {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await got.Body?.transformToByteArray()) ?? new Uint8Array();
  };
  const out: SilverRecords = { records: [], partitions: [], files: [], unnamedFiles: [] };
  const named = new Set<string>();
  for (const o of objects.filter((x) => x.key.endsWith(`/${SILVER_MANIFEST_NAME}`))) {
    const manifest = parseSilverManifest(o.key, await get(o.key));
    const folder = o.key.slice(0, o.key.length - SILVER_MANIFEST_NAME.length);
    for (const file of manifest.files) {
      const key = `${folder}${file.name}`;
      named.add(key);
      out.files.push(key);
      const parsed = parseSilverKey(key);
      for (const record of await decodeSilverParquet(await get(key), { productId: parsed.productId })) {
        out.records.push(record);
        out.partitions.push({ productId: parsed.productId, hourSec: parsed.hour.getTime() / 1000 });
      }
    }
  }
  out.unnamedFiles = objects.map((o) => o.key).filter((k) => !k.endsWith(SILVER_MANIFEST_NAME) && !named.has(k));
  return out;
}
