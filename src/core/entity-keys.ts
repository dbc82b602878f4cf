/**
 * Canonical entity keys, as `../shared/scenarios/FORMAT.md` defines them. The same strings are
 * used in signals, in the store, in the HTTP API and in the replay export, so every key is built
 * here and nowhere else.
 */

/** A canonical entity key such as `airflow:task:dag/run/task` or `host:10.0.3.17`. */
export type EntityKey = string;

export const entityKey = {
  dag: (dagId: string): EntityKey => `airflow:dag:${dagId}`,
  dagRun: (dagId: string, runId: string): EntityKey => `airflow:dagrun:${dagId}/${runId}`,
  task: (dagId: string, runId: string, taskId: string, mapIndex = -1): EntityKey =>
    `airflow:task:${dagId}/${runId}/${taskId}${mapIndex >= 0 ? `[${mapIndex}]` : ''}`,
  scheduler: (): EntityKey => 'airflow:scheduler',
  importError: (filename: string): EntityKey => `airflow:import:${filename}`,
  sparkMaster: (url: string): EntityKey => `spark:master:${url}`,
  sparkWorker: (workerId: string): EntityKey => `spark:worker:${workerId}`,
  sparkConnect: (endpoint: string): EntityKey => `spark:connect:${endpoint}`,
  sparkApp: (appId: string): EntityKey => `spark:app:${appId}`,
  sparkJob: (appId: string, jobId: number | string): EntityKey => `spark:job:${appId}/${jobId}`,
  sparkStage: (appId: string, stageId: number | string): EntityKey => `spark:stage:${appId}/${stageId}`,
  sparkExecutor: (appId: string, executorId: string): EntityKey => `spark:executor:${appId}/${executorId}`,
  host: (name: string): EntityKey => `host:${name}`,
  /** `metric:{name}{k="v",...}`: resource and point attributes together, sorted by key. */
  metricSeries: (name: string, attributes: Readonly<Record<string, string>>): EntityKey =>
    `metric:${name}${labelSet(attributes)}`,
  /** `log:{k="v",...}`: the Loki stream labels, sorted by key. */
  logStream: (labels: Readonly<Record<string, string>>): EntityKey => `log:${labelSet(labels)}`,
} as const;

/** `{k="v",...}` sorted by key, with `"` and `\` escaped by `\`. */
export function labelSet(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) out += ',';
    out += `${k}="${escapeLabelValue(labels[k]!)}"`;
  }
  return `${out}}`;
}

function escapeLabelValue(value: string): string {
  return /["\\]/.test(value) ? value.replace(/(["\\])/g, '\\$1') : value;
}

/** An Airflow task key's parts; `taskId` keeps a `[map_index]` suffix. Undefined for other keys. */
export function parseTaskKey(key: EntityKey): { dagId: string; runId: string; taskId: string } | undefined {
  if (!key.startsWith('airflow:task:')) return undefined;
  const rest = key.slice('airflow:task:'.length);
  const first = rest.indexOf('/');
  const last = rest.lastIndexOf('/');
  if (first < 0 || last <= first) return undefined;
  return { dagId: rest.slice(0, first), runId: rest.slice(first + 1, last), taskId: rest.slice(last + 1) };
}

/** The kind part of a key (`airflow:task`, `spark:executor`, `host`, `metric`, `log`). */
export function entityKind(key: EntityKey): string {
  if (key.startsWith('metric:')) return 'metric';
  if (key.startsWith('log:')) return 'log';
  if (key.startsWith('host:')) return 'host';
  const first = key.indexOf(':');
  const second = key.indexOf(':', first + 1);
  return second < 0 ? key : key.slice(0, second);
}
