import { type EntityKey, entityKey } from '../core/index.ts';
import { errorLines, resourcesNamedIn } from '../correlation/resources.ts';
import { classify } from './signatures.ts';

/**
 * What a failure's text (an Airflow try's log tail, a Spark stage's failure reason) says about its
 * cause: an error class, and the entities it names. This is how a task failure is tied to the host
 * that died under it or to the Spark Connect server it could not reach, before (or without) a
 * signal from that host or server.
 */
export interface FailureText {
  /** The error class id (`src/logs/signatures.ts`); undefined when nothing known matched. */
  readonly errorClass?: string;
  /** Entities the text names as where the failure came from (hosts, executors, endpoints, jobs). */
  readonly causes: readonly EntityKey[];
  /** Entities the text shows the failed work was using (the Spark Connect endpoint it talked to). */
  readonly uses: readonly EntityKey[];
  /** Resources its error lines name: what it failed on (`src/correlation/resources.ts`). */
  readonly names: readonly EntityKey[];
  /** The name of the last exception the text reports (`ClientError`), if any. */
  readonly exception?: string;
  /** The last line that reports an error, as the text has it (what an engineer reads first). */
  readonly errorLine?: string;
}

/** How the correlator reasons about a failure class (the class itself: `src/logs/signatures.ts`). */
export interface FailureClass {
  readonly id: string;
  /** Layer of the platform the class points at; the correlator ranks causes by it. */
  readonly layer: 'infrastructure' | 'engine' | 'job' | 'task';
  /** Retrying cannot fix it (the SQL is wrong, the DAG does not import): page at the first try. */
  readonly deterministic: boolean;
  /**
   * One outage makes many unrelated jobs fail with it at once: concurrent failures with this class
   * are one incident even without an explicit link.
   */
  readonly shared: boolean;
  /**
   * The failure is of the machine the work ran on (its disk is full, it killed the process): the
   * Airflow worker a failed try ran on is a cause to consider, not a bystander.
   */
  readonly local: boolean;
}

const trait = (
  id: string,
  layer: FailureClass['layer'],
  deterministic = false,
  shared = false,
  local = false,
): FailureClass => ({ id, layer, deterministic, shared, local });

/** The correlation traits of every class the signature library recognises. */
export const FAILURE_CLASSES: readonly FailureClass[] = [
  trait('spot_interruption', 'infrastructure'),
  trait('executor_decommission', 'infrastructure'),
  trait('host_lost', 'infrastructure'),
  trait('executor_heartbeat_timeout', 'infrastructure'),
  trait('executor_oom', 'engine'),
  trait('driver_oom', 'engine'),
  trait('jvm_oom', 'engine'),
  trait('container_killed', 'engine'),
  trait('connect_unavailable', 'engine', false, true),
  trait('connect_jobs_cancelled', 'engine', false, true),
  trait('s3_throttling', 'infrastructure', false, true),
  trait('iceberg_commit_conflict', 'job'),
  trait('fetch_failed', 'engine'),
  trait('sql_analysis_error', 'task', true),
  trait('dag_import_error', 'task', true),
  trait('airflow_task_killed', 'infrastructure', false, false, true),
  trait('upstream_api_auth', 'task', true),
  trait('upstream_api_rate_limited', 'task'),
  trait('task_timeout', 'task'),
  trait('network_timeout', 'infrastructure'),
  trait('catalog_unavailable', 'engine', false, true),
  trait('disk_full', 'infrastructure', false, false, true),
  trait('disk_io_error', 'infrastructure', false, false, true),
  trait('function_timeout', 'infrastructure'),
  trait('upstream_unreachable', 'infrastructure'),
  trait('name_resolution', 'infrastructure', false, true),
  trait('database_unavailable', 'infrastructure', false, true),
  trait('encryption_key_unavailable', 'infrastructure', false, true),
];

const BY_ID = new Map(FAILURE_CLASSES.map((c) => [c.id, c]));

export function failureClass(id: string | undefined): FailureClass | undefined {
  return id ? BY_ID.get(id) : undefined;
}

/** Classes whose failure text names the executor and host it happened on. */
const ON_EXECUTOR = new Set([
  'host_lost',
  'executor_oom',
  'executor_decommission',
  'executor_heartbeat_timeout',
  'container_killed',
  'disk_full',
]);

/**
 * Where a shuffle fetch failed: the block manager (or shuffle service address) that could not serve
 * the map output. That host is where the fault is; the reducer's own executor merely asked.
 */
