import { CfnOutput, Duration, IgnoreMode, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { InfraAssets } from '../assets';
import type { InfraConfig } from '../infra.config';

export interface ExtractorStackProps extends StackProps {
  config: InfraConfig;
  image: InfraAssets['extractorImage'];
  deliveryStreamName: string;
  deliveryStreamArn: string;
}

/**
 * The extractor as one always-on Fargate task (arm64, 0.25 vCPU / 512 MiB, the smallest size) polling Coinbase and
 * sending NDJSON records to the delivery stream. Its task role may call `firehose:PutRecordBatch` on that stream only.
 * The image is built from apps/extractor's Dockerfile by `cdk deploy` (synthesis only stages the build context).
 */
export class ExtractorStack extends Stack {
  readonly service: ecs.FargateService;
  readonly taskRole: iam.Role;

  constructor(scope: Construct, id: string, props: ExtractorStackProps) {
    super(scope, id, props);
    const { config } = props;
    const name = `${config.namePrefix}-extractor`;

    // Public subnets and no NAT gateway: the task only calls out (Coinbase, Firehose) and a NAT gateway would cost
    // more than the task. No inbound rule anywhere.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      // Nothing is placed in the default security group; restricting it would add a custom-resource Lambda.
      restrictDefaultSecurityGroup: false,
    });
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'extractor: outbound HTTPS only (Coinbase REST/WebSocket, Firehose, ECR, CloudWatch Logs)',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS out');

    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, clusterName: name });

    this.taskRole = new iam.Role(this, 'TaskRole', {
      description: `${name}: put records into ${props.deliveryStreamName} only`,
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['firehose:PutRecordBatch'],
        resources: [props.deliveryStreamArn],
      }),
    );

    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: `/ecs/${name}`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: name,
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole: this.taskRole,
    });
    taskDefinition.addContainer('extractor', {
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
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'extractor' }),
      // ECS ignores the Dockerfile's HEALTHCHECK: the same probe of the ops server's /healthz, declared here so a
      // hung task is replaced and a failed rollout rolls back.
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))",
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(3),
        startPeriod: Duration.seconds(10),
        retries: 3,
      },
      // The spool lives under DATA_DIR=/data (the image's VOLUME): writable, on the task's ephemeral storage.
      readonlyRootFilesystem: false,
    });

    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: name,
      cluster,
      taskDefinition,
      desiredCount: config.extractorDesiredCount,
      assignPublicIp: true,
      securityGroups: [securityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      // Start the new task before stopping the old one: a short overlap gives duplicate records (deduplicated by
      // record_id downstream), a gap would lose seconds of prices for good.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
    });

    new CfnOutput(this, 'ClusterName', { value: cluster.clusterName, description: 'ECS cluster' });
    new CfnOutput(this, 'ServiceName', { value: this.service.serviceName, description: 'extractor service' });
  }
}
