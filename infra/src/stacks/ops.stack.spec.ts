import { Match } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROOT } from '../assets';
import { synthInfra, type SynthesizedInfra } from '../test/synth-infra';
import { ALARM_IDS } from './ops.stack';

// Non-default context, so each threshold below is proven to follow the value it is derived from.
const context = {
  namePrefix: 'btc-etl-dev',
  alarmEmail: 'oncall@example.com',
  firehoseBufferIntervalSeconds: '120',
  backupTimeoutSeconds: '40',
  backupBatchWindowSeconds: '7',
  compactIntervalMinutes: '10',
  compactLateSlackSeconds: '600',
};

let infra: SynthesizedInfra;
let parked: SynthesizedInfra;
beforeAll(() => {
  infra = synthInfra(context);
  parked = synthInfra({ extractorDesiredCount: '0' });
});
afterAll(() => {
  infra.cleanup();
  parked.cleanup();
});
const ops = () => infra.templates.ops;

interface AlarmProps {
  AlarmName: string;
  Namespace: string;
  MetricName: string;
  Dimensions: { Name: string; Value: string }[];
  Statistic: string;
  Period: number;
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  TreatMissingData: string;
  AlarmActions: unknown[];
  OKActions: unknown[];
  AlarmDescription: string;
}
const alarms = (template = ops()) =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties as AlarmProps);
const alarm = (id: string) => {
  const found = alarms().filter((a) => a.AlarmName === `btc-etl-dev-${id}`);
  expect(found, id).toHaveLength(1);
  return found[0] as AlarmProps;
};

