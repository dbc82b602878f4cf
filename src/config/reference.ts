import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from './schema.ts';
import { ENV_SETTINGS, OTHER_ENV } from './settings.ts';

/** The markers around the generated part of docs/configuration.md. */
export const REFERENCE_START = '<!-- generated:settings:start (npm run docs:config) -->';
export const REFERENCE_END = '<!-- generated:settings:end -->';

interface JsonSchemaNode {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  properties?: Record<string, JsonSchemaNode>;
  anyOf?: JsonSchemaNode[];
  items?: JsonSchemaNode;
}

/**
 * The settings reference as Markdown, made from the schema (every setting, its type and default)
 * and the settings table (the environment variable of each, what it is for, which are secrets), so
 * the documentation cannot drift from what Guardian accepts.
 */
export function renderConfigReference(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const leaves = new Map<string, JsonSchemaNode>();
  collectLeaves(schema, [], leaves);
  // Defaults behind a transform (durations) are not in the JSON Schema: take them from a parse.
  const parsed = configSchema.parse({}) as Record<string, unknown>;
  for (const [key, node] of leaves) {
    if (node.default !== undefined) continue;
    const value = key
      .split('.')
      .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], parsed);
    const isDuration =
      Array.isArray(node.type) && node.type.includes('string') && node.type.includes('number');
    if (value !== undefined)
      node.default = isDuration && typeof value === 'number' ? formatDuration(value) : value;
  }
  const envByPath = new Map<string, string[]>();
  for (const s of ENV_SETTINGS) {
    const key = s.path.join('.');
    envByPath.set(key, [...(envByPath.get(key) ?? []), s.env]);
  }

  const out: string[] = [REFERENCE_START, '', '### Environment variables', ''];
  out.push('| variable | setting | default | what |', '| --- | --- | --- | --- |');
  for (const s of ENV_SETTINGS) {
    const key = s.path.join('.');
    const secret = s.secret ? ' **Secret.**' : '';
    out.push(
      `| \`${s.env}\` | \`${key}\` | ${formatDefault(leaves.get(key)?.default)} | ${s.doc}.${secret} |`,
    );
  }
  for (const o of OTHER_ENV) out.push(`| \`${o.env}\` | — | — | ${o.doc}. |`);

  out.push('', '### Every setting of the config file', '');
  out.push('| setting | type | default | environment |', '| --- | --- | --- | --- |');
  for (const [key, node] of [...leaves].sort(([a], [b]) => a.localeCompare(b))) {
    const env = (envByPath.get(key) ?? []).map((e) => `\`${e}\``).join(', ') || '—';
    out.push(`| \`${key}\` | ${describeType(node)} | ${formatDefault(node.default)} | ${env} |`);
  }
  out.push('', REFERENCE_END);
  return out.join('\n');
}

/** The config paths the schema accepts (objects are walked; arrays and maps are leaves). */
export function settingPaths(): Set<string> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const leaves = new Map<string, JsonSchemaNode>();
  collectLeaves(schema, [], leaves);
  return new Set(leaves.keys());
}

function collectLeaves(node: JsonSchemaNode, at: string[], into: Map<string, JsonSchemaNode>): void {
  if (node.properties && Object.keys(node.properties).length > 0) {
    for (const [k, child] of Object.entries(node.properties)) collectLeaves(child, [...at, k], into);
    return;
  }
  into.set(at.join('.'), node);
}

function describeType(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const types = new Set<string>();
  const visit = (n: JsonSchemaNode) => {
    if (n.enum) types.add(n.enum.map((v) => String(v)).join('/'));
    else if (n.type) for (const t of [n.type].flat()) types.add(t === 'array' ? 'list' : t);
    for (const alt of n.anyOf ?? []) visit(alt);
  };
  visit(node);
  return types.size > 0 ? [...types].join(' or ') : 'any';
}

function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function formatDefault(value: unknown): string {
  if (value === undefined) return '—';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `\`${text.replaceAll('|', '\\|')}\``;
}

/** Rewrites the generated part of a Markdown file; returns whether it changed. */
export function writeConfigReference(file: string): boolean {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(REFERENCE_START);
  const end = text.indexOf(REFERENCE_END);
  if (start < 0 || end < start) throw new Error(`${file} has no ${REFERENCE_START} … ${REFERENCE_END} block`);
  const next = text.slice(0, start) + renderConfigReference() + text.slice(end + REFERENCE_END.length);
  if (next === text) return false;
  writeFileSync(file, next);
  return true;
}

// `npm run docs:config` regenerates docs/configuration.md.
if (import.meta.main) {
  const file = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
  process.stdout.write(writeConfigReference(file) ? `updated ${file}\n` : `${file} is up to date\n`);
}
