import type { Incident } from '../core/index.ts';
import { type LinkVariable, type RunbookLinkTemplate, TEMPLATE_VARIABLE } from './schema.ts';

/** Where Guardian's peers' UIs are, for runbook links. Each is optional: a link that needs a missing one is left out. */
export interface LinkSettings {
  /** Airflow UI base, e.g. https://airflow.example.com */
  airflowUrl?: string;
  /** Grafana base, for Loki Explore links. */
  grafanaUrl?: string;
  /** The Loki data source uid in Grafana. @defaultValue 'loki' */
  lokiDatasource?: string;
  sparkMasterUrl?: string;
  sparkUiUrl?: string;
  guardianUrl?: string;
}

/** A runbook link made for one incident. */
export interface RunbookLink {
  readonly playbookId: string;
  readonly title: string;
  readonly url: string;
}

type Variables = Partial<Record<LinkVariable, string>>;

/** Variables that come from config: URLs inserted as written (no encoding), trailing `/` removed. */
const CONFIG_VARIABLES: ReadonlySet<LinkVariable> = new Set([
  'airflow_url',
  'grafana_url',
  'loki_datasource',
  'spark_master_url',
  'spark_ui_url',
  'guardian_url',
]);

type Setter = (k: LinkVariable, value: string | undefined) => void;

/** Entity key shapes (see `core/entity-keys.ts`) and the variables each provides. */
const ENTITY_RULES: readonly (readonly [RegExp, (m: RegExpExecArray, set: Setter) => void])[] = [
  [
    /^airflow:task:([^/]+)\/([^/]+)\/([^[\]]+)(?:\[\d+\])?$/,
    (m, set) => {
      set('dag_id', m[1]);
      set('run_id', m[2]);
      set('task_id', m[3]);
    },
  ],
  [
    /^airflow:dagrun:([^/]+)\/(.+)$/,
    (m, set) => {
      set('dag_id', m[1]);
      set('run_id', m[2]);
    },
  ],
  [/^airflow:dag:(.+)$/, (m, set) => set('dag_id', m[1])],
  [/^airflow:import:(.+)$/, (m, set) => set('import_file', m[1])],
  [/^host:(.+)$/, (m, set) => set('host', m[1])],
  [
    /^spark:executor:([^/]+)\/(.+)$/,
    (m, set) => {
      set('spark_app_id', m[1]);
      set('executor_id', m[2]);
    },
  ],
  [
    /^spark:stage:([^/]+)\/(.+)$/,
    (m, set) => {
      set('spark_app_id', m[1]);
      set('stage_id', m[2]);
    },
  ],
  [/^spark:job:([^/]+)\/(.+)$/, (m, set) => set('spark_app_id', m[1])],
  [/^spark:app:(.+)$/, (m, set) => set('spark_app_id', m[1])],
  [/^spark:worker:(.+)$/, (m, set) => set('worker_id', m[1])],
  [/^spark:connect:(.+)$/, (m, set) => set('connect_endpoint', m[1])],
  [
    /^metric:([^{]+)\{(.*)\}$/,
    (m, set) => {
      set('metric_name', m[1]);
      set('service_name', /(?:^|,)service\.name="([^"]*)"/.exec(m[2]!)?.[1]);
      set('host', /(?:^|,)host\.name="([^"]*)"/.exec(m[2]!)?.[1]);
      set('lambda_function', /(?:^|,)faas\.name="([^"]*)"/.exec(m[2]!)?.[1]);
    },
  ],
  [
    /^log:\{(.*)\}$/,
    (m, set) => {
      set('service_name', /(?:^|,)service_name="([^"]*)"/.exec(m[1]!)?.[1]);
      set('host', /(?:^|,)(?:host|hostname)="([^"]*)"/.exec(m[1]!)?.[1]);
      set('lambda_function', /(?:^|,)function="([^"]*)"/.exec(m[1]!)?.[1]);
    },
  ],
];

