import { z } from 'zod';

/** Template variables a runbook link can use: `{{name}}`, filled from the incident and the config. */
export const LINK_VARIABLES = [
  // From Guardian's config (inserted as written).
  'airflow_url',
  'grafana_url',
  'loki_datasource',
  'spark_master_url',
  'spark_ui_url',
  'guardian_url',
  // From the incident's entities (URL-encoded where they go into a URL).
  'incident_id',
  'dag_id',
  'run_id',
  'task_id',
  'host',
  'spark_app_id',
  'executor_id',
  'worker_id',
  'stage_id',
  'connect_endpoint',
  'import_file',
  'service_name',
  'lambda_function',
  'metric_name',
  // Epoch ms around the incident: 15 minutes before it opened, 15 minutes after it last changed.
  'from_ms',
  'to_ms',
] as const;

export type LinkVariable = (typeof LINK_VARIABLES)[number];

const KNOWN = new Set<string>(LINK_VARIABLES);
const VARIABLE = /\{\{\s*([a-z_]+)(?:\s*\|\s*([a-z]+))?\s*\}\}/g;

/** A template whose `{{variables}}` are all known and whose filters are `url` or `raw`. */
const template = z.string().superRefine((text, ctx) => {
  for (const m of text.matchAll(VARIABLE)) {
    if (!KNOWN.has(m[1]!)) ctx.addIssue({ code: 'custom', message: `unknown template variable {{${m[1]}}}` });
    if (m[2] && m[2] !== 'url' && m[2] !== 'raw') {
      ctx.addIssue({ code: 'custom', message: `unknown filter |${m[2]} (use |url or |raw)` });
    }
  }
});

const kindName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'a kind: lowercase letters, digits, ".", "_" or "-"');

/** An entity pattern: a `*` glob as a string, or `{ regex }` matched against the whole key. */
const entityPattern = z.union([
  z.string().min(1),
  z.strictObject({
    regex: z.string().refine((r) => {
      try {
        new RegExp(r);
        return true;
      } catch {
        return false;
      }
    }, 'not a valid regular expression'),
  }),
]);

const runbookLink = z.union([
  z.strictObject({
    title: z.string().min(1).max(60),
    /** A URL template, e.g. `{{airflow_url}}/dags/{{dag_id}}/runs/{{run_id}}/tasks/{{task_id}}`. */
    url: template.refine((u) => /^(\{\{\s*[a-z_]+\s*\}\}|https:\/\/|http:\/\/)/.test(u), {
      message: 'must start with http(s):// or a {{…_url}} variable',
    }),
  }),
  z.strictObject({
    title: z.string().min(1).max(60),
    /** A LogQL query template; the link opens it in Grafana Explore over the incident's time range. */
    loki: template,
  }),
]);

/** Something Guardian gathers for the incident, declared rather than scripted. */
const diagnostic = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('airflow_try_log_tail'),
    /** @defaultValue 100 */
    lines: z.number().int().min(1).max(1000).default(100),
  }),
  z.strictObject({ kind: z.literal('spark_failed_stage_reason') }),
  z.strictObject({ kind: z.literal('spark_executor_summary') }),
  z.strictObject({
    kind: z.literal('host_metrics'),
    metrics: z.array(z.string().min(1)).min(1),
    /** @defaultValue 30m */
    window: z
      .string()
      .regex(/^\d+[smh]$/)
      .default('30m'),
  }),
  z.strictObject({
    kind: z.literal('loki_query'),
    query: template,
    limit: z.number().int().min(1).max(500).default(50),
  }),
  z.strictObject({ kind: z.literal('airflow_import_errors') }),
  z.strictObject({ kind: z.literal('airflow_health') }),
  z.strictObject({ kind: z.literal('spark_connect_probe') }),
]);

/** A remediation Guardian may propose (never run on its own), with what must hold first. */
const remediation = z.strictObject({
  id: kindName,
  title: z.string().min(1).max(120),
  /** Only `propose` exists today: Guardian suggests it, a person runs it. */
  mode: z.literal('propose'),
  guardrails: z.array(z.string().min(1)).min(1),
});

/** A playbook's YAML front matter. */
export const playbookFrontMatterSchema = z.strictObject({
  /** Stable id, also the file name without `.md`. */
  id: kindName,
  title: z.string().min(1).max(120),
  /**
   * What it matches. It matches when any of the kinds or error classes does; `entities`, when
   * given, narrows that to incidents touching a matching entity. `fallback: true` makes it the
   * playbook of incidents nothing else matches.
   */
  match: z
    .strictObject({
      root_cause_kinds: z.array(kindName).default([]),
      signal_kinds: z.array(kindName).default([]),
      error_classes: z.array(kindName).default([]),
      entities: z.array(entityPattern).default([]),
      fallback: z.boolean().default(false),
    })
    .refine(
      (m) => m.fallback || m.root_cause_kinds.length + m.signal_kinds.length + m.error_classes.length > 0,
      { message: 'needs at least one of root_cause_kinds, signal_kinds, error_classes (or fallback: true)' },
    ),
  /** The severity an incident of this kind usually deserves. */
  severity: z.enum(['info', 'low', 'high', 'critical']),
  owner: z.strictObject({
    team: z.string().min(1),
    /** Where this kind of incident is posted (`#channel` or a channel id). */
    /**
     * Without it, routing falls through to the DAG mappings and the default channel.
     */
    slack_channel: z
      .string()
      .regex(/^(#[a-z0-9][a-z0-9_-]{0,79}|[CG][A-Z0-9]{8,})$/, 'a #channel or a channel id')
      .optional(),
  }),
  runbooks: z.array(runbookLink).max(5).default([]),
  diagnostics: z.array(diagnostic).default([]),
  remediations: z.array(remediation).default([]),
});

export type PlaybookFrontMatter = z.output<typeof playbookFrontMatterSchema>;
export type RunbookLinkTemplate = PlaybookFrontMatter['runbooks'][number];
export type Diagnostic = PlaybookFrontMatter['diagnostics'][number];
export type EntityPattern = z.output<typeof entityPattern>;

/** The body sections every playbook has, in this order. */
export const PLAYBOOK_SECTIONS = ['What it means', 'How to confirm', 'How to fix', 'How to prevent'] as const;

export { VARIABLE as TEMPLATE_VARIABLE };
