import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/index.ts';
import { configSchema, type GuardianConfig } from './schema.ts';
import { ENV_SETTINGS } from './settings.ts';

/** The environment variable that sets each config path, for error messages. */
const ENV_BY_PATH = new Map(ENV_SETTINGS.map(({ env, path: p }) => [p.join('.'), env]));

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
  for (const { env: name, path: p } of ENV_SETTINGS) {
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
  requireProductionBackends(result.data);
  return result.data;
}

/**
 * In production, incidents must outlive the task and work must be shared between replicas: the
 * embedded store keeps incidents on one task's disk and the in-process queue loses waiting jobs
 * with the process. Names every missing piece at once, so one deploy fixes them all.
 */
function requireProductionBackends(config: GuardianConfig): void {
  if (config.environment !== 'production') return;
  const missing: string[] = [];
  if (config.store.kind === 'embedded') {
    missing.push(
      'a DynamoDB table instead of the embedded store (set GUARDIAN_STORE=dynamodb and GUARDIAN_TABLE)',
    );
  }
  if (!config.queue.redisUrl) {
    missing.push('Redis for the queues instead of the in-process queue (set REDIS_URL=rediss://…)');
  }
  if (missing.length > 0) {
    throw new ConfigError('environment', `GUARDIAN_ENV=production needs ${missing.join(' and ')}`);
  }
}

function toConfigError(error: z.ZodError): ConfigError {
  // Every bad field at once: fixing one at a time, restart after restart, is no way to deploy.
  const problems = error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(root)';
    // `slack.responders.0` is set by the variable of `slack.responders`.
    const env = issue.path
      .map((_, i) =>
        ENV_BY_PATH.get(
          issue.path
            .slice(0, issue.path.length - i)
            .map(String)
            .join('.'),
        ),
      )
      .find(Boolean);
    const where = env ? ` (set by ${env})` : '';
    const message =
      issue.code === 'unrecognized_keys' ? `unknown setting(s): ${issue.keys.join(', ')}` : issue.message;
    return { field, message: `${message}${where}` };
  });
  const [first, ...rest] = problems;
  const more = rest.map((p) => `\n  ${p.field}: ${p.message}`).join('');
  return new ConfigError(first!.field, `${first!.message}${more}`);
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