/**
 * The template variables an incident provides: the DAG, run and task of its first failed task
 * (its impact, else its entity keys), its host, Spark application, executor, worker, stage,
 * Connect endpoint, import file, service and metric names, and a time range around it.
 */
export function incidentVariables(incident: Incident, settings: LinkSettings = {}): Variables {
  const v: Variables = {};
  const set: Setter = (k, value) => {
    if (value && v[k] === undefined) v[k] = value;
  };
  set('airflow_url', settings.airflowUrl?.replace(/\/+$/, ''));
  set('grafana_url', settings.grafanaUrl?.replace(/\/+$/, ''));
  set('loki_datasource', settings.lokiDatasource ?? 'loki');
  set('spark_master_url', settings.sparkMasterUrl?.replace(/\/+$/, ''));
  set('spark_ui_url', settings.sparkUiUrl?.replace(/\/+$/, ''));
  set('guardian_url', settings.guardianUrl?.replace(/\/+$/, ''));
  set('incident_id', incident.id);

  const tasks = incident.impact?.tasks ?? [];
  const task = tasks.find((t) => t.state !== 'recovered') ?? tasks[0];
  if (task) {
    set('dag_id', task.dagId);
    set('run_id', task.runId);
    set('task_id', task.taskId);
  }
  const keys = incident.rootCause
    ? [incident.rootCause.entity, ...incident.entities]
    : [...incident.entities];
  for (const key of keys) {
    for (const [pattern, fill] of ENTITY_RULES) {
      const m = pattern.exec(key);
      if (m) {
        fill(m, set);
        break;
      }
    }
  }
  set('from_ms', String(incident.openedAt - 15 * 60_000));
  set('to_ms', String((incident.resolvedAt ?? incident.updatedAt) + 15 * 60_000));
  return v;
}

/**
 * Fills a template. Incident values are URL-encoded (`|raw` keeps them as they are, `|url`
 * encodes explicitly); config values are inserted as written. Undefined when a variable the
 * template uses has no value: a half-filled link is worse than none.
 */
export function fillTemplate(
  template: string,
  variables: Variables,
  encode: (value: string) => string = encodeURIComponent,
): string | undefined {
  let missing = false;
  const out = template.replace(TEMPLATE_VARIABLE, (_all, name: LinkVariable, filter?: string) => {
    const value = variables[name];
    if (value === undefined) {
      missing = true;
      return '';
    }
    if (filter === 'raw') return value;
    if (filter === 'url') return encodeURIComponent(value);
    return CONFIG_VARIABLES.has(name) ? value : encode(value);
  });
  return missing ? undefined : out;
}

/** The playbook's runbook links for this incident; links whose variables are missing are left out. */
export function runbookLinks(
  playbookId: string,
  templates: readonly RunbookLinkTemplate[],
  variables: Variables,
): RunbookLink[] {
  const links: RunbookLink[] = [];
  for (const t of templates) {
    let url: string | undefined;
    if ('url' in t) {
      url = fillTemplate(t.url, variables);
    } else {
      const expr = fillTemplate(t.loki, variables, logqlString);
      if (expr !== undefined && variables.grafana_url) url = grafanaExplore(variables, expr);
    }
    if (url && /^https?:\/\//.test(url) && url.length <= 3000)
      links.push({ playbookId, title: t.title, url });
  }
  return links;
}

/** Escapes a value for inside a LogQL double-quoted string. */
function logqlString(value: string): string {
  return value.replace(/["\\]/g, '\\$&');
}

/** A Grafana Explore URL running `expr` on the Loki data source over the incident's time range. */
function grafanaExplore(v: Variables, expr: string): string {
  const datasource = v.loki_datasource ?? 'loki';
  const panes = {
    g: {
      datasource,
      queries: [{ refId: 'A', expr, datasource: { type: 'loki', uid: datasource } }],
      range: { from: v.from_ms ?? 'now-1h', to: v.to_ms ?? 'now' },
    },
  };
  return `${v.grafana_url}/explore?schemaVersion=1&orgId=1&panes=${encodeURIComponent(JSON.stringify(panes))}`;
}
