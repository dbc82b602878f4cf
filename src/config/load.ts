import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/index.ts';
import { configSchema, type GuardianConfig } from './schema.ts';

/** Environment variables and the config path they set. */
const ENV_PATHS: readonly (readonly [string, readonly string[]])[] = [
  ['PORT', ['port']],
  ['HOST', ['host']],
  ['GUARDIAN_DATA_DIR', ['dataDir']],
  ['GUARDIAN_DETECTOR_STATE_INTERVAL', ['detection', 'stateInterval']],
  ['LOG_LEVEL', ['logLevel']],
  ['GUARDIAN_PUBLIC_URL', ['publicUrl']],
  ['GUARDIAN_STORE', ['store', 'kind']],
  ['DYNAMODB_ENDPOINT', ['store', 'endpoint']],
  ['AWS_REGION', ['store', 'region']],
  ['GUARDIAN_TABLE', ['store', 'table']],
  ['GUARDIAN_CREATE_TABLE', ['store', 'createTable']],
  ['REDIS_URL', ['queue', 'redisUrl']],
  ['SLACK_BOT_TOKEN', ['slack', 'token']],
  ['SLACK_API_URL', ['slack', 'apiUrl']],
  ['SLACK_CHANNEL', ['slack', 'channel']],
  ['SLACK_SIGNING_SECRET', ['slack', 'signingSecret']],
  ['SLACK_ROUTES_OWNERS', ['slack', 'routes', 'owners']],
  ['SLACK_ROUTES_TAGS', ['slack', 'routes', 'tags']],
  ['SLACK_ROUTES_DAG_INFO_TTL', ['slack', 'routes', 'dagInfoTtl']],
  ['ANTHROPIC_API_KEY', ['llm', 'apiKey']],
  ['ANTHROPIC_BASE_URL', ['llm', 'baseUrl']],
  ['GUARDIAN_LLM_MODEL', ['llm', 'model']],
  ['GUARDIAN_LLM_BUDGET', ['llm', 'budget']],
  ['GUARDIAN_LLM_TOKENS_PER_INCIDENT', ['llm', 'tokensPerIncident']],
  ['GUARDIAN_LLM_TOKENS_PER_HOUR', ['llm', 'tokensPerHour']],
  ['GUARDIAN_LLM_PROVIDER', ['llm', 'provider']],
  // AWS_REGION is the Bedrock region too, unless GUARDIAN_BEDROCK_REGION (later, so it wins) says otherwise.
  ['AWS_REGION', ['llm', 'bedrock', 'region']],
  ['GUARDIAN_BEDROCK_REGION', ['llm', 'bedrock', 'region']],
  ['GUARDIAN_BEDROCK_MODEL', ['llm', 'bedrock', 'model']],
  ['GUARDIAN_BEDROCK_ENDPOINT', ['llm', 'bedrock', 'endpoint']],
  ['GUARDIAN_DIAGNOSTICS', ['diagnostics', 'enabled']],
  ['GUARDIAN_DIAGNOSTICS_TIMEOUT', ['diagnostics', 'timeout']],
  ['GUARDIAN_PLAYBOOKS_DIR', ['playbooks', 'dir']],
  ['AIRFLOW_UI_URL', ['links', 'airflowUrl']],
  ['GRAFANA_URL', ['links', 'grafanaUrl']],
  ['GRAFANA_LOKI_DATASOURCE', ['links', 'lokiDatasource']],
  ['SPARK_UI_URL', ['links', 'sparkUiUrl']],
  ['AIRFLOW_URL', ['sources', 'airflow', 'url']],
  ['AIRFLOW_USERNAME', ['sources', 'airflow', 'username']],
  ['AIRFLOW_PASSWORD', ['sources', 'airflow', 'password']],
  ['SPARK_MASTER_UI_URL', ['sources', 'spark', 'masterUrl']],
  ['SPARK_DRIVER_UI_URL', ['sources', 'spark', 'driverUrl']],
  ['SPARK_CONNECT_ENDPOINT', ['sources', 'spark', 'connectEndpoint']],
  ['SPARK_CONNECT_NAME', ['sources', 'spark', 'connectName']],
  ['GUARDIAN_GROUP_WAIT', ['notify', 'groupWait']],
  ['LOKI_URL', ['sources', 'loki', 'url']],
  ['LOKI_TENANT', ['sources', 'loki', 'tenant']],
  ['LOKI_BEARER_TOKEN', ['sources', 'loki', 'bearerToken']],
  ['LOKI_USER', ['sources', 'loki', 'user']],
  ['LOKI_PASSWORD', ['sources', 'loki', 'password']],
];

/** The environment variable that sets each config path, for error messages. */
const ENV_BY_PATH = new Map(ENV_PATHS.map(([env, p]) => [p.join('.'), env]));

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** A YAML file; `GUARDIAN_CONFIG` names one when this is not given. */
  file?: string;
  /** Values that win over the file and the environment (tests, replay). */
  overrides?: Record<string, unknown>;
}

/**
 * Reads the YAML file (if any), then environment variables over it, then overrides, and
 * validates the result. Throws a {@link ConfigError} naming the first bad field.
 */
export function loadConfig(options: LoadConfigOptions = {}): GuardianConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.GUARDIAN_CONFIG;
  let raw: Record<string, unknown> = {};
  if (file) raw = readYamlFile(file);
  for (const [name, p] of ENV_PATHS) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, p, value);
  }
  if (raw.store && typeof raw.store === 'object') {
    // A configured endpoint means a real (or compatible) DynamoDB, unless the file said otherwise.
    const store = raw.store as Record<string, unknown>;
    if (store.endpoint && store.kind === undefined) store.kind = 'dynamodb';
  }
  if (options.overrides) deepMerge(raw, options.overrides);
  return parseConfig(raw);
}

/** Validates an already-assembled config object. */
export function parseConfig(raw: unknown): GuardianConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw toConfigError(result.error);
  return result.data;
}

function toConfigError(error: z.ZodError): ConfigError {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join('.') || '(root)';
  const env = ENV_BY_PATH.get(field);
  const where = env ? ` (set by ${env})` : '';
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown setting(s): ${issue.keys.join(', ')}`;
  return new ConfigError(field, `${message}${where}`);
}

function readYamlFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path.resolve(file), 'utf8');
  } catch (err) {
    throw new ConfigError(
      'GUARDIAN_CONFIG',
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError('GUARDIAN_CONFIG', `${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('GUARDIAN_CONFIG', `${file} must hold a mapping at the top level`);
  }
  return parsed as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, p: readonly string[], value: unknown): void {
  let node = target;
  for (const key of p.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[p[p.length - 1]!] = value;
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(source)) {
    const t = target[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && t && typeof t === 'object' && !Array.isArray(t)) {
      deepMerge(t as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      target[k] = v;
    }
  }
}
