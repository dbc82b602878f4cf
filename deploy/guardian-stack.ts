import {
  Aws,
  CfnOutput,
  CfnParameter,
  aws_cloudwatch as cloudwatch,
  Duration,
  aws_dynamodb as dynamodb,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_elasticache as elasticache,
  aws_elasticloadbalancingv2 as elbv2,
  Fn,
  aws_iam as iam,
  aws_kms as kms,
  aws_logs as logs,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  aws_s3 as s3,
  aws_secretsmanager as secretsmanager,
  aws_sns as sns,
  Validations,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { parseConfig } from '../src/config/load.ts';
import { SECRET_SETTINGS, SETTING_NAMES } from '../src/config/settings.ts';
import {
  TABLE_ATTRIBUTES,
  TABLE_BILLING_MODE,
  TABLE_INDEXES,
  TABLE_KEY_SCHEMA,
  TTL_ATTRIBUTE,
} from '../src/incidents/dynamo-table.ts';
import {
  BEDROCK_ACTIONS,
  INDEX_ACTIONS,
  METRICS_SIDECAR_ACTIONS,
  TABLE_ACTIONS,
} from './task-permissions.ts';

/** The port Guardian listens on inside the task (API, Slack endpoint, OTLP receiver). */
const GUARDIAN_PORT = 8080;
/** A non-default Redis port: scanners looking for 6379 find nothing. */
const REDIS_PORT = 6380;
/** The CloudWatch namespace the metrics sidecar writes Guardian's metrics to. */
export const METRICS_NAMESPACE = 'Guardian';

/** The secret settings a stack reads from Secrets Manager unless told otherwise (`-c secrets=`). */
export const DEFAULT_SECRETS = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET'] as const;

/**
 * Secret settings the stack makes itself: `REDIS_URL` (with the AUTH token of the Redis it
 * creates) and `GUARDIAN_LINK_SECRET` (generated: both replicas must sign links alike).
 */
export const STACK_SECRETS: readonly string[] = ['REDIS_URL', 'GUARDIAN_LINK_SECRET'];

/** What a deployment chooses; `deploy/app.ts` reads each from CDK context. */
export interface GuardianStackProps extends StackProps {
  /**
   * Secret settings the task reads from Secrets Manager (`guardian/<NAME>` secrets the stack
   * creates; put their values after the first deploy). The stack makes {@link STACK_SECRETS} itself.
   * @defaultValue {@link DEFAULT_SECRETS}
   */
  secrets?: readonly string[];
  /**
   * The Bedrock model or inference profile drafts use (`GUARDIAN_BEDROCK_MODEL`); the task role
   * may invoke this one only. @defaultValue Guardian's default model
   */
  bedrockModel?: string;
  /** Bedrock's region. @defaultValue the stack's region */
  bedrockRegion?: string;
  /** The metrics sidecar's image. @defaultValue a pinned AWS Distro for OpenTelemetry collector */
  collectorImage?: string;
  /** Signal-queue depth that raises the queue alarm. @defaultValue half the OTLP receiver's 429 depth */
  queueDepthAlarm?: number;
  /** Base URL people reach Guardian at (`GUARDIAN_PUBLIC_URL`), for links in Slack. */
  publicUrl?: string;
  /**
   * More plain settings for Guardian's container (`SLACK_CHANNEL`, `AIRFLOW_URL` …): any setting
   * Guardian reads except the secret ones and those the stack sets itself.
   */
  settings?: Readonly<Record<string, string>>;
  /** The VPC's address range. @defaultValue 10.40.0.0/16 */
  vpcCidr?: string;
}

/**
 * Guardian on ECS Fargate (ARM64): two tasks behind two load balancers (a public one for Slack's
 * requests, an internal one for the API and OTLP), the DynamoDB table of its incidents, Redis
 * for its queues, its secrets in Secrets Manager, and alarms on its own health.
 */
export class GuardianStack extends Stack {
  constructor(scope: Construct, id: string, props: GuardianStackProps = {}) {
    super(scope, id, props);
    const defaults = parseConfig({});
    const bedrockModel = props.bedrockModel ?? defaults.llm.bedrock.model;
    if (/[*?\s]/.test(bedrockModel)) {
      throw new Error(
        `bedrockModel: "${bedrockModel}" is not one model (no wildcards): the task may invoke that one only`,
      );
    }
    const bedrockRegion = props.bedrockRegion ?? Aws.REGION;
    const secretNames = [...new Set(props.secrets ?? DEFAULT_SECRETS)];
    for (const name of secretNames) {
      if (!SECRET_SETTINGS.includes(name) || STACK_SECRETS.includes(name)) {
        throw new Error(
          `secrets: ${name} is not a secret setting Guardian reads or the stack makes itself (one of ${SECRET_SETTINGS.filter((s) => !STACK_SECRETS.includes(s)).join(', ')})`,
        );
      }
    }

    const image = new CfnParameter(this, 'ImageUri', {
      type: 'String',
      description: "Guardian's container image (built from the repository's Dockerfile for linux/arm64)",
    });
    const certificate = new CfnParameter(this, 'CertificateArn', {
      type: 'String',
      description: "ACM certificate for the public load balancer's HTTPS listener (Slack's requests)",
      allowedPattern: '^arn:aws[a-z-]*:acm:.+',
    });

    // Network: private subnets for the tasks and Redis, one NAT gateway, flow logs.
    const vpcCidr = props.vpcCidr ?? '10.40.0.0/16';
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(vpcCidr),
      maxAzs: 2,
      natGateways: 1,
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', {
              retention: logs.RetentionDays.ONE_MONTH,
              removalPolicy: RemovalPolicy.DESTROY,
            }),
          ),
        },
      },
    });
    // DynamoDB through a gateway endpoint: no NAT traffic, no charge.
    vpc.addGatewayEndpoint('DynamoDbEndpoint', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });

    // The incident table, from the same layout the store creates it by.
    const table = new dynamodb.CfnTable(this, 'IncidentTable', {
      billingMode: TABLE_BILLING_MODE,
      attributeDefinitions: TABLE_ATTRIBUTES.map((a) => ({
        attributeName: a.AttributeName,
        attributeType: a.AttributeType,
      })),
      keySchema: TABLE_KEY_SCHEMA.map((k) => ({ attributeName: k.AttributeName, keyType: k.KeyType })),
      globalSecondaryIndexes: TABLE_INDEXES.map((i) => ({
        indexName: i.IndexName,
        keySchema: i.KeySchema.map((k) => ({ attributeName: k.AttributeName, keyType: k.KeyType })),
        projection: { projectionType: i.Projection.ProjectionType },
      })),
      timeToLiveSpecification: { attributeName: TTL_ATTRIBUTE, enabled: true },
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtectionEnabled: true,
      sseSpecification: { sseEnabled: true },
    });
    table.applyRemovalPolicy(RemovalPolicy.RETAIN);

    // Secrets: one per secret setting; values are put by hand (docs/deploy-ecs.md).
    const appSecrets: Record<string, ecs.Secret> = {};
    for (const name of secretNames) {
      const secret = new secretsmanager.Secret(this, `Secret${pascal(name)}`, {
        secretName: `guardian/${name}`,
        description: `Guardian's ${name}; put its value with aws secretsmanager put-secret-value`,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      appSecrets[name] = ecs.Secret.fromSecretsManager(secret);
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Issued by another system (Slack, Anthropic, Airflow, Loki): rotated there, then put here by hand',
      });
    }

    // Redis for BullMQ: TLS in transit, AUTH token from Secrets Manager, one replica, noeviction.
    const redisToken = new secretsmanager.Secret(this, 'RedisAuthToken', {
      secretName: 'guardian/redis-auth-token',
      description: "The AUTH token of Guardian's Redis",
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const redisSg = new ec2.SecurityGroup(this, 'RedisSecurityGroup', {
      vpc,
      description: 'Guardian Redis, reachable from Guardian tasks only',
      allowAllOutbound: false,
    });
    const redisSubnets = new elasticache.CfnSubnetGroup(this, 'RedisSubnets', {
      description: "Guardian's Redis subnets",
      subnetIds: vpc.privateSubnets.map((s) => s.subnetId),
    });
    const redisParams = new elasticache.CfnParameterGroup(this, 'RedisParameters', {
      cacheParameterGroupFamily: 'redis7',
      description: 'BullMQ needs noeviction: an evicted job key is a lost job',
      properties: { 'maxmemory-policy': 'noeviction' },
    });
    const redis = new elasticache.CfnReplicationGroup(this, 'Redis', {
      replicationGroupDescription: "Guardian's queues, leases and detector state",
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: 'cache.t4g.small',
      numNodeGroups: 1,
      replicasPerNodeGroup: 1,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken: redisToken.secretValue.unsafeUnwrap(),
      port: REDIS_PORT,
      cacheSubnetGroupName: redisSubnets.ref,
      cacheParameterGroupName: redisParams.ref,
      securityGroupIds: [redisSg.securityGroupId],
      snapshotRetentionLimit: 1,
    });
    // A dynamic reference, resolved by CloudFormation: the token never appears in the template.
    const redisUrl = new secretsmanager.Secret(this, 'RedisUrl', {
      secretName: 'guardian/REDIS_URL',
      description: "Guardian's REDIS_URL (rediss://, with the AUTH token)",
      secretStringValue: SecretValue.unsafePlainText(
        Fn.join('', [
          'rediss://:',
          redisToken.secretValue.unsafeUnwrap(),
          '@',
          redis.attrPrimaryEndPointAddress,
          ':',
          redis.attrPrimaryEndPointPort,
        ]),
      ),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    appSecrets.REDIS_URL = ecs.Secret.fromSecretsManager(redisUrl);
    // Incident-page links: both tasks sign and check them with this one secret.
    const linkSecret = new secretsmanager.Secret(this, 'LinkSecret', {
      secretName: 'guardian/GUARDIAN_LINK_SECRET',
      description: "Signs Guardian's incident-page links (the same on every task)",
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    appSecrets.GUARDIAN_LINK_SECRET = ecs.Secret.fromSecretsManager(linkSecret);
    Validations.of(linkSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Rotating it invalidates the links already in Slack: rotated by hand (docs/deploy-ecs.md)',
    });
    for (const secret of [redisToken, redisUrl]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'A new AUTH token must reach ElastiCache and REDIS_URL together: rotated by the documented procedure',
      });
    }

    // Logs: Guardian's own, and the metrics sidecar's embedded-metric-format events.
    const appLogs = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const metricLogs = new logs.LogGroup(this, 'MetricLogs', {
      retention: logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Task role: exactly the calls Guardian's code makes (test/deploy/task-permissions.test.ts).
    const taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: "Guardian's task: its table, its Bedrock model, its metrics log group",
    });
    const tableArn = table.attrArn;
    taskRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'IncidentTable', actions: [...TABLE_ACTIONS], resources: [tableArn] }),
    );
    taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'IncidentTableIndexes',
        actions: [...INDEX_ACTIONS],
        resources: TABLE_INDEXES.map((i) => `${tableArn}/index/${i.IndexName}`),
      }),
    );
    for (const statement of bedrockStatements(bedrockModel, bedrockRegion)) taskRole.addToPolicy(statement);
    const profile = inferenceProfile(bedrockModel);
    if (profile) {
      // Only this finding: any other wildcard in the role still fails the check.
      Validations.of(taskRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${profile.foundationModel}]`,
        reason:
          'An inference profile routes to its foundation model in any of its regions; the statement holds only under bedrock:InferenceProfileArn = the configured profile',
      });
    }
    taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'MetricsSidecar',
        actions: [...METRICS_SIDECAR_ACTIONS],
        // The group's ARN (…:log-group:name:*) covers its streams.
        resources: [metricLogs.logGroupArn],
      }),
    );

    // Task definition: Guardian, and the collector that turns its OTLP metrics into CloudWatch's.
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: 512,
      memoryLimitMiB: 1024,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole,
    });
    taskDefinition.addContainer('guardian', {
      image: ecs.ContainerImage.fromRegistry(image.valueAsString),
      essential: true,
      portMappings: [{ containerPort: GUARDIAN_PORT }],
      logging: ecs.LogDrivers.awsLogs({ logGroup: appLogs, streamPrefix: 'guardian' }),
      environment: {
        GUARDIAN_ENV: 'production',
        GUARDIAN_STORE: 'dynamodb',
        GUARDIAN_TABLE: table.ref,
        GUARDIAN_CREATE_TABLE: 'false',
        AWS_REGION: Aws.REGION,
        PORT: String(GUARDIAN_PORT),
        GUARDIAN_LLM_PROVIDER: 'bedrock',
        GUARDIAN_BEDROCK_MODEL: bedrockModel,
        GUARDIAN_BEDROCK_REGION: bedrockRegion,
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:4318/v1/metrics',
        OTEL_SERVICE_NAME: 'guardian',
        ...(props.publicUrl ? { GUARDIAN_PUBLIC_URL: props.publicUrl } : {}),
        ...extraSettings(props.settings ?? {}),
      },
      secrets: appSecrets,
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${GUARDIAN_PORT}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      stopTimeout: Duration.seconds(60),
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'Plain settings only (table name, model, endpoints); every secret setting comes from secrets[].valueFrom',
    });
    taskDefinition.addContainer('metrics', {
      image: ecs.ContainerImage.fromRegistry(
        props.collectorImage ?? 'public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0',
      ),
      // Guardian runs on without it; the dead-man alarm notices the silence.
      essential: false,
      logging: ecs.LogDrivers.awsLogs({ logGroup: appLogs, streamPrefix: 'metrics' }),
      environment: { AOT_CONFIG_CONTENT: collectorConfig(metricLogs.logGroupName) },
      memoryReservationMiB: 64,
    });

    // Service: two tasks (one leads the correlation, one stands by), rolled back if a deploy fails.
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: 2,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      healthCheckGracePeriod: Duration.seconds(60),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    redisSg.addIngressRule(
      service.connections.securityGroups[0]!,
      ec2.Port.tcp(REDIS_PORT),
      'Guardian tasks',
    );

    // Both load balancers log their requests here, for 90 days.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket holds access logs itself; logging its own accesses would log the logging',
    });

    // Public load balancer: Slack's requests only (/slack/*), over HTTPS.
    const publicLb = new elbv2.ApplicationLoadBalancer(this, 'PublicLoadBalancer', {
      vpc,
      internetFacing: true,
      dropInvalidHeaderFields: true,
    });
    publicLb.logAccessLogs(accessLogs, 'public');
    Validations.of(publicLb).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: "Slack's servers call /slack/events from the internet; only /slack/* is forwarded",
    });
    const https = publicLb.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromArn(certificate.valueAsString)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      defaultAction: elbv2.ListenerAction.fixedResponse(404, {
        contentType: 'text/plain',
        messageBody: 'not found',
      }),
    });
    https.addTargets('Slack', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/slack/*'])],
      ...targetOptions(service),
    });

    // Internal load balancer: the HTTP API and the OTLP receiver, from inside the VPC.
    const internalLb = new elbv2.ApplicationLoadBalancer(this, 'InternalLoadBalancer', {
      vpc,
      internetFacing: false,
      dropInvalidHeaderFields: true,
    });
    internalLb.logAccessLogs(accessLogs, 'internal');
    const internal = internalLb.addListener('Http', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
    });
    internal.connections.allowDefaultPortFrom(ec2.Peer.ipv4(vpcCidr), 'the VPC');
    internal.addTargets('Api', targetOptions(service));

    // Alarms on Guardian's own health, from the metrics it exports (src/telemetry/metrics.ts).
    const alarms = new sns.Topic(this, 'Alarms', {
      displayName: "Guardian's own health",
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    const queueDepthAlarm = props.queueDepthAlarm ?? Math.floor(defaults.otlp.maxQueueDepth / 2);
    insightsAlarm(this, 'Silent', {
      description: 'Guardian stopped reporting: no replica exported guardian.queue.depth for 5 minutes',
      query: `SELECT COUNT("guardian.queue.depth") FROM "${METRICS_NAMESPACE}"`,
      comparison: 'LessThanThreshold',
      threshold: 1,
      periods: 5,
      missing: 'breaching',
      topic: alarms,
    });
    insightsAlarm(this, 'QueueDepth', {
      description: `Signals wait: the signal queue held more than ${queueDepthAlarm} jobs for 3 of 5 minutes`,
      query: `SELECT MAX("guardian.queue.depth") FROM "${METRICS_NAMESPACE}" WHERE queue = 'signals'`,
      comparison: 'GreaterThanThreshold',
      threshold: queueDepthAlarm,
      periods: 5,
      datapoints: 3,
      missing: 'notBreaching',
      topic: alarms,
    });
    insightsAlarm(this, 'DeadLetters', {
      description: 'Jobs failed for good (dead letters): see the "job failed for good" log lines',
      query: `SELECT SUM("guardian.queue.jobs") FROM "${METRICS_NAMESPACE}" WHERE outcome = 'dead_letter'`,
      comparison: 'GreaterThanThreshold',
      threshold: 0,
      periods: 1,
      period: 300,
      missing: 'notBreaching',
      topic: alarms,
    });

    new CfnOutput(this, 'SlackUrl', {
      description: "Slack app's request URL (point a DNS name with the certificate's name at it)",
      value: `https://${publicLb.loadBalancerDnsName}/slack/events`,
    });
    new CfnOutput(this, 'InternalUrl', {
      description: 'API and OTLP receiver (http://…/v1/metrics), inside the VPC',
      value: `http://${internalLb.loadBalancerDnsName}`,
    });
    new CfnOutput(this, 'TableName', { value: table.ref });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topicArn });
    new CfnOutput(this, 'SecretNames', {
      description: 'Put the value of each before Guardian can use it',
      value: secretNames.map((n) => `guardian/${n}`).join(','),
    });
  }
}

