import { Match } from 'aws-cdk-lib/assertions';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROOT } from '../assets';
import { policyStatements, synthInfra, type SynthesizedInfra } from '../test/synth-infra';

let infra: SynthesizedInfra;
beforeAll(() => {
  infra = synthInfra({ namePrefix: 'btc-etl', extractorDesiredCount: '1' });
});
afterAll(() => infra.cleanup());
const extractor = () => infra.templates.extractor;

describe('ExtractorStack', () => {
  it('runs one arm64 Fargate task of the smallest size', () => {
    extractor().hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '256',
      Memory: '512',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    extractor().hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 1,
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 100, MaximumPercent: 200 }),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
    });
  });

  it('sends to the Data stack delivery stream (SINK=firehose) and logs with retention', () => {
    const container = Object.values(extractor().findResources('AWS::ECS::TaskDefinition'))[0]?.Properties
      .ContainerDefinitions[0];
    const env = Object.fromEntries(
      container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
    );
    expect(env.SINK).toBe('firehose');
    expect(env.FIREHOSE_STREAM_NAME).toBe('btc-etl-ticks');
    expect(container.LogConfiguration.LogDriver).toBe('awslogs');
    extractor().hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/ecs/btc-etl-extractor',
      RetentionInDays: 30,
    });
  });

  it("builds the image from apps/extractor's Dockerfile for arm64 at deploy time (synth only stages the context)", () => {
    const images = Object.values(infra.assetManifest(infra.stacks.extractor.stackName).dockerImages ?? {});
    expect(images).toHaveLength(1);
    const source = images[0]?.source;
    expect(source?.platform).toBe('linux/arm64');
    expect(source?.dockerFile).toBe('apps/extractor/Dockerfile');
    // The context is the repository root cut down to the Dockerfile and what it COPYs (the built bundle), staged
    // byte for byte: `cdk deploy` runs `docker build` on it, synthesis ran nothing and copied no node_modules.
    const staged = join(infra.outdir, source?.directory ?? 'missing');
    const files = readdirSync(staged, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => relative(staged, join(d.parentPath, d.name)))
      .sort();
    expect(files).toEqual([
      'apps/extractor/Dockerfile',
      'dist/apps/extractor/main.js',
      'dist/apps/extractor/main.js.map',
    ]);
    for (const file of files) {
      expect(readFileSync(join(staged, file)).equals(readFileSync(join(WORKSPACE_ROOT, file))), file).toBe(true);
    }
  });

  it('probes /healthz like the Dockerfile does, since ECS ignores HEALTHCHECK', () => {
    const container = Object.values(extractor().findResources('AWS::ECS::TaskDefinition'))[0]?.Properties
      .ContainerDefinitions[0];
    expect(container.HealthCheck).toMatchObject({ Interval: 15, Timeout: 3, StartPeriod: 10, Retries: 3 });
    expect(container.HealthCheck.Command.join(' ')).toMatch(/^CMD node -e .*\/healthz/);
  });

  it('lets the task put records into that one stream and nothing else', () => {
    const taskRoleId = Object.keys(
      extractor().findResources('AWS::IAM::Role', {
        Properties: {
          AssumeRolePolicyDocument: {
            Statement: [Match.objectLike({ Principal: { Service: 'ecs-tasks.amazonaws.com' } })],
          },
        },
      }),
    ).find((id) => id.startsWith('TaskRole'));
    const taskStatements = policyStatements(extractor()).filter((s) =>
      JSON.stringify(extractor().toJSON().Resources[s.logicalId].Properties.Roles ?? []).includes(`"${taskRoleId}"`),
    );
    expect(taskStatements.map((s) => s.statement)).toEqual([
      {
        Effect: 'Allow',
        Action: 'firehose:PutRecordBatch',
        Resource: { 'Fn::ImportValue': expect.stringMatching(/^BtcEtlData:ExportsOutputFnGetAttDeliveryStream.*Arn/) },
      },
    ]);
  });

  it('allows no inbound traffic and only HTTPS out', () => {
    const groups = Object.values(extractor().findResources('AWS::EC2::SecurityGroup')).map((g) => g.Properties);
    expect(groups).toHaveLength(1);
    expect(groups[0].SecurityGroupIngress).toBeUndefined();
    expect(groups[0].SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    extractor().resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    extractor().resourceCountIs('AWS::EC2::NatGateway', 0);
  });
});
