import { Match } from 'aws-cdk-lib/assertions';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROOT } from '../assets';
import { findCfnLint, runCfnLint } from '../cfn-lint';
import { policyStatements, synthInfra, type SynthesizedInfra } from '../test/synth-infra';
import { EXTRACTOR_DRAIN_MS, EXTRACTOR_LOCK_WAIT_S, EXTRACTOR_STOP_TIMEOUT_S, EXTRACTOR_UID } from './extractor.stack';

let infra: SynthesizedInfra;
beforeAll(() => {
  infra = synthInfra({ namePrefix: 'btc-etl', extractorDesiredCount: '1' });
});
afterAll(() => infra.cleanup());
const extractor = () => infra.templates.extractor;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON
const containerOf = (template: SynthesizedInfra['templates']['extractor']): any =>
  Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0]?.Properties.ContainerDefinitions[0];
const envOf = (template: SynthesizedInfra['templates']['extractor']): Record<string, string> =>
  Object.fromEntries(containerOf(template).Environment.map((e: { Name: string; Value: string }) => [e.Name, e.Value]));

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
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
    });
  });

  it('never runs two writers: the old task stops before the new one starts', () => {
    extractor().hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({
        MinimumHealthyPercent: 0,
        MaximumPercent: 100,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
    });
  });

  it.each(['2', '10'])('refuses extractorDesiredCount=%s (one spool, one writer)', (count) => {
    expect(() => synthInfra({ extractorDesiredCount: count })).toThrow(/extractorDesiredCount/);
  });

  it(
    'keeps the spool on encrypted EFS through an access point owned by the container user, ' + 'mounted as SPOOL_DIR',
    () => {
      extractor().hasResourceProperties('AWS::EFS::FileSystem', {
        Encrypted: true,
        ThroughputMode: 'elastic',
        FileSystemPolicy: {
          Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
        },
      });
      extractor().hasResourceProperties('AWS::EFS::AccessPoint', {
        PosixUser: { Uid: String(EXTRACTOR_UID), Gid: String(EXTRACTOR_UID) },
        RootDirectory: {
          Path: '/extractor-spool',
          CreationInfo: { OwnerUid: String(EXTRACTOR_UID), OwnerGid: String(EXTRACTOR_UID), Permissions: '750' },
        },
      });
      extractor().hasResourceProperties('AWS::ECS::TaskDefinition', {
        Volumes: [
          {
            Name: 'spool',
            EFSVolumeConfiguration: Match.objectLike({
              TransitEncryption: 'ENABLED',
              AuthorizationConfig: Match.objectLike({ IAM: 'ENABLED' }),
            }),
          },
        ],
      });
      const container = containerOf(extractor());
      expect(container.MountPoints).toEqual([{ SourceVolume: 'spool', ContainerPath: '/spool', ReadOnly: false }]);
      expect(envOf(extractor())).toMatchObject({
        SPOOL_DIR: '/spool',
        SPOOL_LOCK_WAIT_S: String(EXTRACTOR_LOCK_WAIT_S),
        HOST: '0.0.0.0',
        METRICS_EMF: 'true',
      });
      extractor().hasResourceProperties('AWS::ECS::Service', { PlatformVersion: '1.4.0' });
    },
  );

  it('lets NFS reach the mount targets from the task security group only', () => {
    const ingress = Object.values(extractor().findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    expect(ingress).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 2049,
        ToPort: 2049,
        SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^SecurityGroup/), 'GroupId'] },
      }),
    ]);
    const mountTargets = Object.values(extractor().findResources('AWS::EFS::MountTarget'));
    expect(mountTargets.length).toBeGreaterThan(0);
    for (const target of mountTargets)
      expect(JSON.stringify(target.Properties.SecurityGroups)).toMatch(/SpoolFileSystemEfsSecurityGroup/);
  });

  it('drains within the stop timeout, and restarts a crashed container in place', () => {
    const container = containerOf(extractor());
    expect(container.StopTimeout).toBe(EXTRACTOR_STOP_TIMEOUT_S);
    expect(EXTRACTOR_STOP_TIMEOUT_S).toBeLessThanOrEqual(120); // Fargate's maximum
    const drainMs = Number(envOf(extractor()).SHUTDOWN_TIMEOUT_MS);
    expect(drainMs).toBe(EXTRACTOR_DRAIN_MS);
    // the app's own hard exit comes 1 s after its drain deadline: well before ECS's SIGKILL
    expect(drainMs + 1000).toBeLessThan(EXTRACTOR_STOP_TIMEOUT_S * 1000 - 10_000);
    expect(container.RestartPolicy).toEqual({ Enabled: true, IgnoredExitCodes: [0], RestartAttemptPeriod: 60 });
    // a new task may wait for the spool's lease before /healthz answers
    expect(container.HealthCheck.StartPeriod).toBeGreaterThan(EXTRACTOR_LOCK_WAIT_S);
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

  it(
    "builds the image from apps/extractor's Dockerfile for " + 'arm64 at deploy time (synth only stages the context)',
    () => {
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
    },
  );

  it('probes /healthz like the Dockerfile does, since ECS ignores HEALTHCHECK', () => {
    const container = Object.values(extractor().findResources('AWS::ECS::TaskDefinition'))[0]?.Properties
      .ContainerDefinitions[0];
    expect(container.HealthCheck).toMatchObject({ Interval: 15, Timeout: 3, Retries: 3 });
    expect(container.HealthCheck.Command.join(' ')).toMatch(/^CMD node -e .*\/healthz/);
  });

  it(
    'lets the task put records into that one stream and ' + 'mount its spool through the access point, nothing else',
    () => {
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
          Resource: {
            'Fn::ImportValue': expect.stringMatching(/^BtcEtlData:ExportsOutputFnGetAttDeliveryStream.*Arn/),
          },
        },
        {
          Effect: 'Allow',
          Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SpoolFileSystem/), 'Arn'] },
          Condition: {
            StringEquals: {
              'elasticfilesystem:AccessPointArn': expect.objectContaining({ 'Fn::Join': expect.anything() }),
            },
          },
        },
      ]);
    },
  );

  it('allows no inbound traffic to the task, and only HTTPS out plus NFS to its spool', () => {
    const groups = extractor().findResources('AWS::EC2::SecurityGroup');
    const taskGroup = Object.entries(groups).find(([id]) => id.startsWith('SecurityGroup'))?.[1]?.Properties;
    expect(Object.keys(groups)).toHaveLength(2); // the task's and the file system's
    expect(taskGroup.SecurityGroupIngress).toBeUndefined();
    expect(taskGroup.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    const egress = Object.values(extractor().findResources('AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties);
    expect(egress).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 2049,
        ToPort: 2049,
        DestinationSecurityGroupId: {
          'Fn::GetAtt': [expect.stringMatching(/^SpoolFileSystemEfsSecurityGroup/), 'GroupId'],
        },
      }),
    ]);
    extractor().resourceCountIs('AWS::EC2::NatGateway', 0);
    extractor().resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });
});

