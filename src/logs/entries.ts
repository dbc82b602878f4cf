import { type EntityKey, entityKey, type LogObservation, type Observation } from '../core/index.ts';
import { redact } from './redact.ts';

/**
 * What the log detectors need to know about one log entry: whether it reports an error, its
 * headline, which entities its stream labels (or, for some failures, its text) name, and how to
 * quote it as evidence.
 */

/** Labels that carry a log level (Loki's `detected_level`, OTLP's `severity_text`, …). */
const LEVEL_LABELS = ['level', 'detected_level', 'severity', 'severity_text', 'log_level', 'loglevel', 'lvl'];
const ERROR_LEVELS = new Set([
  'error',
  'err',
  'eror',
  'fatal',
  'critical',
  'crit',
  'panic',
  'emerg',
  'emergency',
  'alert',
  'severe',
]);
/** An error reported in the text itself, for streams without a level label. */
const ERROR_WORDS =
  /\b(?:ERROR|FATAL|CRITICAL|SEVERE|PANIC)\b|Exception\b|\bTraceback \(most recent call last\)|\b[A-Z][A-Za-z]*Error\b/;

/** Whether the entry reports an error: by its level label when it has one, else by its words. */
export function isErrorEntry(obs: Pick<LogObservation, 'labels' | 'line'>): boolean {
  for (const key of LEVEL_LABELS) {
    const level = obs.labels[key];
    if (level !== undefined && level !== '') return ERROR_LEVELS.has(level.toLowerCase());
  }
  return ERROR_WORDS.test(obs.line.length > 4096 ? obs.line.slice(0, 4096) : obs.line);
}

/** The first non-empty line of an entry (a stack trace's frames are not its template), cut to `max`. */
export function headline(entry: string, max = 1000): string {
  let start = 0;
  for (;;) {
    const end = entry.indexOf('\n', start);
    const line = (end < 0 ? entry.slice(start) : entry.slice(start, end)).trim();
    if (line !== '' || end < 0) return line.length > max ? line.slice(0, max) : line;
    start = end + 1;
  }
}

/** An entry as evidence: redacted, cut to `max` characters. */
export function quote(entry: string, max = 500): string {
  const text = entry.length > max * 2 ? entry.slice(0, max * 2) : entry;
  const clean = redact(text);
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/**
 * The stream without its level labels: Loki splits one process's output into a stream per level
 * (`level="warn"`, `level="error"`), and a condition about the process is one condition.
 */
export function emitterKey(labels: Readonly<Record<string, string>>): EntityKey {
  const rest: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (!LEVEL_LABELS.includes(k)) rest[k] = v;
  return entityKey.logStream(rest);
}

/** A short human name of a stream: its service and host (`spark-driver@10.0.0.16`). */
export function streamName(labels: Readonly<Record<string, string>>): string {
  const service =
    labels.service_name ?? labels.service ?? labels.app ?? labels.job ?? labels.container ?? labels.function;
  const host = hostLabel(labels);
  if (service && host) return `${service}@${host}`;
  return service ?? host ?? 'log stream';
}

/** The labels that name what emits the stream, joined (for telling a driver from an executor). */
export function emitterOf(labels: Readonly<Record<string, string>>): string {
  return [
    labels.service_name,
    labels.service,
    labels.app,
    labels.job,
    labels.container,
    labels.pod,
    labels.component,
  ]
    .filter((v) => v !== undefined)
    .join(' ');
}

function hostLabel(labels: Readonly<Record<string, string>>): string | undefined {
  const host = labels.host ?? labels.hostname ?? labels.host_name ?? labels.node ?? labels.node_name;
  if (host) return host;
  const instance = labels.instance;
  // Prometheus-style `host:port`; a bracketed IPv6 address keeps its brackets off.
  if (instance) return instance.replace(/^\[([^\]]+)\](?::\d+)?$/, '$1').replace(/^([^:[\]]+):\d+$/, '$1');
  return undefined;
}

/**
 * Entities the stream labels name: an Airflow task try (`dag_id`, `run_id`, `task_id`,
 * `map_index`) with its DAG run and DAG, a Spark application and executor, a host.
 */
export function labelRelations(labels: Readonly<Record<string, string>>): EntityKey[] {
  const out: EntityKey[] = [];
  const dag = labels.dag_id;
  const run = labels.run_id ?? labels.dag_run_id;
  const task = labels.task_id;
  if (dag && run && task) {
    const mapIndex = Number(labels.map_index ?? -1);
    out.push(entityKey.task(dag, run, task, Number.isInteger(mapIndex) ? mapIndex : -1));
  }
  if (dag && run) out.push(entityKey.dagRun(dag, run));
  if (dag) out.push(entityKey.dag(dag));
  const app = labels.spark_app_id ?? labels.app_id ?? labels.application_id ?? labels.spark_application_id;
  if (app) {
    const executor = labels.executor_id ?? labels.spark_executor_id;
    if (executor) out.push(entityKey.sparkExecutor(app, executor));
    out.push(entityKey.sparkApp(app));
  }
  const host = hostLabel(labels);
  if (host) out.push(entityKey.host(host));
  return out;
}

const HOST = String.raw`([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*)`;
/**
 * Where Spark's messages name the host of an executor or of shuffle files, and Airflow's scheduler
 * the worker of a task instance it gave up on (`{'DAG Id': …, 'Hostname': 'airflow-worker-3'}`).
 */
const HOSTS_IN_TEXT = [
  new RegExp(String.raw`\bLost executor \S+ on ${HOST}`, 'g'),
  new RegExp(String.raw`\(${HOST} executor \w+\)`, 'g'),
  new RegExp(String.raw`\bExecutor \S+ on ${HOST}`, 'g'),
  new RegExp(String.raw`\bon host:? ${HOST}`, 'g'),
  new RegExp(String.raw`BlockManagerId\([^,]+, ${HOST},`, 'g'),
  new RegExp(`'Hostname': '${HOST}'`, 'g'),
];
const CONNECT_ENDPOINT = /\bsc:\/\/[\w.-]+(?::\d+)?/g;

/**
 * Entities a failure's text names as its subject: hosts of lost executors or shuffle files, the
 * worker of a task instance, Spark Connect endpoints. A driver's log line about executor 7 on 10.0.3.17 is about that host, not
 * about the driver's.
 */
export function textRelations(entry: string): EntityKey[] {
  const text = entry.length > 8192 ? entry.slice(0, 8192) : entry;
  const out = new Set<EntityKey>();
  for (const re of HOSTS_IN_TEXT) {
    for (const m of text.matchAll(re)) {
      const host = m[1]!;
      if (/\d/.test(host) || host.includes('.')) out.add(entityKey.host(host.replace(/\.$/, '')));
    }
  }
  for (const m of text.matchAll(CONNECT_ENDPOINT)) out.add(entityKey.sparkConnect(m[0]));
  return [...out];
}

/** A log observation a detector can use: text, labels and a finite time (bad input is ignored). */
export function isUsableLog(obs: Observation): obs is LogObservation {
  return (
    obs.type === 'log' &&
    typeof obs.line === 'string' &&
    typeof obs.labels === 'object' &&
    obs.labels !== null &&
    typeof obs.stream === 'string' &&
    Number.isFinite(obs.time)
  );
}