const SHUFFLE_SOURCE = /(?:BlockManagerId\(\w+, |Failed to connect to \/?)([\w.-]+?)(?:, |:)\d+/g;

/** `(10.0.4.161 executor 22)`, Spark's "Lost task … (host executor id)". */
const EXECUTOR_ON_HOST = /\(([\w.-]+) executor (\w+)\)/g;
/** The Spark Connect endpoint a client used, e.g. in the operator's "Connecting to … sc://…". */
const CONNECT_ENDPOINT = /\bsc:\/\/[\w.-]+(?::\d+)?/;
const JOB_CANCELLED = /\bJob (\d+) cancelled\b/;

/**
 * Reads a failure's text. `appId` resolves executor and job ids to entities when the text comes
 * from a known Spark application. The error class is the signature library's class of the *last*
 * error in the text (a traceback ends with the exception that failed the task).
 */
export function readFailureText(text: string, appId?: string): FailureText {
  const errorText = lastError(text);
  const errorClass = classify(errorText)?.id;
  const causes: EntityKey[] = [];
  const cls = failureClass(errorClass);
  if (cls && ON_EXECUTOR.has(cls.id)) {
    for (const m of errorText.matchAll(EXECUTOR_ON_HOST)) {
      causes.push(entityKey.host(m[1]!));
      if (appId) causes.push(entityKey.sparkExecutor(appId, m[2]!));
    }
  }
  if (cls?.id === 'fetch_failed')
    for (const m of errorText.matchAll(SHUFFLE_SOURCE)) causes.push(entityKey.host(m[1]!));
  if (cls?.id === 'connect_unavailable' || cls?.id === 'connect_jobs_cancelled') {
    const endpoint = CONNECT_ENDPOINT.exec(text)?.[0];
    if (endpoint) causes.push(entityKey.sparkConnect(endpoint));
  }
  if (cls?.id === 'connect_jobs_cancelled' && appId) {
    const job = JOB_CANCELLED.exec(errorText)?.[1];
    if (job) causes.push(entityKey.sparkJob(appId, job));
  }
  const endpoint = CONNECT_ENDPOINT.exec(text)?.[0];
  const uses = endpoint ? [entityKey.sparkConnect(endpoint)] : [];
  const names = resourcesNamedIn(errorLines(text));
  const exception = exceptionOf(errorText);
  const errorLine = lastErrorLine(errorText)?.trim();
  return {
    ...(errorClass ? { errorClass } : {}),
    causes: [...new Set(causes)],
    uses,
    names,
    ...(exception ? { exception } : {}),
    ...(errorLine ? { errorLine } : {}),
  };
}

/**
 * An exception's name: `botocore.exceptions.ClientError` → `ClientError`, by its suffix, or by
 * the place a raised exception is printed, whatever its name: a qualified class name opening a
 * line, followed by its message (`psycopg2.errors.LockNotAvailable: canceling statement`, the last
 * line of a Python traceback; `Caused by: java.io.IOException: …` in Java's).
 */
const RAISED_NAME = String.raw`^(?:Caused by: )?(?:[a-z_]\w*\.)+([A-Z]\w*[a-z]\w*)(?=: |$)`;
const EXCEPTION = new RegExp(
  String.raw`\b([A-Z]\w*(?:Exception|Error|Timeout|Failure))\b|${RAISED_NAME}`,
  'gm',
);
/** A line that prints a raised exception under a qualified name (the second form above). */
const RAISED = new RegExp(RAISED_NAME);

/** The name of the last exception a failure's last error reports. */
export function exceptionOf(errorText: string): string | undefined {
  return [...errorText.matchAll(EXCEPTION)].map((m) => (m[1] ?? m[2])!).at(-1);
}

/** The evidence label of a failure's exception name, kept when no error class is known. */
export const EXCEPTION_LABEL = 'exception';
/** The evidence label of the last line of a failure's text that reports an error. */
export const ERROR_LINE_LABEL = 'error';
/** How much of that line a signal keeps. */
export const ERROR_LINE_MAX = 240;

/**
 * What a failure is, for comparing failures with each other: its error class when the signature
 * library knows it, else the name of the last exception its text reported (`ClientError`, kept as
 * evidence by the detector that read the whole text), else `unknown`. Failures on one machine are
 * one fault only when they fail the same way.
 */
export function failureSignature(errorClass: string | undefined, exception: string | undefined): string {
  return errorClass ?? exception ?? 'unknown';
}

/** From the last line that reports an error to the end; the whole text when none does. */
export function lastError(text: string): string {
  const lines = text.split('\n');
  const i = lastErrorIndex(lines);
  // include a few lines after: gRPC details and "Reason:" follow the exception line
  return i < 0 ? text : lines.slice(Math.max(0, i - 1), i + 8).join('\n');
}

/** The last line that reports an error (`…Exception: message`, `ERROR - …`), if any. */
export function lastErrorLine(text: string): string | undefined {
  const lines = text.split('\n');
  const i = lastErrorIndex(lines);
  return i < 0 ? undefined : lines[i];
}

function lastErrorIndex(lines: readonly string[]): number {
  for (let i = lines.length - 1; i >= 0; i--) {
    // An indented line continues the one before it (a stack frame, the fields of a gRPC status,
    // a message on several lines): the error it belongs to is reported above it.
    const line = lines[i]!;
    if ((/(ERROR|FATAL|Exception|Error)\b/.test(line) || RAISED.test(line)) && !/^\s/.test(line)) return i;
  }
  return -1;
}