// private-nat (no public IP), and the cheapest safe shape: Spot with the task's own public IP (docs/cost.md)
describe.each([
  { capacity: 'fargate-spot', network: 'private-nat' },
  { capacity: 'fargate-spot', network: 'public-ip' },
])('ExtractorStack with extractorCapacity=$capacity, extractorNetwork=$network', ({ capacity, network }) => {
  let variant: SynthesizedInfra;
  beforeAll(() => {
    variant = synthInfra({ extractorCapacity: capacity, extractorNetwork: network });
  });
  afterAll(() => variant.cleanup());
  const template = () => variant.templates.extractor;

  it('passes cfn-lint', () => {
    const file = join(variant.outdir, variant.assembly.getStackByName(variant.stacks.extractor.stackName).templateFile);
    const result = runCfnLint([file], { command: findCfnLint() });
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });

  if (network === 'private-nat')
    it('runs the task in private subnets without a public IP, still one writer', () => {
      template().hasResourceProperties('AWS::ECS::Service', {
        NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
        DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 100 }),
      });
      const service = Object.values(template().findResources('AWS::ECS::Service'))[0]?.Properties;
      const subnets: { Ref: string }[] = service.NetworkConfiguration.AwsvpcConfiguration.Subnets;
      expect(subnets.length).toBeGreaterThan(0);
      for (const subnet of subnets) {
        expect(subnet.Ref).toMatch(/^Vpcprivate/);
        expect(template().toJSON().Resources[subnet.Ref].Properties.MapPublicIpOnLaunch).toBe(false);
      }
    });

  if (network === 'public-ip')
    it('runs the task in a public subnet with its own public IP, no NAT and no endpoint, still one writer', () => {
      template().hasResourceProperties('AWS::ECS::Service', {
        NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
        DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 100 }),
      });
      template().resourceCountIs('AWS::EC2::NatGateway', 0);
      template().resourceCountIs('AWS::EC2::VPCEndpoint', 0);
      // nothing can come in over that address: the default shape's spec above holds for this one too
      template().resourceCountIs('AWS::EC2::SecurityGroupIngress', 1); // NFS from the task, to the EFS mount targets
    });

  if (capacity === 'fargate-spot')
    it('runs on Fargate Spot (the cluster offers it, the service asks for it, no launch type)', () => {
      template().hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
        CapacityProviders: Match.arrayWith(['FARGATE_SPOT']),
      });
      template().hasResourceProperties('AWS::ECS::Service', {
        CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }],
        LaunchType: Match.absent(),
      });
    });

  if (network === 'private-nat')
    it('goes out through one NAT gateway and needs no VPC endpoint', () => {
      template().resourceCountIs('AWS::EC2::NatGateway', 1);
      template().resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    });
});