/** Settings the stack itself decides: a deployment cannot override them. */
export const STACK_SETTINGS = new Set([
  'GUARDIAN_ENV',
  'GUARDIAN_STORE',
  'GUARDIAN_TABLE',
  'GUARDIAN_CREATE_TABLE',
  'DYNAMODB_ENDPOINT',
  'AWS_REGION',
  'PORT',
  'HOST',
  'GUARDIAN_LLM_PROVIDER',
  'GUARDIAN_BEDROCK_MODEL',
  'GUARDIAN_BEDROCK_REGION',
  'GUARDIAN_PUBLIC_URL',
]);

/** The deployment's plain settings, checked: names Guardian reads, never a secret one. */
function extraSettings(settings: Readonly<Record<string, string>>): Record<string, string> {
  for (const [name, value] of Object.entries(settings)) {
    if (SECRET_SETTINGS.includes(name)) {
      throw new Error(`settings: ${name} is a secret: list it in secrets so it comes from Secrets Manager`);
    }
    if (STACK_SETTINGS.has(name)) throw new Error(`settings: ${name} is set by the stack`);
    if (!SETTING_NAMES.includes(name)) throw new Error(`settings: ${name} is not a setting Guardian reads`);
    if (typeof value !== 'string') throw new Error(`settings: ${name} must be a string`);
  }
  return { ...settings };
}