describe('OpsStack alarms', () => {
  it('has exactly the alarms the runbook documents', () => {
    expect(
      alarms()
        .map((a) => a.AlarmName.replace('btc-etl-dev-', ''))
        .sort(),
    ).toEqual([...ALARM_IDS].sort());
  });

  // [id, namespace, metric, dimension value, statistic, period s, comparison, threshold, evaluation, to alarm, missing]
  it.each([
    [
      'BackupDlqNotEmpty',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      'btc-etl-dev-raw-objects-dlq',
      'Maximum',
      300,
      'GreaterThanOrEqualToThreshold',
      1,
      1,
      undefined,
      'notBreaching',
    ],
    // 3 x (6 x 40 s + 7 s) visibility
    [
      'BackupQueueOldestMessage',
      'AWS/SQS',
      'ApproximateAgeOfOldestMessage',
      'btc-etl-dev-raw-objects',
      'Maximum',
      300,
      'GreaterThanThreshold',
      741,
      1,
      undefined,
      'notBreaching',
    ],
    [
      'BackupLambdaErrors',
      'AWS/Lambda',
      'Errors',
      'btc-etl-dev-backup',
      'Sum',
      300,
      'GreaterThanOrEqualToThreshold',
      1,
      3,
      2,
      'notBreaching',
    ],
    [
      'BackupLambdaThrottles',
      'AWS/Lambda',
      'Throttles',
      'btc-etl-dev-backup',
      'Sum',
      300,
      'GreaterThanOrEqualToThreshold',
      1,
      3,
      undefined,
      'notBreaching',
    ],
    // buffer interval 120 s + 900 s
    [
      'FirehoseFreshness',
      'AWS/Firehose',
      'DeliveryToS3.DataFreshness',
      'btc-etl-dev-ticks',
      'Maximum',
      300,
      'GreaterThanThreshold',
      1020,
      1,
      undefined,
      'notBreaching',
    ],
    [
      'FirehoseDeliverySuccess',
      'AWS/Firehose',
      'DeliveryToS3.Success',
      'btc-etl-dev-ticks',
      'Average',
      300,
      'LessThanThreshold',
      1,
      3,
      undefined,
      'notBreaching',
    ],
    [
      'ExtractorNotRunning',
      'BtcEtl',
      'TicksDue',
      'extractor',
      'SampleCount',
      300,
      'LessThanThreshold',
      1,
      2,
      undefined,
      'breaching',
    ],
    [
      'ExtractorMissedRatio',
      'BtcEtl',
      'MissedRatio',
      'extractor',
      'Average',
      300,
      'GreaterThanThreshold',
      0.05,
      3,
      undefined,
      'notBreaching',
    ],
    [
      'ExtractorSpoolFill',
      'BtcEtl',
      'SpoolFillRatio',
      'extractor',
      'Maximum',
      300,
      'GreaterThanThreshold',
      0.5,
      1,
      undefined,
      'notBreaching',
    ],
    [
      'ExtractorDeliveryLag',
      'BtcEtl',
      'DeliveryLagMs',
      'extractor',
      'Maximum',
      300,
      'GreaterThanThreshold',
      300_000,
      2,
      undefined,
      'notBreaching',
    ],
    // 3600 + slack 600 + interval 600 + 900; the period holds two 10-minute runs
    [
      'CompactorLag',
      'BtcEtl',
      'LagSeconds',
      'compactor',
      'Maximum',
      1200,
      'GreaterThanThreshold',
      5700,
      1,
      undefined,
      'breaching',
    ],
  ] as const)(
    '%s watches %s %s of %s (%s over %i s, %s %d, %i periods, %s to alarm, missing data %s)',
    (id, namespace, metricName, dimension, statistic, period, comparison, threshold, evaluation, toAlarm, missing) => {
      const a = alarm(id);
      expect(a).toMatchObject({
        Namespace: namespace,
        MetricName: metricName,
        Statistic: statistic,
        Period: period,
        ComparisonOperator: comparison,
        Threshold: threshold,
        EvaluationPeriods: evaluation,
        TreatMissingData: missing,
      });
      expect(a.DatapointsToAlarm).toBe(toAlarm);
      expect(a.Dimensions.map((d) => d.Value)).toEqual([dimension]);
      expect(a.AlarmDescription).toContain(`docs/operations.md#${id.toLowerCase()}`);
    },
  );

  it(
    'names only resources that exist in the other stacks (the alarms import nothing, ' +
      'so a rename must not orphan them)',
    () => {
      const named = (stack: keyof typeof infra.templates, type: string, prop: string) =>
        Object.values(infra.templates[stack]?.findResources(type) ?? {}).map((r) => r.Properties[prop]);
      const existing = new Set([
        ...named('data', 'AWS::SQS::Queue', 'QueueName'),
        ...named('data', 'AWS::KinesisFirehose::DeliveryStream', 'DeliveryStreamName'),
        ...named('backup', 'AWS::Lambda::Function', 'FunctionName'),
        ...named('compactor', 'AWS::Lambda::Function', 'FunctionName'),
        'extractor',
        'compactor',
      ]);
      const dimensions = alarms().flatMap((a) => a.Dimensions.map((d) => d.Value));
      expect(dimensions.filter((d) => !existing.has(d))).toEqual([]);
      // and the EMF services are what the apps write (apps/*/src/ops/emf.metrics.ts)
      expect(
        alarms()
          .filter((a) => a.Namespace === 'BtcEtl')
          .flatMap((a) => a.Dimensions.map((d) => d.Name)),
      ).toEqual(expect.arrayContaining(['Service']));
    },
  );

  it('sends every alarm and its all-clear to the topic, which emails the alarmEmail address', () => {
    const topicId = Object.keys(ops().findResources('AWS::SNS::Topic'))[0];
    for (const a of alarms()) {
      expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.OKActions).toEqual([{ Ref: topicId }]);
    }
    ops().hasResourceProperties('AWS::SNS::Topic', { TopicName: 'btc-etl-dev-alarms' });
    ops().hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: topicId },
    });
  });

  it("lets this account's CloudWatch alarms publish to the topic, over TLS only", () => {
    ops().hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Sid: 'CloudWatchAlarmsOfThisAccount',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ]),
      },
    });
  });

  it('has no subscription without alarmEmail, and no extractor-not-running alarm while the extractor is parked', () => {
    parked.templates.ops.resourceCountIs('AWS::SNS::Subscription', 0);
    const names = alarms(parked.templates.ops).map((a) => a.AlarmName);
    expect(names).not.toContain('btc-etl-ExtractorNotRunning');
    expect(names).toHaveLength(ALARM_IDS.length - 1);
  });
});

describe('the runbook', () => {
  it('has a section for every alarm, under the heading its description links to', () => {
    const runbook = readFileSync(join(WORKSPACE_ROOT, 'docs/operations.md'), 'utf8');
    const headings = runbook
      .split('\n')
      .filter((l) => l.startsWith('### '))
      .map((l) => l.slice(4).trim());
    for (const id of ALARM_IDS) expect(headings, id).toContain(id);
  });
});

describe('OpsStack dashboard', () => {
  it('shows every alarm and a row per stage, from the same metrics', () => {
    const dashboards = Object.values(ops().findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]?.Properties.DashboardName).toBe('btc-etl-dev-pipeline');
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const metric of [
      'TicksDue',
      'DeliveryLagMs',
      'DeliveryToS3.DataFreshness',
      'ApproximateAgeOfOldestMessage',
      'Throttles',
      'LagSeconds',
      'QuarantinedLines',
    ]) {
      expect(body, metric).toContain(metric);
    }
    // the alarm status widget lists every alarm (by ARN, from its logical id)
    const alarmIds = Object.keys(ops().findResources('AWS::CloudWatch::Alarm'));
    expect(alarmIds).toHaveLength(ALARM_IDS.length);
    for (const id of alarmIds) expect(body).toContain(`"Fn::GetAtt":["${id}","Arn"]`);
  });
});
