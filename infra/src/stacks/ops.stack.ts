import { Aws, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { queueVisibilitySeconds, type InfraConfig } from '../infra.config';
import { pipelineNames } from '../pipeline-names';

/** The EMF namespace the extractor and the compactor publish under (CONTRACTS.md), and their `Service` values. */
export const EMF_NAMESPACE = 'BtcEtl';

/** What the alarms need of the compactor's schedule (its own context keys, read by the compactor stack). */
export interface CompactorSchedule {
  compactIntervalMinutes: number;
  compactLateSlackSeconds: number;
}

export interface OpsStackProps extends StackProps {
  config: InfraConfig;
  compactor: CompactorSchedule;
}

/** Every alarm of the pipeline, by id: the runbook (docs/operations.md) has a section per id. */
export const ALARM_IDS = [
  'BackupDlqNotEmpty',
  'BackupQueueOldestMessage',
  'BackupLambdaErrors',
  'BackupLambdaThrottles',
  'FirehoseFreshness',
  'FirehoseDeliverySuccess',
  'ExtractorNotRunning',
  'ExtractorMissedRatio',
  'ExtractorSpoolFill',
  'ExtractorDeliveryLag',
  'CompactorLag',
] as const;
export type AlarmId = (typeof ALARM_IDS)[number];

/**
 * The thresholds, each with why it is there. `config` and the compactor's schedule feed the ones that depend on them.
 */
export function alarmThresholds(config: InfraConfig, compactor: CompactorSchedule) {
  const visibility = queueVisibilitySeconds(config);
  return {
    // A healthy message lives for the batching window plus one copy (seconds). Three visibility timeouts mean three
    // failed receives in a row or no consumer at all (a disabled mapping, a broken deploy); the DLQ alarm covers the
    // single poison message after its 5th receive.
    oldestMessageSeconds: 3 * visibility,
    // Firehose holds a record for at most its buffer interval before the S3 put; 15 more minutes is a delivery that
    // keeps failing (Firehose retries S3 for 24 h, so records are late, not lost, until then).
    firehoseFreshnessSeconds: config.firehoseBufferIntervalSeconds + 900,
    // 5 % of due ticks missed for 15 minutes: Coinbase refusing us (429) or the network, beyond the odd timeout.
    // The gaps are backfilled, so this pages for a trend, not for a single miss.
    missedRatio: 0.05,
    // Half the spool cap: at the rate that filled it, the other half is the time left before new ticks are refused
    // (recorded as missed and backfillable, never lost from the spool).
    spoolFillRatio: 0.5,
    // An acknowledged tick waits at most for the sink's next batch (seconds); 5 minutes is Firehose refusing puts.
    deliveryLagMs: 300_000,
    // A raw arrival hour is compacted once it is complete plus the late slack, at the next run: the lag saw-tooths
    // between slack and 1 h + slack + interval. 15 minutes beyond that top is a compactor that fails or stopped.
    compactorLagSeconds: 3600 + compactor.compactLateSlackSeconds + 60 * compactor.compactIntervalMinutes + 900,
  } as const;
}

/**
 * Alarms on every stage of the pipeline into one SNS topic (an email subscription from context `alarmEmail`), and a
 * CloudWatch dashboard of the pipeline. It finds the metrics by the resources' names ({@link pipelineNames}), so it
 * imports nothing from the other stacks. The extractor-not-running alarm exists only while the extractor is meant to
 * run (`extractorDesiredCount` 1).
 */
export class OpsStack extends Stack {
  readonly topic: sns.Topic;
  readonly alarms: Partial<Record<AlarmId, cloudwatch.Alarm>> = {};
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: OpsStackProps) {
    super(scope, id, props);
    const { config } = props;
    const names = pipelineNames(config.namePrefix);
    const limits = alarmThresholds(config, props.compactor);
    const fiveMinutes = Duration.minutes(5);

    // Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key, and alarm texts hold
    // nothing secret. TLS-only, and only this account's alarms may publish.
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      topicName: names.alarmTopic,
      displayName: `${config.namePrefix} pipeline alarms`,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
        },
      }),
    );
    if (config.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    const notify = new actions.SnsAction(this.topic);

    const metric = (namespace: string, metricName: string, dimensionsMap: Record<string, string>, statistic: string) =>
      new cloudwatch.Metric({ namespace, metricName, dimensionsMap, statistic, period: fiveMinutes });
    const sqs = (queue: string, metricName: string) => metric('AWS/SQS', metricName, { QueueName: queue }, 'Maximum');
    const lambda = (fn: string, metricName: string, statistic = 'Sum') =>
      metric('AWS/Lambda', metricName, { FunctionName: fn }, statistic);
    const firehose = (metricName: string, statistic: string) =>
      metric('AWS/Firehose', metricName, { DeliveryStreamName: names.deliveryStream }, statistic);
    const emf = (service: 'extractor' | 'compactor', metricName: string, statistic: string, period = fiveMinutes) =>
      new cloudwatch.Metric({
        namespace: EMF_NAMESPACE,
        metricName,
        dimensionsMap: { Service: service },
        statistic,
        period,
      });

    const alarm = (
      id: AlarmId,
      description: string,
      props: Omit<cloudwatch.AlarmProps, 'alarmName' | 'alarmDescription' | 'actionsEnabled'>,
    ) => {
      const created = new cloudwatch.Alarm(this, id, {
        ...props,
        alarmName: `${config.namePrefix}-${id}`,
        alarmDescription: `${description} Runbook: docs/operations.md#${id.toLowerCase()}`,
      });
      created.addAlarmAction(notify);
      // the all-clear goes to the same people, so nobody works on a problem that has gone
      created.addOkAction(notify);
      this.alarms[id] = created;
      return created;
    };
    const { GREATER_THAN_OR_EQUAL_TO_THRESHOLD: atLeast, GREATER_THAN_THRESHOLD: above } =
      cloudwatch.ComparisonOperator;
    const { LESS_THAN_THRESHOLD: below } = cloudwatch.ComparisonOperator;
    const { NOT_BREACHING: quietIsFine, BREACHING: quietIsDown } = cloudwatch.TreatMissingData;

    // --- backup: S3 -> SQS -> Lambda ------------------------------------------------------------------------------
    alarm('BackupDlqNotEmpty', 'A raw object failed its backup 5 times and waits in the DLQ.', {
      // any message: each is a raw object without a backup
      metric: sqs(names.rawObjectsDeadLetterQueue, 'ApproximateNumberOfMessagesVisible'),
      threshold: 1,
      comparisonOperator: atLeast,
      evaluationPeriods: 1,
      // SQS stops publishing for a queue idle 6 hours: an empty DLQ goes quiet
      treatMissingData: quietIsFine,
    });
    alarm(
      'BackupQueueOldestMessage',
      'Raw-object events wait on the backup queue: the backup Lambda is not keeping up.',
      {
        metric: sqs(names.rawObjectsQueue, 'ApproximateAgeOfOldestMessage'),
        threshold: limits.oldestMessageSeconds,
        comparisonOperator: above,
        evaluationPeriods: 1,
        treatMissingData: quietIsFine,
      },
    );
    alarm('BackupLambdaErrors', 'The backup Lambda fails whole invocations (crash, timeout, bad config).', {
      // per-message failures are reported as batchItemFailures and are not Errors: an Error is the whole batch.
      // Two bad 5-minute periods of three: a lone timeout during an S3 blip retries by itself.
      metric: lambda(names.backupFunction, 'Errors'),
      threshold: 1,
      comparisonOperator: atLeast,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: quietIsFine,
    });
    alarm('BackupLambdaThrottles', "The backup Lambda is throttled: the account's concurrency is used up.", {
      // the event source's maxConcurrency never throttles by itself: a throttle is the account limit (or a reserved
      // concurrency of 0). SQS redelivers, so only a throttle lasting 15 minutes pages.
      metric: lambda(names.backupFunction, 'Throttles'),
      threshold: 1,
      comparisonOperator: atLeast,
      evaluationPeriods: 3,
      treatMissingData: quietIsFine,
    });

    // --- Firehose -> raw bucket -------------------------------------------------------------------------------------
    alarm('FirehoseFreshness', 'Records wait in Firehose: delivery to the raw bucket is failing or slow.', {
      metric: firehose('DeliveryToS3.DataFreshness', 'Maximum'),
      threshold: limits.firehoseFreshnessSeconds,
      comparisonOperator: above,
      evaluationPeriods: 1,
      // no records, no freshness: the extractor's own alarm covers that
      treatMissingData: quietIsFine,
    });
    alarm('FirehoseDeliverySuccess', 'Some of Firehose S3 puts fail (bucket policy, permissions, S3 errors).', {
      // the ratio of successful puts: below 1 for 15 minutes in a row is not a blip Firehose retried away
      metric: firehose('DeliveryToS3.Success', 'Average'),
      threshold: 1,
      comparisonOperator: below,
      evaluationPeriods: 3,
      treatMissingData: quietIsFine,
    });

    // --- extractor (EMF lines every 60 s; no agent, no Container Insights) -----------------------------------------
    if (config.extractorDesiredCount > 0) {
      alarm('ExtractorNotRunning', 'The extractor publishes no health: it is not running (or cannot log).', {
        // TicksDue comes every 60 s while the extractor runs, even when every tick is missed. Silence for 10 minutes
        // (a restart with the spool lease wait takes ~2) is a stopped task, a crash loop or a stuck deployment.
        metric: emf('extractor', 'TicksDue', 'SampleCount'),
        threshold: 1,
        comparisonOperator: below,
        evaluationPeriods: 2,
        treatMissingData: quietIsDown,
      });
    }
    alarm('ExtractorMissedRatio', 'The extractor misses more than 5 % of due ticks.', {
      metric: emf('extractor', 'MissedRatio', 'Average'),
      threshold: limits.missedRatio,
      comparisonOperator: above,
      evaluationPeriods: 3,
      treatMissingData: quietIsFine,
    });
    alarm('ExtractorSpoolFill', "The extractor's spool is half full: Firehose has not taken its ticks for a while.", {
      metric: emf('extractor', 'SpoolFillRatio', 'Maximum'),
      threshold: limits.spoolFillRatio,
      comparisonOperator: above,
      evaluationPeriods: 1,
      treatMissingData: quietIsFine,
    });
    alarm('ExtractorDeliveryLag', 'Ticks wait over 5 minutes in the spool: Firehose refuses or throttles puts.', {
      metric: emf('extractor', 'DeliveryLagMs', 'Maximum'),
      threshold: limits.deliveryLagMs,
      comparisonOperator: above,
      evaluationPeriods: 2,
      treatMissingData: quietIsFine,
    });

    // --- compactor (one EMF line per run) ---------------------------------------------------------------------------
    // The period holds at least two runs, so one slow run is not "missing"; silence is a compactor that stopped.
    const compactorPeriod = Duration.minutes(Math.min(1440, Math.max(15, 2 * props.compactor.compactIntervalMinutes)));
    alarm('CompactorLag', 'Silver is behind raw by more than an hour past its schedule, or the compactor is silent.', {
      metric: emf('compactor', 'LagSeconds', 'Maximum', compactorPeriod),
      threshold: limits.compactorLagSeconds,
      comparisonOperator: above,
      evaluationPeriods: 1,
      treatMissingData: quietIsDown,
    });

    this.dashboard = this.pipelineDashboard(names.dashboard, {
      emf,
      sqs,
      lambda,
      firehose,
      names,
      compactorPeriod,
    });

    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.topic.topicArn,
      description: 'SNS topic of every alarm (subscribe more endpoints here)',
    });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName, description: 'CloudWatch dashboard' });
  }

  /** One row per stage, in the order data flows, with the alarms' state on top. */
  private pipelineDashboard(
    dashboardName: string,
    m: {
      emf: (s: 'extractor' | 'compactor', name: string, stat: string, period?: Duration) => cloudwatch.Metric;
      sqs: (queue: string, name: string) => cloudwatch.Metric;
      lambda: (fn: string, name: string, stat?: string) => cloudwatch.Metric;
      firehose: (name: string, stat: string) => cloudwatch.Metric;
      names: ReturnType<typeof pipelineNames>;
      compactorPeriod: Duration;
    },
  ): cloudwatch.Dashboard {
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
    const { names } = m;
    return new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName,
      defaultInterval: Duration.hours(24),
      widgets: [
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: Object.values(this.alarms),
            width: 24,
            height: 3,
          }),
        ],
        [
          graph(
            'Extractor ticks (per 5 min)',
            [m.emf('extractor', 'TicksDue', 'Sum'), m.emf('extractor', 'TicksOk', 'Sum')],
            [m.emf('extractor', 'TicksMissed', 'Sum')],
          ),
          graph('Extractor missed ratio and spool fill', [
            m.emf('extractor', 'MissedRatio', 'Average'),
            m.emf('extractor', 'SpoolFillRatio', 'Maximum'),
          ]),
          graph('Extractor delivery lag (ms)', [m.emf('extractor', 'DeliveryLagMs', 'Maximum')]),
        ],
        [
          graph(
            'Firehose in and out',
            [m.firehose('IncomingRecords', 'Sum'), m.firehose('DeliveryToS3.Records', 'Sum')],
            [m.firehose('ThrottledRecords', 'Sum')],
          ),
          graph('Firehose freshness (s)', [m.firehose('DeliveryToS3.DataFreshness', 'Maximum')]),
          graph('Firehose S3 success ratio', [m.firehose('DeliveryToS3.Success', 'Average')]),
        ],
        [
          graph(
            'Backup queue',
            [m.sqs(names.rawObjectsQueue, 'ApproximateNumberOfMessagesVisible')],
            [m.sqs(names.rawObjectsQueue, 'ApproximateAgeOfOldestMessage')],
          ),
          graph('Backup DLQ', [m.sqs(names.rawObjectsDeadLetterQueue, 'ApproximateNumberOfMessagesVisible')]),
          graph(
            'Backup Lambda',
            [
              m.lambda(names.backupFunction, 'Invocations'),
              m.lambda(names.backupFunction, 'Errors'),
              m.lambda(names.backupFunction, 'Throttles'),
            ],
            [m.lambda(names.backupFunction, 'ConcurrentExecutions', 'Maximum')],
          ),
        ],
        [
          graph('Compactor lag (s)', [m.emf('compactor', 'LagSeconds', 'Maximum', m.compactorPeriod)]),
          graph(
            'Compactor records',
            [m.emf('compactor', 'RecordsIn', 'Sum'), m.emf('compactor', 'DuplicatesDropped', 'Sum')],
            [m.emf('compactor', 'QuarantinedLines', 'Sum')],
          ),
          graph(
            'Compactor runs',
            [m.emf('compactor', 'RunSeconds', 'Maximum')],
            [m.lambda(names.compactorFunction, 'Errors')],
          ),
        ],
      ],
    });
  }
}
