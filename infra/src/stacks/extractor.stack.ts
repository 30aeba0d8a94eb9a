import { CfnOutput, Duration, IgnoreMode, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { InfraAssets } from '../assets';
import type { InfraConfig } from '../infra.config';
import { pipelineNames } from '../pipeline-names';

export interface ExtractorStackProps extends StackProps {
  config: InfraConfig;
  image: InfraAssets['extractorImage'];
  deliveryStreamName: string;
  deliveryStreamArn: string;
}

/** The task's size: the smallest Fargate size (0.25 vCPU, 512 MiB), arm64. */
export const EXTRACTOR_TASK = { cpu: 256, memoryMiB: 512 } as const;

/**
 * ECS waits this long after SIGTERM before SIGKILL: Fargate's maximum, and Fargate Spot's interruption notice.
 * The app's drain deadline (`SHUTDOWN_TIMEOUT_MS`) is {@link EXTRACTOR_DRAIN_MS}, well inside it.
 */
export const EXTRACTOR_STOP_TIMEOUT_S = 120;
/** The app's drain deadline: its own hard exit comes 1 s after it, leaving ~30 s of the stop timeout unused. */
export const EXTRACTOR_DRAIN_MS = 90_000;
/** The image's user (`node` in node:22-slim): the EFS access point writes as it. */
export const EXTRACTOR_UID = 1000;
/** Where the spool's EFS access point is mounted in the container (`SPOOL_DIR`). */
export const EXTRACTOR_SPOOL_PATH = '/spool';
/**
 * How long a new task waits for the spool's lease (`SPOOL_LOCK_WAIT_S`): longer than the lease's stale timeout
 * (30 s), so a task that replaces one that vanished without releasing takes the spool over instead of exit-looping.
 */
export const EXTRACTOR_LOCK_WAIT_S = 60;

/**
 * The extractor as one always-on Fargate task (arm64, 0.25 vCPU / 512 MiB) polling Coinbase and sending NDJSON
 * records to the delivery stream, with its spool on EFS so unacknowledged ticks outlive the task:
 * - EFS: encrypted at rest and in transit, IAM-authorised through one access point owned by the container's uid,
 *   mount targets reachable only from the task's security group.
 * - One writer, always: desired count 0 or 1, and deployments stop the old task before starting the new one
 *   (`minHealthyPercent: 0`, `maxHealthyPercent: 100`); the app's lease on the spool refuses any second writer.
 * - A crash restarts the container in place (ECS restart policy), a stop drains within the stop timeout.
 * - Context `extractorCapacity` (`fargate` | `fargate-spot`) and `extractorNetwork` (`public-ip` | `private-nat`)
 *   choose the shapes docs/cost.md compares; the cheapest safe one is `extractorCapacity=fargate-spot` with the
 *   default `public-ip`.
 * The image is built from apps/extractor's Dockerfile by `cdk deploy` (synthesis only stages the build context).
 */
export class ExtractorStack extends Stack {
  readonly service: ecs.FargateService;
  readonly taskRole: iam.Role;
  readonly fileSystem: efs.FileSystem;

  constructor(scope: Construct, id: string, props: ExtractorStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { extractorCluster, extractorService: name } = pipelineNames(config.namePrefix);
    const network = config.extractorNetwork;
    const publicIp = network === 'public-ip';

    // public-ip: no NAT, the task's own public IPv4 address (the security group lets nothing in). private-nat: the
    // task in a private subnet behind one NAT gateway, not one per AZ (one task; an AZ outage stops polling either
    // way, and the gap shows in `gaps` and is backfilled). No VPC-endpoints-only shape: Coinbase is on the internet.
    const taskSubnetType = publicIp ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS;
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: network === 'private-nat' ? 1 : 0,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        ...(publicIp ? [] : [{ name: 'private', subnetType: taskSubnetType, cidrMask: 24 }]),
      ],
      // Nothing is placed in the default security group; restricting it would add a custom-resource Lambda.
      restrictDefaultSecurityGroup: false,
    });
    const taskSubnets: ec2.SubnetSelection = { subnetType: taskSubnetType };

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'extractor: outbound HTTPS (Coinbase, Firehose, ECR, CloudWatch Logs) and NFS to its spool only',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS out');

    // The spool's home: it outlives the task, so "spooled ticks are replayed at the next start" holds on AWS.
    this.fileSystem = new efs.FileSystem(this, 'SpoolFileSystem', {
      vpc,
      vpcSubnets: taskSubnets,
      encrypted: true,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      // billed per GB moved (~1.3 GB/month of ticks and fsyncs at 1 Hz): cheaper than a provisioned floor
      throughputMode: efs.ThroughputMode.ELASTIC,
      // a spool holds minutes of data; what it holds is in the raw bucket once delivered (no backups to pay for)
      enableAutomaticBackups: false,
      // an explicit policy: nothing anonymous, TLS only; the task role's identity policy grants the mount
      fileSystemPolicy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'DenyWithoutTls',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ['*'],
            conditions: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ],
      }),
      // deleting the stack deletes the spool: stop the service first (its SIGTERM drain empties it)
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // NFS from the task's security group only (and the task may reach the mount targets and nothing else on 2049)
    this.fileSystem.connections.allowDefaultPortFrom(securityGroup, 'NFS from the extractor task');
    const accessPoint = this.fileSystem.addAccessPoint('SpoolAccessPoint', {
      path: '/extractor-spool',
      posixUser: { uid: String(EXTRACTOR_UID), gid: String(EXTRACTOR_UID) },
      createAcl: { ownerUid: String(EXTRACTOR_UID), ownerGid: String(EXTRACTOR_UID), permissions: '750' },
    });

    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      clusterName: extractorCluster,
      enableFargateCapacityProviders: config.extractorCapacity === 'fargate-spot',
    });

    this.taskRole = new iam.Role(this, 'TaskRole', {
      description: `${name}: put records into ${props.deliveryStreamName}, mount its spool`,
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['firehose:PutRecordBatch'],
        resources: [props.deliveryStreamArn],
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
        resources: [this.fileSystem.fileSystemArn],
        conditions: { StringEquals: { 'elasticfilesystem:AccessPointArn': accessPoint.accessPointArn } },
      }),
    );

    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: `/ecs/${name}`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: name,
      cpu: EXTRACTOR_TASK.cpu,
      memoryLimitMiB: EXTRACTOR_TASK.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole: this.taskRole,
      volumes: [
        {
          name: 'spool',
          efsVolumeConfiguration: {
            fileSystemId: this.fileSystem.fileSystemId,
            transitEncryption: 'ENABLED',
            authorizationConfig: { accessPointId: accessPoint.accessPointId, iam: 'ENABLED' },
          },
        },
      ],
    });
    const container = taskDefinition.addContainer('extractor', {
      // fromAsset only copies the build context into the cloud assembly at synth time; Docker runs at deploy.
      image: ecs.ContainerImage.fromAsset(props.image.context, {
        file: props.image.dockerfile,
        exclude: props.image.exclude,
        ignoreMode: IgnoreMode.DOCKER,
        platform: Platform.LINUX_ARM64,
      }),
      essential: true,
      environment: {
        SINK: 'firehose',
        FIREHOSE_STREAM_NAME: props.deliveryStreamName,
        AWS_REGION: this.region,
        SPOOL_DIR: EXTRACTOR_SPOOL_PATH,
        SPOOL_LOCK_WAIT_S: String(EXTRACTOR_LOCK_WAIT_S),
        SHUTDOWN_TIMEOUT_MS: String(EXTRACTOR_DRAIN_MS),
        // health checks come from the ECS agent over the task's network: listen beyond loopback
        HOST: '0.0.0.0',
        METRICS_EMF: 'true',
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'extractor' }),
      // ECS ignores the Dockerfile's HEALTHCHECK: the same probe of the ops server's /healthz, declared here so a
      // hung task is replaced and a failed rollout rolls back.
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/healthz')" +
            '.then(r=>process.exit(r.ok?0:1),()=>process.exit(1))',
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(3),
        // a new task may wait up to SPOOL_LOCK_WAIT_S for the spool's lease before it serves /healthz
        startPeriod: Duration.seconds(EXTRACTOR_LOCK_WAIT_S + 30),
        retries: 3,
      },
      stopTimeout: Duration.seconds(EXTRACTOR_STOP_TIMEOUT_S),
      // A crash (exit 1: a dead source, an uncaught error) restarts the container inside the same task, with
      // the same spool; exit 0 only follows SIGTERM. ECS allows one restart per period (minimum 60 s).
      enableRestartPolicy: true,
      restartIgnoredExitCodes: [0],
      restartAttemptPeriod: Duration.seconds(60),
      // DATA_DIR=/data (the image's VOLUME) stays writable for the CLI tools run in the container; the spool is on EFS
      readonlyRootFilesystem: false,
    });
    container.addMountPoints({ sourceVolume: 'spool', containerPath: EXTRACTOR_SPOOL_PATH, readOnly: false });

    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: name,
      cluster,
      taskDefinition,
      desiredCount: config.extractorDesiredCount,
      assignPublicIp: publicIp,
      securityGroups: [securityGroup],
      vpcSubnets: taskSubnets,
      // EFS volumes need platform 1.4.0+ (LATEST is 1.4.0 today), Spot on arm64 too
      platformVersion: ecs.FargatePlatformVersion.VERSION1_4,
      // Never two writers: the old task stops (draining into the spool) before the new one starts. The seconds
      // in between show up as missed ticks (`gaps`) and are backfilled; two writers could lose data.
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      ...(config.extractorCapacity === 'fargate-spot'
        ? { capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }
        : {}),
    });

    new CfnOutput(this, 'ClusterName', { value: cluster.clusterName, description: 'ECS cluster' });
    new CfnOutput(this, 'ServiceName', { value: this.service.serviceName, description: 'extractor service' });
    new CfnOutput(this, 'SpoolFileSystemId', {
      value: this.fileSystem.fileSystemId,
      description: "EFS file system holding the extractor's spool",
    });
  }
}
