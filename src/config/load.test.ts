import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/index.ts';
import { parseDuration } from './duration.ts';
import { loadConfig } from './load.ts';
import { SECRET_SETTINGS, SETTING_NAMES } from './settings.ts';

function yamlFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'guardian-config-'));
  const file = path.join(dir, 'guardian.yaml');
  writeFileSync(file, text);
  return file;
}

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.port).toBe(8080);
    expect(config.store.kind).toBe('embedded');
    expect(config.queue.redisUrl).toBeUndefined();
    expect(config.slack.token).toBeUndefined();
    expect(config.dataDir).toBe('.guardian-data');
    // Loopback, authentication on: protected mode until a key exists.
    expect(config.host).toBe('127.0.0.1');
    expect(config.auth).toEqual({ mode: 'on', keyRate: 50, keyBurst: 200 });
    expect(config.otlp.port).toBeUndefined();
  });

  it('reads who may act from Slack, and the authentication settings, from the environment', () => {
    const config = loadConfig({
      env: {
        SLACK_RESPONDERS: 'U024BE7LH, S0ONCALL01',
        SLACK_TEAM_IDS: 'T0001',
        GUARDIAN_AUTH: 'off',
        GUARDIAN_KEY_RATE: '5',
        GUARDIAN_OTLP_PORT: '4318',
      },
    });
    expect(config.slack.responders).toEqual(['U024BE7LH', 'S0ONCALL01']);
    expect(config.slack.teams).toEqual(['T0001']);
    expect(config.auth).toMatchObject({ mode: 'off', keyRate: 5 });
    expect(config.otlp.port).toBe(4318);
    const bad = configErrorOf(() => loadConfig({ env: { SLACK_RESPONDERS: 'ana' } }));
    expect(bad.field).toBe('slack.responders.0');
    expect(bad.message).toMatch(/Slack user id.*\(set by SLACK_RESPONDERS\)/);
    expect(configErrorOf(() => loadConfig({ env: { GUARDIAN_AUTH: 'maybe' } })).message).toMatch(
      /auth\.mode.*GUARDIAN_AUTH/,
    );
  });

  it('reads environment variables over the YAML file', () => {
    const file = yamlFile('port: 9000\nslack:\n  channel: "#from-file"\n');
    const config = loadConfig({ env: { GUARDIAN_CONFIG: file, PORT: '9100', GUARDIAN_DATA_DIR: '/var/g' } });
    expect(config.port).toBe(9100);
    expect(config.dataDir).toBe('/var/g');
    expect(config.slack.channel).toBe('#from-file');
  });

  it('saves detector state every five minutes unless told otherwise, and names a bad interval', () => {
    expect(loadConfig({ env: {} }).detection.stateInterval).toBe(300_000);
    expect(loadConfig({ env: { GUARDIAN_DETECTOR_STATE_INTERVAL: '0' } }).detection.stateInterval).toBe(0);
    expect(loadConfig({ env: { GUARDIAN_DETECTOR_STATE_INTERVAL: '90s' } }).detection.stateInterval).toBe(
      90_000,
    );
    const err = configErrorOf(() => loadConfig({ env: { GUARDIAN_DETECTOR_STATE_INTERVAL: 'often' } }));
    expect(err.field).toBe('detection.stateInterval');
  });

  it('switches to DynamoDB when an endpoint is configured', () => {
    const config = loadConfig({
      env: { DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000', GUARDIAN_TABLE: 'incidents' },
    });
    expect(config.store).toMatchObject({
      kind: 'dynamodb',
      endpoint: 'http://127.0.0.1:8000',
      table: 'incidents',
    });
  });

  it('parses threshold rules with durations and defaults', () => {
    const file = yamlFile(
      [
        'detection:',
        '  thresholds:',
        '    - id: worker-memory',
        '      metric: system.memory.utilization',
        '      match: { service.name: spark-worker, state: { regex: "used|cached" } }',
        "      op: '>'",
        '      value: 0.9',
        '      for: 2m',
      ].join('\n'),
    );
    const rule = loadConfig({ env: { GUARDIAN_CONFIG: file } }).detection.thresholds[0]!;
    expect(rule).toMatchObject({ id: 'worker-memory', op: '>', value: 0.9, for: 120_000, severity: 'high' });
    expect(rule.match).toEqual({ 'service.name': 'spark-worker', state: { regex: 'used|cached' } });
  });

  it('parses anomaly rules with their defaults, and names the field of a bad one', () => {
    const file = yamlFile(
      [
        'detection:',
        '  anomalies:',
        '    - id: orders-rows',
        '      metric: ingest.rows',
        '      match: { service.name: ingest-orders }',
        '      direction: down',
        '      severity: high',
        '    - { id: noisy-gc, metric: jvm.gc.duration, watch: false }',
      ].join('\n'),
    );
    const [orders, noisy] = loadConfig({ env: { GUARDIAN_CONFIG: file } }).detection.anomalies;
    expect(orders).toEqual({
      id: 'orders-rows',
      metric: 'ingest.rows',
      match: { 'service.name': 'ingest-orders' },
      watch: true,
      severity: 'high',
      silentSeverity: 'low',
      direction: 'down',
      stuck: true,
    });
    expect(noisy).toMatchObject({ watch: false, direction: 'both', severity: 'low' });
    const bad = yamlFile('detection:\n  anomalies:\n    - { id: a1, metric: m, direction: sideways }\n');
    expect(configErrorOf(() => loadConfig({ env: { GUARDIAN_CONFIG: bad } })).field).toBe(
      'detection.anomalies.0.direction',
    );
    const score = yamlFile('detection:\n  anomalies:\n    - { id: a1, metric: m, fireScore: 1.5 }\n');
    expect(configErrorOf(() => loadConfig({ env: { GUARDIAN_CONFIG: score } })).field).toBe(
      'detection.anomalies.0.fireScore',
    );
  });

  it('names the field of a bad environment variable', () => {
    const err = configErrorOf(() => loadConfig({ env: { PORT: 'eighty' } }));
    expect(err.field).toBe('port');
    expect(err.message).toMatch(/^port: .*\(set by PORT\)/);
  });

  it('names the nested field of a bad rule', () => {
    const file = yamlFile(
      'detection:\n  thresholds:\n    - { id: x1, metric: m, op: ">", value: 1, for: soon }\n',
    );
    const err = configErrorOf(() => loadConfig({ env: { GUARDIAN_CONFIG: file } }));
    expect(err.field).toBe('detection.thresholds.0.for');
    expect(err.message).toContain('"soon" is not a duration');
  });

  it('rejects unknown settings instead of ignoring a typo', () => {
    const file = yamlFile('slack:\n  chanel: "#typo"\n');
    const err = configErrorOf(() => loadConfig({ env: { GUARDIAN_CONFIG: file } }));
    expect(err.field).toBe('slack');
    expect(err.message).toContain('chanel');
  });

  it('says which file cannot be read or parsed', () => {
    expect(configErrorOf(() => loadConfig({ env: { GUARDIAN_CONFIG: '/nope/g.yaml' } })).message).toContain(
      'cannot read /nope/g.yaml',
    );
    expect(
      configErrorOf(() => loadConfig({ env: { GUARDIAN_CONFIG: yamlFile('- a\n- b\n') } })).message,
    ).toContain('mapping');
  });

  it('reads routing by DAG owner and tag from the YAML file or the environment', () => {
    const file = yamlFile(
      'slack:\n  routes:\n    owners: { data-eng: "#data-eng" }\n    tags: { gold: C0GOLD12345 }\n',
    );
    const fromFile = loadConfig({ env: { GUARDIAN_CONFIG: file } }).slack.routes;
    expect(fromFile).toMatchObject({ owners: { 'data-eng': '#data-eng' }, tags: { gold: 'C0GOLD12345' } });
    expect(fromFile).toMatchObject({ dagInfoTtl: 600_000, dagInfoMaxEntries: 1000, dagInfoTimeout: 3000 });
    const fromEnv = loadConfig({
      env: {
        GUARDIAN_CONFIG: file,
        SLACK_ROUTES_OWNERS: 'finance=#finance-data, data-eng=#de',
        SLACK_ROUTES_DAG_INFO_TTL: '1m',
      },
    }).slack.routes;
    expect(fromEnv.owners).toEqual({ finance: '#finance-data', 'data-eng': '#de' });
    expect(fromEnv.tags).toEqual({ gold: 'C0GOLD12345' });
    expect(fromEnv.dagInfoTtl).toBe(60_000);
    const err = configErrorOf(() => loadConfig({ env: { SLACK_ROUTES_TAGS: 'gold' } }));
    expect(err.field).toBe('slack.routes.tags');
    expect(err.message).toMatch(/"gold" is not key=channel.*\(set by SLACK_ROUTES_TAGS\)/);
  });

  it('rejects a Redis URL that is not one', () => {
    expect(configErrorOf(() => loadConfig({ env: { REDIS_URL: 'localhost:6379' } })).field).toBe(
      'queue.redisUrl',
    );
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1500', 1500],
    [42, 42],
  ] as const)('%s → %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));

  it.each(['', 'soon', '5 m', '5x', '-1', 'm5'])('rejects %j', (input) =>
    expect(parseDuration(input)).toBeUndefined(),
  );
});