/** How both load balancers reach the service and check it: `/readyz` on Guardian's port. */
function targetOptions(service: ecs.FargateService): elbv2.AddApplicationTargetsProps {
  return {
    port: GUARDIAN_PORT,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targets: [service.loadBalancerTarget({ containerName: 'guardian', containerPort: GUARDIAN_PORT })],
    healthCheck: {
      path: '/readyz',
      healthyHttpCodes: '200',
      interval: Duration.seconds(15),
      timeout: Duration.seconds(5),
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 3,
    },
    // Guardian drains on SIGTERM; ECS waits this long for in-flight requests.
    deregistrationDelay: Duration.seconds(30),
  };
}

/**
 * `bedrock:InvokeModel` on the configured model only. An inference profile (`global.`, `us.`,
 * `eu.`, `apac.` …) needs the profile and the foundation model it routes to, in whichever region
 * the profile sends the request; the condition limits the latter to calls through that profile.
 */
function bedrockStatements(model: string, region: string): iam.PolicyStatement[] {
  if (model.startsWith('arn:')) {
    return [
      new iam.PolicyStatement({ sid: 'BedrockModel', actions: [...BEDROCK_ACTIONS], resources: [model] }),
    ];
  }
  const profile = inferenceProfile(model);
  if (!profile) {
    return [
      new iam.PolicyStatement({
        sid: 'BedrockModel',
        actions: [...BEDROCK_ACTIONS],
        resources: [`arn:${Aws.PARTITION}:bedrock:${region}::foundation-model/${model}`],
      }),
    ];
  }
  const profileArn = `arn:${Aws.PARTITION}:bedrock:${region}:${Aws.ACCOUNT_ID}:inference-profile/${model}`;
  const foundation = profile.foundationModel;
  return [
    new iam.PolicyStatement({
      sid: 'BedrockProfile',
      actions: [...BEDROCK_ACTIONS],
      resources: [profileArn],
    }),
    new iam.PolicyStatement({
      sid: 'BedrockProfileModel',
      actions: [...BEDROCK_ACTIONS],
      resources: [
        `arn:${Aws.PARTITION}:bedrock:*::foundation-model/${foundation}`,
        `arn:${Aws.PARTITION}:bedrock:::foundation-model/${foundation}`,
      ],
      conditions: { StringEquals: { 'bedrock:InferenceProfileArn': profileArn } },
    }),
  ];
}

