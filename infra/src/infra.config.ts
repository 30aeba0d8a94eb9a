import { z } from 'zod';
import { InfraConfigError } from './infra.errors';

/** CloudWatch Logs accepts only these retention periods (9999 = never expire, CDK's RetentionDays.INFINITE). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, 9999,
] as const;

// `cdk -c key=value` hands every value over as a string; cdk.json hands over JSON types. Accept both.
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const accountId = z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as "us-east-1"');

/**
 * Every CDK context key the app reads, with its default. One schema, validated once in `readInfraConfig`; the README
 * table documents the same keys.
 */
export const InfraContextSchema = z
  .object({
    account: accountId.optional(),
    region: region.optional(),
    namePrefix: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,18}[a-z0-9]$/,
        'expected 2-20 lowercase letters, digits or dashes, starting with a letter (it becomes part of bucket names)',
      )
      .default('btc-etl'),
    logRetentionDays: z.coerce
      .number()
      .refine((v) => (LOG_RETENTION_DAYS as readonly number[]).includes(v), {
        message: `expected one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    firehoseBufferSizeMb: int(1, 128).default(5),
    firehoseBufferIntervalSeconds: int(0, 900).default(60),
    // S3 refuses a transition to STANDARD_IA earlier than 30 days after creation.
    rawTransitionDays: int(30, 36_500).default(30),
    backupTransitionDays: int(1, 36_500).default(90),
    backupNoncurrentExpirationDays: int(1, 36_500).default(90),
    // S3 Object Lock on the backup bucket: every version is kept this long from its creation. Governance lets a
    // principal with s3:BypassGovernanceRetention delete early (a mistake can be undone); compliance lets no one.
    backupObjectLockDays: int(1, 36_500).default(90),
    backupObjectLockMode: z.enum(['governance', 'compliance']).default('governance'),
    // A replica of the backup bucket in another region and/or account (BackupReplicaStack); unset: none.
    backupReplicaRegion: region.optional(),
    backupReplicaAccount: accountId.optional(),
    // Concurrent invocations the SQS event source may start (Lambda allows 2-1000): bounds S3 request bursts after
    // an outage, and leaves the account's concurrency to other functions.
    backupMaxConcurrency: int(2, 1000).default(5),
    athenaResultsExpirationDays: int(1, 3650).default(7),
    // Athena's minimum cutoff is 10 MB.
    athenaBytesScannedCutoffMb: int(10, 1_000_000).default(1024),
    // 6 x 900 + 300 = 5,700 s: any valid timeout and window fit SQS's 12-hour visibility limit.
    backupTimeoutSeconds: int(1, 900).default(60),
    backupMemoryMb: int(128, 10_240).default(256),
    backupBatchSize: int(1, 10_000).default(10),
    backupBatchWindowSeconds: int(0, 300).default(5),
    // 0 (parked) or 1: the spool has one writer, so the service never runs two tasks
    extractorDesiredCount: int(0, 1).default(1),
    // the extractor's cheaper shapes (docs/cost.md): Fargate Spot, and the network path out
    extractorCapacity: z.enum(['fargate', 'fargate-spot']).default('fargate'),
    // public-ip (cheapest: one public IPv4 address) or private-nat (no public IP: a NAT gateway, ~9x the address).
    // `private-endpoints` (VPC endpoints only) used to exist: Coinbase is on the public internet, so it cannot work.
    extractorNetwork: z
      .enum(['public-ip', 'private-nat', 'private-endpoints'])
      .refine((n) => n !== 'private-endpoints', {
        message:
          'private-endpoints has no route to Coinbase (a public API): every tick would be recorded as missed. ' +
          'Use public-ip (the task gets a public IPv4 address, ' +
          'inbound closed) or private-nat (no public IP, a NAT gateway)',
      })
      .transform((n) => n as 'public-ip' | 'private-nat')
      .default('public-ip'),
    // Where the alarms' SNS topic sends email (the subscription must be confirmed from the first mail); unset: the
    // topic has no subscriber, subscribe one yourself (docs/operations.md).
    alarmEmail: z.email('expected an email address').optional(),
    projectionStart: z
      .string()
      .regex(/^\d{4}\/\d{2}\/\d{2}\/\d{2}$/, 'expected yyyy/MM/dd/HH, e.g. "2026/01/01/00"')
      .default('2026/01/01/00'),
  })
  .superRefine((c, ctx) => {
    // Lifecycle counts noncurrent days from when a version was overwritten, the lock from when it was written: with
    // at least as many days, the expiry never comes due while the version is still locked.
    if (c.backupNoncurrentExpirationDays < c.backupObjectLockDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['backupNoncurrentExpirationDays'],
        message:
          `must be >= backupObjectLockDays (${c.backupObjectLockDays}): ` +
          `an expiry inside the lock would undercut it`,
      });
    }
    if (c.backupReplicaAccount !== undefined && c.account === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['backupReplicaAccount'],
        message: "needs the `account` context too: the replica bucket's policy names the source account's role",
      });
    }
    const replica = c.backupReplicaRegion !== undefined || c.backupReplicaAccount !== undefined;
    if (
      replica &&
      (c.backupReplicaAccount ?? c.account) === c.account &&
      (c.backupReplicaRegion ?? c.region) === c.region
    ) {
      ctx.addIssue({
        code: 'custom',
        path: [c.backupReplicaRegion !== undefined ? 'backupReplicaRegion' : 'backupReplicaAccount'],
        message: 'the replica must be in another region or another account than the backup bucket',
      });
    }
    // Lambda rejects a batch size above 10 for SQS unless a batching window is set.
    if (c.backupBatchSize > 10 && c.backupBatchWindowSeconds < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['backupBatchSize'],
        message: 'a batch size above 10 needs backupBatchWindowSeconds >= 1 (an SQS event source rule)',
      });
    }
  });

export type InfraConfig = z.infer<typeof InfraContextSchema>;
export type InfraContextKey = keyof InfraConfig;
export const INFRA_CONTEXT_KEYS = Object.keys(InfraContextSchema.shape) as InfraContextKey[];

/**
 * The source queue's visibility timeout: AWS asks for at least 6 x the function timeout plus the batching window,
 * so a message is not redelivered while a retried invocation may still be working on it.
 */
export function queueVisibilitySeconds(
  c: Pick<InfraConfig, 'backupTimeoutSeconds' | 'backupBatchWindowSeconds'>,
): number {
  return 6 * c.backupTimeoutSeconds + c.backupBatchWindowSeconds;
}

/**
 * Validate the app's context once, at the edge.
 * @param read a context reader such as `(key) => app.node.tryGetContext(key)`
 * @throws InfraConfigError naming every bad key and its value
 */
export function readInfraConfig(read: (key: InfraContextKey) => unknown): InfraConfig {
  const raw = Object.fromEntries(
    INFRA_CONTEXT_KEYS.map((key) => [key, read(key)]).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = InfraContextSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new InfraConfigError(
    parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '(context)');
      return { key, value: raw[key], message: issue.message };
    }),
  );
}

/** `btc-etl-dev` -> `BtcEtlDev`: the stack-name prefix, so `BtcEtlData` is the default Data stack. */
export function pascalPrefix(namePrefix: string): string {
  return namePrefix
    .split('-')
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** `btc-etl` -> `btc_etl`: Glue and Athena names allow no dashes. */
export function glueName(namePrefix: string): string {
  return namePrefix.replace(/-/g, '_');
}
