import { type EntityKey, entityKey } from '../src/core/index.ts';

/**
 * What a failure's text (an Airflow try's log tail, a Spark stage's failure reason) says about its
 * cause: an error class, and the entities it names. This is how a task failure is tied to the host
 * that died under it or to the Spark Connect server it could not reach, before (or without) a
 * signal from that host or server.
 */
export interface FailureText {
  /** The error class id, see {@link FAILURE_CLASSES}; undefined when nothing known matched. */
  readonly errorClass?: string;
  /** Entities the text names as where the failure came from (hosts, executors, endpoints, jobs). */
  readonly causes: readonly EntityKey[];
  /** Entities the text shows the failed work was using (the Spark Connect endpoint it talked to). */
  readonly uses: readonly EntityKey[];
}

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
  readonly pattern: RegExp;
}

/**
 * Failure classes the correlator reasons with, most specific first. Matching is on the failure's
 * own text, so wording from Spark, pyspark, gRPC, the AWS SDK and Airflow is what the patterns know.
 */
export const FAILURE_CLASSES: readonly FailureClass[] = [
  {
    id: 'spot_interruption',
    layer: 'infrastructure',
    deterministic: false,
    shared: false,
    pattern: /spot (instance )?interruption|instance-action|being reclaimed|ec2 spot/i,
  },
  {
    id: 'executor_decommission',
    layer: 'infrastructure',
    deterministic: false,
    shared: false,
    pattern: /executor decommission|decommissioned executor|worker decommission/i,
  },
  {
    id: 'host_lost',
    layer: 'infrastructure',
    deterministic: false,
    shared: false,
    pattern:
      /ExecutorLostFailure|worker lost|Remote RPC client disassociated|got disassociated|executor \S+ (exited|lost)/i,
  },
  {
    id: 'executor_oom',
    layer: 'engine',
    deterministic: false,
    shared: false,
    pattern: /java\.lang\.OutOfMemoryError|exit code 137|container killed .*memory|exceeding memory limits/i,
  },
  {
    id: 'connect_unavailable',
    layer: 'engine',
    deterministic: false,
    shared: true,
    pattern:
      /StatusCode\.UNAVAILABLE|failed to connect to all addresses|grpc_status:14|Connection refused.*15002|SparkConnectGrpcException|session .* (not found|expired)|INVALID_HANDLE\.SESSION/i,
  },
  {
    id: 'connect_jobs_cancelled',
    layer: 'engine',
    deterministic: false,
    shared: true,
    pattern:
      /cancelled as part of cancellation of all jobs|SparkContext was shut down|SparkContext has been shutdown/i,
  },
  {
    id: 's3_throttling',
    layer: 'infrastructure',
    deterministic: false,
    shared: true,
    pattern: /SlowDown|503 Slow Down|Please reduce your request rate|ThrottlingException|Status Code: 503/i,
  },
  {
    id: 'iceberg_commit_conflict',
    layer: 'job',
    deterministic: false,
    shared: false,
    pattern: /CommitFailedException|Cannot commit.*(conflict|changed)|CommitStateUnknownException/i,
  },
  {
    id: 'fetch_failed',
    layer: 'engine',
    deterministic: false,
    shared: false,
    pattern: /FetchFailed|MetadataFetchFailedException|Missing an output location for shuffle/i,
  },
  {
    id: 'sql_analysis_error',
    layer: 'task',
    deterministic: true,
    shared: false,
    pattern:
      /AnalysisException|UNRESOLVED_COLUMN|TABLE_OR_VIEW_NOT_FOUND|PARSE_SYNTAX_ERROR|ParseException|cannot resolve/i,
  },
  {
    id: 'dag_import_error',
    layer: 'task',
    deterministic: true,
    shared: false,
    pattern: /ModuleNotFoundError|ImportError: |SyntaxError: |DagBag import/i,
  },
  {
    id: 'airflow_task_killed',
    layer: 'infrastructure',
    deterministic: false,
    shared: false,
    pattern:
      /SIGKILL|Negsignal\.SIGKILL|received SIGTERM|zombie|task heartbeat (timed out|got an exception)|was killed/i,
  },
  {
    id: 'upstream_api_auth',
    layer: 'task',
    deterministic: true,
    shared: false,
    pattern:
      /\b(401|403)\b.*(Unauthorized|Forbidden)|(Unauthorized|Forbidden).*\b(401|403)\b|InvalidAccessKeyId|ExpiredToken/i,
  },
  {
    id: 'upstream_api_rate_limited',
    layer: 'task',
    deterministic: false,
    shared: false,
    pattern: /\b429\b.*Too Many Requests|Too Many Requests.*\b429\b|rate limit exceeded/i,
  },
  {
    id: 'task_timeout',
    layer: 'task',
    deterministic: false,
    shared: false,
    pattern: /AirflowTaskTimeout|Timeout, PID/i,
  },
  {
    id: 'network_timeout',
    layer: 'infrastructure',
    deterministic: false,
    shared: false,
    pattern: /Read timed out|connect timed out|SocketTimeoutException|Connection reset/i,
  },
];

const BY_ID = new Map(FAILURE_CLASSES.map((c) => [c.id, c]));

export function failureClass(id: string | undefined): FailureClass | undefined {
  return id ? BY_ID.get(id) : undefined;
}

/** `(10.0.4.161 executor 22)`, Spark's "Lost task … (host executor id)". */
const EXECUTOR_ON_HOST = /\(([\w.-]+) executor (\w+)\)/g;
/** The Spark Connect endpoint a client used, e.g. in the operator's "Connecting to … sc://…". */
const CONNECT_ENDPOINT = /\bsc:\/\/[\w.-]+(?::\d+)?/;
const JOB_CANCELLED = /\bJob (\d+) cancelled\b/;

/**
 * Reads a failure's text. `appId` resolves executor and job ids to entities when the text comes
 * from a known Spark application. The error class is the one the *last* error in the text shows
 * (a traceback ends with the exception that failed the task); the classes above are tried in order.
 */
export function readFailureText(text: string, appId?: string): FailureText {
  const errorText = lastError(text);
  let errorClass: string | undefined;
  for (const c of FAILURE_CLASSES) {
    if (c.pattern.test(errorText)) {
      errorClass = c.id;
      break;
    }
  }
  const causes: EntityKey[] = [];
  const cls = failureClass(errorClass);
  if (
    cls &&
    (cls.id === 'host_lost' ||
      cls.id === 'executor_oom' ||
      cls.id === 'executor_decommission' ||
      cls.id === 'fetch_failed')
  ) {
    for (const m of errorText.matchAll(EXECUTOR_ON_HOST)) {
      causes.push(entityKey.host(m[1]!));
      if (appId) causes.push(entityKey.sparkExecutor(appId, m[2]!));
    }
  }
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
  return { ...(errorClass ? { errorClass } : {}), causes: [...new Set(causes)], uses };
}

/** From the last line that reports an error to the end; the whole text when none does. */
function lastError(text: string): string {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/(ERROR|FATAL|Exception|Error)\b/.test(lines[i]!) && !/^\s+(at |File ")/.test(lines[i]!)) {
      // include a few lines after: gRPC details and "Reason:" follow the exception line
      return lines.slice(Math.max(0, i - 1), i + 8).join('\n');
    }
  }
  return text;
}