/** A cross-region inference profile id (`global.`, `us.`, `eu.` … before a model id), or undefined. */
function inferenceProfile(model: string): { foundationModel: string } | undefined {
  const match = /^(global|us|us-gov|eu|apac|jp|au|ca)\.(.+)$/.exec(model);
  return match ? { foundationModel: match[2]! } : undefined;
}

/**
 * The collector's configuration: OTLP/HTTP on the task's loopback in, CloudWatch embedded metric
 * format out, each metric keeping its OTLP name and its attributes as dimensions.
 */
function collectorConfig(logGroupName: string): string {
  return JSON.stringify({
    receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:4318' } } } },
    processors: { batch: { timeout: '30s' } },
    exporters: {
      awsemf: {
        namespace: METRICS_NAMESPACE,
        log_group_name: logGroupName,
        dimension_rollup_option: 'NoDimensionRollup',
      },
    },
    service: {
      pipelines: { metrics: { receivers: ['otlp'], processors: ['batch'], exporters: ['awsemf'] } },
    },
  });
}

interface InsightsAlarm {
  description: string;
  /** A CloudWatch Metrics Insights query: it matches the metric whatever dimensions it carries. */
  query: string;
  comparison: 'LessThanThreshold' | 'GreaterThanThreshold';
  threshold: number;
  periods: number;
  datapoints?: number;
  /** Seconds. @defaultValue 60 */
  period?: number;
  missing: 'breaching' | 'notBreaching';
  topic: sns.ITopic;
}

function insightsAlarm(scope: Construct, id: string, a: InsightsAlarm): cloudwatch.CfnAlarm {
  return new cloudwatch.CfnAlarm(scope, `${id}Alarm`, {
    alarmDescription: a.description,
    comparisonOperator: a.comparison,
    threshold: a.threshold,
    evaluationPeriods: a.periods,
    datapointsToAlarm: a.datapoints ?? a.periods,
    treatMissingData: a.missing,
    metrics: [{ id: 'q', expression: a.query, period: a.period ?? 60, returnData: true }],
    alarmActions: [a.topic.topicArn],
    okActions: [a.topic.topicArn],
  });
}

/** `SLACK_BOT_TOKEN` → `SlackBotToken`, for construct ids. */
function pascal(name: string): string {
  return name
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}
