import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { SECRET_SETTINGS, SETTING_NAMES } from '../../src/config/settings.ts';
import { TABLE_INDEXES, TABLE_KEY_SCHEMA, TTL_ATTRIBUTE } from '../../src/incidents/dynamo-table.ts';
import { resourcesOf, synthGuardian, type Template } from '../support/ecs-template.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

interface Container {
  Name: string;
  Essential?: boolean;
  Environment?: { Name: string; Value: unknown }[];
  Secrets?: { Name: string; ValueFrom: unknown }[];
  HealthCheck?: { Command: string[] };
}

function one(template: Template, type: string): Record<string, unknown> {
  const found = resourcesOf(template, type);
  expect(found, type).toHaveLength(1);
  return found[0]![1];
}

/** Names of the metrics Guardian's code creates (src/telemetry and where instruments are made). */
function exportedMetricNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        const text = readFileSync(p, 'utf8');
        for (const m of text.matchAll(
          /create(?:Counter|UpDownCounter|Histogram|Gauge|ObservableGauge)\(\s*'([^']+)'/g,
        ))
          names.add(m[1]!);
      }
    }
  };
  walk(path.join(root, 'src'));
  return names;
}

describe('npm run -s synth:ecs', () => {
  let template: Template;
  let guardian: Container;
  beforeAll(async () => {
    const { stdout } = await run('npm', ['run', '-s', 'synth:ecs'], {
      cwd: root,
      maxBuffer: 32 * 1024 * 1024,
      timeout: 120_000,
    });
    template = JSON.parse(stdout) as Template;
    const task = one(template, 'AWS::ECS::TaskDefinition');
    guardian = (task.ContainerDefinitions as Container[]).find((c) => c.Name === 'guardian')!;
  }, 180_000);

  it('prints a template with a Fargate task on ARM64 and two tasks behind a rolling, self-reverting deploy', () => {
    const task = one(template, 'AWS::ECS::TaskDefinition');
    expect(task.RequiresCompatibilities).toEqual(['FARGATE']);
    expect(task.RuntimePlatform).toEqual({ CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
    const service = one(template, 'AWS::ECS::Service');
    expect(service.DesiredCount).toBe(2);
    expect(service.LaunchType).toBe('FARGATE');
    expect(service.DeploymentConfiguration).toMatchObject({
      DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      MinimumHealthyPercent: 100,
    });
    expect(guardian.Essential).toBe(true);
    expect(guardian.HealthCheck?.Command.join(' ')).toContain('/healthz');
  });

  it('sends Slack (public) and the API (internal) through load balancers that check /readyz', () => {
    const groups = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(groups).toHaveLength(2);
    for (const [, g] of groups)
      expect(g).toMatchObject({ HealthCheckPath: '/readyz', Port: 8080, TargetType: 'ip' });
    const lbs = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer').map(([, lb]) => lb.Scheme);
    expect(lbs.sort()).toEqual(['internal', 'internet-facing']);
    const [[, rule]] = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::ListenerRule') as [
      [string, Record<string, unknown>],
    ];
    expect(JSON.stringify(rule.Conditions)).toContain('/slack/*');
    const service = one(template, 'AWS::ECS::Service');
    expect(service.LoadBalancers as unknown[]).toHaveLength(2);
  });

  it('runs in production mode on DynamoDB and Redis, every secret from Secrets Manager', () => {
    const env = Object.fromEntries((guardian.Environment ?? []).map((e) => [e.Name, e.Value]));
    expect(env).toMatchObject({
      GUARDIAN_ENV: 'production',
      GUARDIAN_STORE: 'dynamodb',
      GUARDIAN_LLM_PROVIDER: 'bedrock',
    });
    for (const name of Object.keys(env)) {
      expect(SECRET_SETTINGS as readonly string[], `${name} is a plain value`).not.toContain(name);
      // Every variable is one Guardian reads, or the telemetry SDK's.
      if (!name.startsWith('OTEL_')) expect(SETTING_NAMES, name).toContain(name);
    }
    const secrets = guardian.Secrets ?? [];
    expect(secrets.map((s) => s.Name).sort()).toEqual([
      'GUARDIAN_LINK_SECRET',
      'REDIS_URL',
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
    ]);
    const secretIds = new Set(resourcesOf(template, 'AWS::SecretsManager::Secret').map(([id]) => id));
    for (const s of secrets) expect(secretIds).toContain((s.ValueFrom as { Ref: string }).Ref);
    // No secret value is in the template: generated or resolved by CloudFormation.
    const text = JSON.stringify(template);
    expect(text).not.toMatch(/xox[bp]-/);
    for (const [, s] of resourcesOf(template, 'AWS::SecretsManager::Secret')) {
      if (s.SecretString !== undefined)
        expect(JSON.stringify(s.SecretString)).toContain('{{resolve:secretsmanager:');
    }
  });

  it('reads other secret settings when the context names them, and refuses a setting that is not one', () => {
    const t = synthGuardian({ secrets: 'SLACK_BOT_TOKEN,AIRFLOW_PASSWORD' });
    const task = one(t, 'AWS::ECS::TaskDefinition');
    const c = (task.ContainerDefinitions as Container[]).find((x) => x.Name === 'guardian')!;
    expect(c.Secrets!.map((s) => s.Name).sort()).toEqual([
      'AIRFLOW_PASSWORD',
      'GUARDIAN_LINK_SECRET',
      'REDIS_URL',
      'SLACK_BOT_TOKEN',
    ]);
    expect(() => synthGuardian({ secrets: 'SLACK_CHANNEL' })).toThrow(
      /SLACK_CHANNEL is not a secret setting/,
    );
  });

  it('takes more plain settings from the context, never a secret one or one the stack decides', () => {
    const t = synthGuardian({
      settings: JSON.stringify({ SLACK_CHANNEL: '#lakehouse', AIRFLOW_URL: 'http://airflow:8080' }),
    });
    const task = one(t, 'AWS::ECS::TaskDefinition');
    const c = (task.ContainerDefinitions as Container[]).find((x) => x.Name === 'guardian')!;
    const env = Object.fromEntries((c.Environment ?? []).map((e) => [e.Name, e.Value]));
    expect(env).toMatchObject({ SLACK_CHANNEL: '#lakehouse', AIRFLOW_URL: 'http://airflow:8080' });
    expect(() => synthGuardian({ settings: '{"SLACK_BOT_TOKEN":"xoxb-1"}' })).toThrow(
      /SLACK_BOT_TOKEN is a secret: list it in secrets/,
    );
    expect(() => synthGuardian({ settings: '{"GUARDIAN_STORE":"embedded"}' })).toThrow(/set by the stack/);
    expect(() => synthGuardian({ settings: '{"SLACK_CHANEL":"#x"}' })).toThrow(
      /SLACK_CHANEL is not a setting/,
    );
    expect(() => synthGuardian({ settings: 'SLACK_CHANNEL=#x' })).toThrow(/context settings: not JSON/);
  });

  it('defines Redis with TLS in transit and an AUTH token from Secrets Manager, and noeviction', () => {
    const redis = one(template, 'AWS::ElastiCache::ReplicationGroup');
    expect(redis).toMatchObject({
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      AutomaticFailoverEnabled: true,
    });
    expect(JSON.stringify(redis.AuthToken)).toContain('{{resolve:secretsmanager:');
    const params = one(template, 'AWS::ElastiCache::ParameterGroup');
    expect(params.Properties).toEqual({ 'maxmemory-policy': 'noeviction' });
    const [, url] = resourcesOf(template, 'AWS::SecretsManager::Secret').find(([id]) =>
      id.startsWith('RedisUrl'),
    )!;
    expect(JSON.stringify(url.SecretString)).toContain('rediss://:');
  });

  it('defines the table from the store’s own layout, with TTL, point-in-time recovery and deletion protection', () => {
    const [[id, table]] = resourcesOf(template, 'AWS::DynamoDB::Table') as [
      [string, Record<string, unknown>],
    ];
    expect(template.Resources[id]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(table.KeySchema).toEqual(TABLE_KEY_SCHEMA);
    expect(table.GlobalSecondaryIndexes).toEqual(TABLE_INDEXES);
    expect(table).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    const env = Object.fromEntries((guardian.Environment ?? []).map((e) => [e.Name, e.Value]));
    expect(env.GUARDIAN_TABLE).toEqual({ Ref: id });
  });

  it("alarms on Guardian's own health with metrics Guardian exports: silence, queue depth, dead letters", () => {
    const exported = exportedMetricNames();
    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm');
    expect(alarms.map(([id]) => id).sort()).toEqual(['DeadLettersAlarm', 'QueueDepthAlarm', 'SilentAlarm']);
    for (const [id, a] of alarms) {
      const [metric] = a.Metrics as { Expression: string }[];
      const names = [...metric!.Expression.matchAll(/\("([^"]+)"\)/g)].map((m) => m[1]!);
      expect(names, id).toHaveLength(1);
      expect(exported, `${id} watches ${names[0]}`).toContain(names[0]);
      expect(JSON.stringify(a.AlarmActions)).toContain('Ref');
    }
    const silent = alarms.find(([id]) => id === 'SilentAlarm')![1];
    // A dead man's switch: no data is the alarm.
    expect(silent.TreatMissingData).toBe('breaching');
  });

  it('points the metrics sidecar at the task’s loopback, where Guardian exports OTLP', () => {
    const task = one(template, 'AWS::ECS::TaskDefinition');
    const sidecar = (task.ContainerDefinitions as Container[]).find((c) => c.Name === 'metrics')!;
    expect(sidecar.Essential).toBe(false);
    const config = JSON.parse(
      JSON.stringify(sidecar.Environment!.find((e) => e.Name === 'AOT_CONFIG_CONTENT')!.Value)
        // The log group name is a reference inside a Fn::Join.
        .replace(/^\{"Fn::Join":\["",\[/, '[')
        .replace(/\]\]\}$/, ']'),
    ) as unknown[];
    const text = config.map((p) => (typeof p === 'string' ? p : 'LOG_GROUP')).join('');
    const parsed = JSON.parse(text) as { receivers: { otlp: { protocols: { http: { endpoint: string } } } } };
    const env = Object.fromEntries((guardian.Environment ?? []).map((e) => [e.Name, e.Value]));
    expect(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT).toBe(
      `http://${parsed.receivers.otlp.protocols.http.endpoint}/v1/metrics`,
    );
  });
});