describe('loadConfig: the LLM provider and diagnostics', () => {
  it('selects Claude on Bedrock by environment: provider, region (AWS_REGION or its own), model id', () => {
    const defaults = loadConfig({ env: {} });
    expect(defaults.llm.provider).toBe('anthropic');
    expect(defaults.llm.bedrock).toEqual({
      region: 'us-east-1',
      model: 'global.anthropic.claude-haiku-4-5-20251001-v1:0',
    });
    const viaAwsRegion = loadConfig({ env: { GUARDIAN_LLM_PROVIDER: 'bedrock', AWS_REGION: 'eu-west-1' } });
    expect(viaAwsRegion.llm.provider).toBe('bedrock');
    expect(viaAwsRegion.llm.bedrock.region).toBe('eu-west-1');
    expect(viaAwsRegion.store.region).toBe('eu-west-1');
    const own = loadConfig({
      env: {
        GUARDIAN_LLM_PROVIDER: 'bedrock',
        AWS_REGION: 'eu-west-1',
        GUARDIAN_BEDROCK_REGION: 'us-west-2',
        GUARDIAN_BEDROCK_MODEL: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
        GUARDIAN_BEDROCK_ENDPOINT: 'https://vpce-0abc.bedrock-runtime.us-west-2.vpce.amazonaws.com',
      },
    });
    expect(own.llm.bedrock).toEqual({
      region: 'us-west-2',
      model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
      endpoint: 'https://vpce-0abc.bedrock-runtime.us-west-2.vpce.amazonaws.com',
    });
    expect(own.store.region).toBe('eu-west-1');
    const bad = configErrorOf(() => loadConfig({ env: { GUARDIAN_LLM_PROVIDER: 'openai' } }));
    expect(bad.message).toContain('GUARDIAN_LLM_PROVIDER');
  });

  it('refuses production on the embedded store or the in-process queue, naming each missing piece', () => {
    expect(loadConfig({ env: {} }).environment).toBe('development');
    const both = configErrorOf(() => loadConfig({ env: { GUARDIAN_ENV: 'production' } }));
    expect(both.field).toBe('environment');
    expect(both.message).toContain('GUARDIAN_STORE=dynamodb');
    expect(both.message).toContain('REDIS_URL');
    const queueOnly = configErrorOf(() =>
      loadConfig({ env: { GUARDIAN_ENV: 'production', GUARDIAN_STORE: 'dynamodb' } }),
    );
    expect(queueOnly.message).toContain('REDIS_URL');
    expect(queueOnly.message).not.toContain('GUARDIAN_STORE');
    const storeOnly = configErrorOf(() =>
      loadConfig({ env: { GUARDIAN_ENV: 'production', REDIS_URL: 'rediss://redis:6379' } }),
    );
    expect(storeOnly.message).toContain('GUARDIAN_STORE=dynamodb');
    expect(storeOnly.message).not.toContain('REDIS_URL');
    const ready = loadConfig({
      env: { GUARDIAN_ENV: 'production', GUARDIAN_STORE: 'dynamodb', REDIS_URL: 'rediss://redis:6379' },
    });
    expect(ready.environment).toBe('production');
    // Development keeps the embedded defaults, whatever NODE_ENV says.
    expect(loadConfig({ env: { NODE_ENV: 'production' } }).store.kind).toBe('embedded');
    const bad = configErrorOf(() => loadConfig({ env: { GUARDIAN_ENV: 'prod' } }));
    expect(bad.field).toBe('environment');
    expect(bad.message).toContain('GUARDIAN_ENV');
  });

  it('lists as secrets every setting whose name says token, secret, password or key', () => {
    const named = SETTING_NAMES.filter((n) => /_TOKEN$|_SECRET$|_PASSWORD$|_KEY$/.test(n));
    expect(named.length).toBeGreaterThan(4);
    for (const name of named) expect(SECRET_SETTINGS, name).toContain(name);
    for (const name of SECRET_SETTINGS) expect(SETTING_NAMES, name).toContain(name);
  });

  it('reads the diagnostics settings', () => {
    expect(loadConfig({ env: {} }).diagnostics).toEqual({ enabled: true, timeout: 3000, maxChars: 2000 });
    const off = loadConfig({
      env: { GUARDIAN_DIAGNOSTICS: 'false', GUARDIAN_DIAGNOSTICS_TIMEOUT: '1500ms' },
    });
    expect(off.diagnostics).toMatchObject({ enabled: false, timeout: 1500 });
  });
});
