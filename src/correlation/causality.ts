import {
  type EntityKey,
  entityKey,
  evidenceText,
  type IncidentSignal,
  parseTaskKey,
  type RootCause,
  timeOfDay,
} from '../core/index.ts';
import { EXCEPTION_LABEL, failureClass, failureSignature } from '../logs/failure-text.ts';
import { parseTableWrite, TABLE_LAST_WRITTEN, type TableWrite } from '../logs/table-lineage.ts';
import { ACTOR_MAX_CONFIDENCE, type Actor, actorOfWrite, actorsOf, writesOfFailures } from './actors.ts';
import { heldCapacity, holdersOf, WAITED_FOR, waitedFor } from './capacity.ts';
import { accountExplains, accountsByClass } from './own-account.ts';
import { servedBy, servedFrom, unwellSince } from './resource-evidence.ts';
import {
  alsoAboutSeries,
  DEPARTED_AT,
  DEPARTURE,
  errorLines,
  resourcesNamedIn,
  resourcesOfSeries,
  shortNameOf,
  TELEMETRY_PIPELINE,
} from './resources.ts';

/**
 * The platform's causal order, upstream first: infrastructure (hosts, workers) before the engine
 * (Spark Connect, executors), the engine before jobs, jobs before the tasks that submitted them,
 * tasks before what follows from them: upstream_failed tasks, failed DAG runs, executors their own
 * tasks ran out of memory, and symptoms (log lines, metrics) that name no infrastructure.
 */
export const LAYERS = ['infrastructure', 'engine', 'job', 'task', 'downstream'] as const;
export type Layer = (typeof LAYERS)[number];

/** What a signal is, to the correlator. */
export interface SignalRole {
  /**
   * Entities that tie it to other signals: a signal joins an open incident that holds one of them.
   * Hubs that everything touches (the Spark application, the master, the Airflow worker a task ran
   * on, the DAG) are not keys: sharing them says nothing about a common cause.
   */
  readonly keys: readonly EntityKey[];
  /**
   * Entities it is tied to only if they are already known to be broken: a task that timed out
   * while using a Spark Connect endpoint that is down joins that outage.
   */
  readonly weakKeys: readonly EntityKey[];
  /** Where it says the cause is. */
  readonly hypothesis: Hypothesis;
  /** Worth waking someone for on its own (otherwise: recorded, and impact of what it joins). */
  readonly pages: boolean;
  /**
   * A fact that stays true (an executor lost, a job failed, a run failed): it does not hold the
   * incident open. Conditions (a task failing, an endpoint down) hold it open until they clear.
   */
  readonly event: boolean;
  /** `dag/task` for Airflow task signals: the same task failing run after run is one incident. */
  readonly recurrence?: string;
  /**
   * `class@entity` for each host and executor a classified failure happened on: the same failure
   * on the same machine at about the same time is one incident, whoever reported it first (the
   * executor's loss, the driver's log line about it, the job it failed, the scheduler giving up on
   * a worker's tasks).
   */
  readonly failures: readonly string[];
  /**
   * Hosts this symptom (a log line, a metric) names: it may show them failing. A `metric.silent`
   * naming a host corroborates the host being lost.
   */
  readonly namedHosts: readonly EntityKey[];
  /**
   * For a failure (a task try, a job, an executor, an import error, a late DAG): the resources
   * its text or its edges name (hosts, buckets, services, modules, the DAG file, the scheduler).
   * What it names and what has departed there explain it.
   */
  readonly names: readonly EntityKey[];
  /**
   * For a symptom (a metric series, a log stream): the resources it is evidence about, from its
   * attributes or labels.
   */
  readonly resources: readonly EntityKey[];
  /**
   * For a symptom: what else it may be about (`alsoAboutSeries`), for the failures that name it
   * only; it ties no two symptoms together.
   */
  readonly alsoAbout: readonly EntityKey[];
  /** Work that failed or went missing: what an incident's root cause has to explain. */
  readonly failure: boolean;
  /**
   * For a failure that carries differential evidence (work succeeded on other machines meanwhile):
   * the machine it ran on, `host:…`: the Celery worker of an Airflow try, the host of the executor
   * a Spark job's task was lost on. Failures of several DAGs on one machine while the platform works
   * elsewhere point at the machine, whatever their texts say.
   */
  readonly machine?: EntityKey;
  /**
   * With `machine`: how it failed (`failureSignature`), so that only failures on the machine that
   * fail the same way are taken for one fault of it (two unrelated retries that happened to share
   * a worker are not).
   */
  readonly signature?: string;
  /**
   * For a failure of some DAG's work (a try, a job a task submitted): how it failed, when that
   * says one cause (an outage's class; else, with no known class, its last exception or that it
   * never ran; see `wayOf`). Failures of several DAGs that begin one way within a short span
   * share a cause when nothing else ties them: when and how they failed is the link.
   */
  readonly way?: string;
  /** With `way`: the DAG whose work failed that way. */
  readonly unit?: string;
  /**
   * Work that is not happening waits on this (the scheduler, for a run that started and does not
   * progress): it looks up incidents holding that component's own series and streams, whose
   * departure may explain it. A run never created does not wait on the hand-off: its own DAG
   * file or `max_active_runs` explains it first.
   */
  readonly waitsOn: readonly EntityKey[];
  /**
   * Work that is not happening (runs not created, runs not starting their tasks): such signals of
   * several DAGs share their cause, the scheduler and what it hands work to, so the scheduler is
   * one of their keys.
   */
  readonly missing: boolean;
  /**
   * When a series' departure began (`departed at`, epoch ms), which a detector judging two points
   * in a row sees one point late; NaN when the signal does not say.
   */
  readonly departedAt: number;
  /**
   * For a failure naming a table: the tasks that last wrote the tables it names, shortly before
   * (`table last written` evidence), with when they wrote them, or were still writing them (when
   * they began). Lineage: a writer that succeeded just before its readers failed, or that was
   * changing the table while they used it, is a cause to consider.
   */
  readonly writers: readonly TableWrite[];
  /**
   * For a failure: the hosts that served what it used (`resource-evidence.ts`, the Spark Connect
   * driver's host). A series of such a host that departed before it explains it.
   */
  readonly servedFrom: readonly EntityKey[];
}

/** Root-cause kinds that mean a host is gone: its silence and the symptoms that named it belong to the loss. */
export const HOST_LOSS_KINDS: ReadonlySet<string> = new Set([
  'host_lost',
  'spot_interruption',
  'worker_lost',
]);

export interface Hypothesis {
  readonly entity: EntityKey;
  readonly kind: string;
  readonly layer: Layer;
  /** How directly the signal shows it: 1 for a signal about the entity itself, less when inferred. */
  readonly directness: number;
  readonly title: string;
}

const EVENT_KINDS = new Set([
  'spark.executor_lost',
  'spark.job_failed',
  'spark.job_lost',
  'spark.worker_dead',
  'airflow.task_upstream_failed',
  'airflow.dagrun_failed',
]);

/** Classes whose cause is the host named in the failure. */
const HOST_CLASSES = new Set(['host_lost', 'spot_interruption', 'executor_decommission']);
const CONNECT_CLASSES = new Set(['connect_unavailable', 'connect_jobs_cancelled']);

type RoleInput = Pick<IncidentSignal, 'kind' | 'entity' | 'related' | 'severity' | 'evidence' | 'title'> & {
  errorClass?: string | undefined;
  names?: readonly EntityKey[] | undefined;
};

/** Signals are immutable: a signal's role is computed once. */
const roles = new WeakMap<RoleInput, SignalRole>();

export function roleOf(s: RoleInput): SignalRole {
  let role = roles.get(s);
  if (!role) {
    role = computeRole(s);
    roles.set(s, role);
  }
  return role;
}

function computeRole(s: RoleInput): SignalRole {
  const cls = failureClass(s.errorClass);
  const workerHost = s.kind.startsWith('airflow.') ? evidenceText(s, 'worker') : undefined;
  const symptom = s.kind.startsWith('metric.') || s.kind.startsWith('log.');
  const keys = new Set<EntityKey>();
  const weakKeys = new Set<EntityKey>();
  // A symptom ties by its own stream or series; what it names elsewhere is a weak link.
  if (!symptom || s.entity.startsWith('log:') || s.entity.startsWith('metric:')) keys.add(s.entity);
  else weakKeys.add(s.entity);
  const missing = MISSING_KINDS.has(s.kind);
  for (const r of s.related) {
    // DAGs whose runs are not being created, or not started, share their cause, the scheduler
    // and what it hands work to: one incident.
    if (missing && r === 'airflow:scheduler') {
      keys.add(r);
      continue;
    }
    if (isHub(r)) continue;
    if (workerHost && r === `host:${workerHost}` && cls?.id !== 'airflow_task_killed') continue;
    if (
      r.startsWith('spark:connect:') &&
      s.kind.startsWith('airflow.') &&
      !CONNECT_CLASSES.has(cls?.id ?? '')
    ) {
      weakKeys.add(r);
      continue;
    }
    // A metric or a log line is a symptom of what it names (a host, an endpoint, a job): it joins
    // what is known broken there, it does not tie incidents together (many things share a host).
    if (symptom) {
      weakKeys.add(r);
      continue;
    }
    keys.add(r);
  }
  // A series or stream of an Airflow component (the scheduler's heartbeat) shows that component:
  // it joins the component seen unhealthy, as a symptom joins what it names.
  if (symptom) for (const r of resourcesOfSeries(s.entity)) if (r.startsWith('airflow:')) weakKeys.add(r);
  const task = parseTaskKey(s.entity);
  const machines = [...keys, ...weakKeys].filter(
    (e) => e.startsWith('host:') || e.startsWith('spark:executor:'),
  );
  const failure = FAILURE_KINDS.has(s.kind);
  const names = new Set<EntityKey>();
  if (failure) {
    // A try's related hosts are the workers its tries ran on (a retry accumulates them), unless its
    // class is one whose text names the machine at fault (a host lost, an executor's disk).
    const workersOnly = workerHost !== undefined && !TEXT_NAMES_MACHINE.has(cls?.layer ?? '');
    for (const r of s.related) {
      if (workersOnly && r.startsWith('host:')) continue;
      // the series a failure stands for (what stopped reporting) are its symptoms, not what it names
      if (r.startsWith('metric:')) continue;
      if (!isHub(r) || r === 'airflow:scheduler') names.add(r);
    }
    if (workerHost && !cls?.local) names.delete(`host:${workerHost}`);
    if (workerHost && cls?.local) names.add(`host:${workerHost}`);
    for (const r of s.names ?? []) names.add(r);
    // A signal from before names were read (a stored incident): read what its evidence still holds.
    if (!s.names) for (const r of resourcesNamedIn(errorLines(failureText(s)))) names.add(r);
    names.delete(s.entity);
    for (const r of [...names]) {
      const short = shortNameOf(r);
      if (short) names.add(short);
    }
  }
  const resources = symptom
    ? [
        ...new Set(
          [...resourcesOfSeries(s.entity), ...(s.entity.startsWith('metric:') ? weakKeys : [])].filter(
            (r) =>
              r.startsWith('host:') ||
              r.startsWith('name:') ||
              r.startsWith('airflow:') ||
              r === TELEMETRY_PIPELINE,
          ),
        ),
      ]
    : // An Airflow component seen unhealthy is evidence about that component, as its own
      // series are: what waits on it looks it up there.
      s.kind === 'airflow.component_unhealthy'
      ? [s.entity]
      : // A run that holds its DAG's every slot is evidence about that DAG's work not progressing:
        // what waits on the DAG (a sensor of another DAG) looks it up there.
        s.kind === RUN_BLOCKING
        ? s.related.filter((r) => r.startsWith('airflow:dag:'))
        : [];
  const machine = failure ? machineOf(s, workerHost) : undefined;
  const dag = failure ? dagOf(s) : undefined;
  const way = dag ? wayOf(s) : undefined;
  return {
    ...(way ? { way, unit: dag } : {}),
    missing,
    waitsOn: [
      ...(STARTED_WAITING_KINDS.has(s.kind) && s.related.includes('airflow:scheduler')
        ? ['airflow:scheduler']
        : []),
      // Work handed to a component that never handed it back (a deferral whose trigger never
      // fired) waits on that component.
      ...[...names].filter((n) => HANDS_ON.has(n)),
      // Work that waited for another DAG's work (a sensor naming that DAG) waits on that DAG.
      ...[...names].filter((n) => n.startsWith('airflow:dag:') && n !== dagKeyOf(s)),
    ],
    writers: failure ? writersOf(s) : [],
    servedFrom: failure ? servedFrom(s) : [],
    names: [...names],
    resources,
    alsoAbout: symptom ? alsoAboutSeries(s.entity) : [],
    failure,
    ...(machine
      ? { machine, signature: failureSignature(s.errorClass, evidenceText(s, EXCEPTION_LABEL)) }
      : {}),
    keys: [...keys],
    weakKeys: [...weakKeys],
    hypothesis: hypothesisOf(s, cls?.id),
    pages: pages(s, cls?.id),
    event: EVENT_KINDS.has(s.kind) || s.kind.startsWith('log.'),
    ...(task ? { recurrence: `${task.dagId}/${task.taskId}` } : {}),
    failures: cls ? machines.map((m) => `${cls.id}@${m}`) : [],
    namedHosts: symptom ? [...weakKeys].filter((e) => e.startsWith('host:')) : [],
    departedAt: departedAt(s),
  };
}

function departedAt(s: RoleInput): number {
  const text = evidenceText(s, DEPARTED_AT);
  return text ? Date.parse(text) : Number.NaN;
}

/** Layers of the classes whose failure text names the machine at fault (`readFailureText`'s causes). */
const TEXT_NAMES_MACHINE: ReadonlySet<string> = new Set(['infrastructure', 'engine']);

/**
 * A DAG's due run not created because its own active runs hold every `max_active_runs` slot
 * (`detectors/airflow-dag-late.ts`): about the oldest of those runs.
 */
const RUN_BLOCKING = 'airflow.run_blocking';

/** The DAG a task signal belongs to, as a key. */
function dagKeyOf(s: Pick<RoleInput, 'entity'>): EntityKey | undefined {
  const task = parseTaskKey(s.entity);
  return task ? `airflow:dag:${task.dagId}` : undefined;
}

/** Signals of work that failed or went missing. */
const FAILURE_KINDS = new Set([
  'airflow.task_retry',
  'airflow.task_failed',
  'airflow.import_error',
  'airflow.dag_late',
  'airflow.run_stalled',
  'spark.job_failed',
  'spark.job_lost',
  'spark.executor_lost',
  'spark.worker_dead',
  'spark.connect_unreachable',
  'telemetry.silent',
  RUN_BLOCKING,
]);

/**
 * Airflow components that work waits on when they do not hand it on: the triggerer runs deferred
 * tasks' triggers and hands them back; the DAG processor parses DAG files and hands the DAGs to
 * the scheduler to plan.
 */
const HANDS_ON: ReadonlySet<EntityKey> = new Set(['airflow:triggerer', 'airflow:dag_processor']);

/** Work that is not happening (runs not created, runs not starting their tasks): it waits on the scheduler. */
const MISSING_KINDS = new Set(['airflow.dag_late', 'airflow.run_stalled']);
/** Of those, work that started and waits on what the scheduler hands work to (a pool, the executor). */
const STARTED_WAITING_KINDS = new Set(['airflow.run_stalled']);

/**
 * How a failure failed, when that says one cause: its error class if the library knows it as an
 * outage's (`shared`), else, for a failure of no known class, the last exception its text reports,
 * or, for a try that failed with no worker and no log, that it never ran (tries that cannot be
 * handed to workers). A class the library knows as not shared (a timeout, a rate limit, broken
 * SQL) is what unrelated jobs also meet now and then: it ties nothing by itself. A text the
 * library cannot read at all is compared with nothing.
 */
function wayOf(s: RoleInput): string | undefined {
  // Work that waited for cores another application held failed that way, whatever its text says.
  const held = holdersOf(s)[0];
  if (held) return waitedFor(held.app);
  if (failureClass(s.errorClass)?.shared === false) return undefined;
  const sig = failureSignature(s.errorClass, evidenceText(s, EXCEPTION_LABEL));
  if (sig !== UNKNOWN_WAY) return sig;
  const ran = s.evidence.some((e) => e.kind === 'log' || (e.kind === 'text' && e.label === 'worker'));
  return TRY_KINDS.has(s.kind) && !ran ? NOT_RUN : undefined;
}

/** Failures of an Airflow try. */
const TRY_KINDS: ReadonlySet<string> = new Set(['airflow.task_retry', 'airflow.task_failed']);
/** The way of a try that failed before any worker ran it. */
const NOT_RUN = 'failed before a worker ran it';

/** What `failureSignature` says of a failure whose text tells nothing. */
const UNKNOWN_WAY = failureSignature(undefined, undefined);

/** The evidence label of differential evidence: work that succeeded on other machines meanwhile. */
const SUCCEEDING_ELSEWHERE = 'succeeding elsewhere';
/** The evidence label of the executor a failed Spark job's task was lost on (`10.0.4.161 executor 22`). */
const LOST_TASK_ON = 'task lost on';

/**
 * The machine a failure ran on, when it carries differential evidence: an Airflow try's worker, or
 * the host of the executor a Spark job's task was lost on (read from its stage's failure reason).
 */
function machineOf(s: RoleInput, workerHost: string | undefined): EntityKey | undefined {
  if (!s.evidence.some((e) => e.kind === 'text' && e.label === SUCCEEDING_ELSEWHERE)) return undefined;
  if (workerHost) return `host:${workerHost}`;
  const host = evidenceText(s, LOST_TASK_ON)?.split(' ')[0];
  return host ? `host:${host}` : undefined;
}

function writersOf(s: RoleInput): SignalRole['writers'] {
  return s.evidence.flatMap((e) =>
    e.kind === 'text' && e.label === TABLE_LAST_WRITTEN ? (parseTableWrite(e.text) ?? []) : [],
  );
}

/** When what a signal shows began: its series' departure if it says, else when it was first seen. */
function beganAt(s: Pick<IncidentSignal, 'firstSeen'>, role: SignalRole): number {
  return Number.isNaN(role.departedAt) ? s.firstSeen : Math.min(role.departedAt, s.firstSeen);
}

/** The failure text a signal carries: a try's log, a stage's failure reason, a stack trace. */
function failureText(s: Pick<IncidentSignal, 'evidence'>): string {
  const parts: string[] = [];
  for (const e of s.evidence) {
    if (e.kind === 'log') parts.push(e.lines.join('\n'));
    else if (
      e.kind === 'text' &&
      (e.label === 'reason' || e.label === 'remove reason' || e.label === 'cause')
    )
      parts.push(e.text);
  }
  return parts.join('\n');
}

function isHub(entity: EntityKey): boolean {
  return (
    entity.startsWith('spark:app:') ||
    entity.startsWith('spark:master:') ||
    entity.startsWith('airflow:dag:') ||
    entity === 'airflow:scheduler'
  );
}

function pages(s: Pick<IncidentSignal, 'kind' | 'severity'>, cls: string | undefined): boolean {
  const deterministic = failureClass(cls)?.deterministic ?? false;
  switch (s.kind) {
    case 'airflow.task_failed':
      return true;
    case 'airflow.task_retry':
    case 'spark.job_failed':
    case 'spark.job_lost':
      return deterministic;
    case 'airflow.task_upstream_failed':
    case 'airflow.dagrun_failed':
      return false;
    case 'spark.executor_lost':
      return cls !== undefined && HOST_CLASSES.has(cls);
    case 'spark.worker_dead':
    case 'spark.connect_unreachable':
    case 'source.down':
      return true;
    case 'metric.anomaly':
    case 'metric.silent':
      return s.severity === 'critical';
    default:
      // A log line is a symptom; even a spot notice only announces a loss, which pages when it comes.
      if (s.kind.startsWith('log.')) return false;
      return s.severity === 'high' || s.severity === 'critical';
  }
}

function hypothesisOf(
  s: Pick<IncidentSignal, 'kind' | 'entity' | 'related' | 'title' | 'evidence'>,
  cls: string | undefined,
): Hypothesis {
  const host = s.related.find((r) => r.startsWith('host:') && r !== s.entity);
  const self = (kind: string, layer: Layer, directness = 1): Hypothesis => ({
    entity: s.entity,
    kind,
    layer,
    directness,
    title: s.title,
  });
  switch (s.kind) {
    case 'spark.worker_dead':
      return host
        ? {
            entity: host,
            kind: hostKind(cls),
            layer: 'infrastructure',
            directness: 1,
            title: `Spark worker ${host.slice(5)} lost`,
          }
        : self(hostKind(cls), 'infrastructure');
    case 'spark.executor_lost':
      if (cls && HOST_CLASSES.has(cls) && host)
        return {
          entity: host,
          kind: hostKind(cls),
          layer: 'infrastructure',
          directness: 0.9,
          title: `Spark worker ${host.slice(5)} lost`,
        };
      // An executor its own tasks ran out of memory is a victim of the work it ran: the job or
      // task that did it is the cause when the incident shows one.
      if (cls === 'executor_oom') return self('executor_oom', 'downstream', 0.9);
      return self('executor_lost', 'engine');
    case 'spark.connect_unreachable':
      return self('connect_unavailable', 'engine');
    case 'source.down':
      return self('source_down', 'engine');
    // Series of many resources stopped together: their pipeline, seen only by what is missing.
    // What it shows is less than what the pipeline's own series or log says of itself.
    case 'telemetry.silent':
      return self('telemetry_silent', 'downstream', 0.3);
    case 'airflow.task_upstream_failed':
    case 'airflow.dagrun_failed':
      return self(s.kind, 'downstream');
    // The scheduler, the DAG processor, the metadata database: Airflow's engine.
    case 'airflow.component_unhealthy':
      return self(s.kind, 'engine');
    // A run not created: the DAG's own business (max_active_runs, its file) unless the incident
    // shows the scheduler itself unhealthy.
    case 'airflow.dag_late':
      return self('dag_late', 'task');
    // A run whose tasks do not start: what it waits on (a pool, the executor) unless that shows.
    case 'airflow.run_stalled':
      return self('run_stalled', 'task');
    // A run that does not end and holds the slot its DAG's next run needs: itself.
    case RUN_BLOCKING:
      return self('run_blocking', 'task');
    default:
      break;
  }
  // Failures of jobs and tasks: where their own text points, else themselves.
  const layer: Layer = s.kind.startsWith('spark.job')
    ? 'job'
    : s.kind.startsWith('airflow.task')
      ? 'task'
      : 'job';
  if (cls && HOST_CLASSES.has(cls)) {
    // the host the failure text names, not the Airflow worker the try ran on
    const worker = s.kind.startsWith('airflow.') ? evidenceText(s, 'worker') : undefined;
    const named = s.related.find((r) => r.startsWith('host:') && r !== s.entity && r !== `host:${worker}`);
    if (named && !s.kind.startsWith('log.'))
      return {
        entity: named,
        kind: hostKind(cls),
        layer: 'infrastructure',
        directness: 0.6,
        title: `Spark worker ${named.slice(5)} lost`,
      };
    if (named) return { entity: named, kind: cls, layer: 'infrastructure', directness: 0.8, title: s.title };
  }
  // A shuffle fetch that failed points at the host that could not serve the map output.
  if (cls === 'fetch_failed' && !s.kind.startsWith('log.')) {
    const worker = s.kind.startsWith('airflow.') ? evidenceText(s, 'worker') : undefined;
    const source = s.related.find((r) => r.startsWith('host:') && r !== s.entity && r !== `host:${worker}`);
    if (source)
      return {
        entity: source,
        kind: 'shuffle_source_failing',
        layer: 'infrastructure',
        directness: 0.6,
        title: `Shuffle files on ${source.slice(5)} cannot be read`,
      };
  }
  if (cls && CONNECT_CLASSES.has(cls)) {
    const endpoint = s.related.find((r) => r.startsWith('spark:connect:'));
    if (endpoint)
      return {
        entity: endpoint,
        kind: 'connect_unavailable',
        layer: 'engine',
        directness: 0.6,
        title: `Spark Connect ${endpoint.slice('spark:connect:'.length)} unavailable`,
      };
  }
  // A task killed from outside (SIGKILL, zombie) points at the Airflow worker it ran on.
  if (cls === 'airflow_task_killed' && s.kind.startsWith('airflow.task')) {
    const worker = evidenceText(s, 'worker');
    if (worker && s.related.includes(`host:${worker}`))
      return {
        entity: `host:${worker}`,
        kind: 'worker_lost',
        layer: 'infrastructure',
        directness: 0.6,
        title: `Airflow worker ${worker} lost or killing its tasks`,
      };
  }
  // A log line or a metric is a symptom: it ranks after the work that failed, and is the root
  // cause only of what shows nothing else.
  if (s.kind.startsWith('metric.') || s.kind.startsWith('log.')) {
    // A host's own series (its disk, its heartbeat), or a stream's line saying its machine failed
    // (disk full), is evidence about the host: the host is what it points at.
    const about = resourcesOfSeries(s.entity);
    const host = about.length === 1 && about[0]!.startsWith('host:') ? about[0]! : undefined;
    // A series that fell shows less getting through, as any fault upstream does; one that rose
    // (errors, throttles, latency) is the resource's own account: a little more direct.
    const directness = evidenceText(s, DEPARTURE) === 'fall' ? 0.45 : 0.5;
    if (host && (s.kind.startsWith('metric.') || failureClass(cls)?.local))
      return { entity: host, kind: cls ?? s.kind, layer: 'downstream', directness, title: s.title };
    return cls ? self(cls, 'downstream') : self(s.kind, 'downstream', directness);
  }
  if (cls === 's3_throttling') return self('s3_throttling', layer, 0.7);
  if (cls === 'sql_analysis_error') return self('sql_error', layer);
  if (cls) return self(cls, layer);
  return self(s.kind, layer);
}

function hostKind(cls: string | undefined): string {
  return cls === 'spot_interruption' || cls === 'executor_decommission' ? 'spot_interruption' : 'host_lost';
}

/** The two numbers root-cause inference turns on; chosen by leave-one-mode-out (docs/causal-correlation.md). */
export interface CausalParams {
  /**
   * How long after a symptom a candidate's own evidence may begin and still count as its cause:
   * a resource's series is judged a point or two after it departs, so its signal can trail the
   * first failure it explains by that much. Later than this, it is a consequence. @defaultValue 3 min
   */
  readonly precedenceMs: number;
  /**
   * DAGs whose failures one observed cause explains (or that fail with one outage's error class)
   * from which the evidence for a cause is strong enough to page before any task failed for good.
   * @defaultValue 2
   */
  readonly pageAfterDags: number;
}

export const DEFAULT_CAUSAL: CausalParams = { precedenceMs: 180_000, pageAfterDags: 2 };

interface Candidate {
  h: Hypothesis;
  first: number;
  support: number;
  directness: number;
  spot: boolean;
  evidence: string[];
  /** What the candidate's own signals are evidence about (resource keys). */
  resources: ReadonlySet<EntityKey>;
  /** What else its own signals may be about, for failures that name it (`SignalRole.alsoAbout`). */
  alsoAbout: ReadonlySet<EntityKey>;
  /** What its own failures name (the executors a job ran on). */
  names: ReadonlySet<EntityKey>;
  /** Error classes of its own signals. */
  classes: ReadonlySet<string>;
  /** The earliest signal supporting it. */
  origin: IncidentSignal;
  /**
   * No signal of its own: a host that failures of several DAGs name (the endpoint they could not
   * resolve or reach). It ranks after an observed candidate that explains as much.
   */
  inferred?: boolean;
  /**
   * Inferred only from what failures' texts name (a server they could not reach): one kind of tie,
   * and the named server may itself be a victim of what lies behind it. Its lead over the
   * runner-up does not raise its confidence (docs/causal-correlation.md, 17rt).
   */
  namedOnly?: boolean;
  /**
   * Only `info` signals support it: something new a stream said that is not an error
   * (`log.new_line`). A hint of a cause, not a fault observed: it ranks after an observed
   * candidate that explains as much.
   */
  hint?: boolean;
}

/** DAGs whose failures must name one host for that host to be a candidate without a signal of its own. */
const INFERRED_AFTER_DAGS = 2;

type RankInput = IncidentSignal & { errorClass?: string | undefined };

/**
 * The root cause of a group of signals, by general principles rather than by failure mode:
 * **coverage**, how many of the group's failures the candidate explains through the causal graph
 * (a failure points at it, names it, names a resource its series or stream is about, or is a job
 * its task submitted), counting only failures that did not begin before the candidate's own
 * evidence (temporal precedence, with {@link CausalParams.precedenceMs} for detection delay); then
 * an observed cause before one only inferred or only hinted at (a stream's new line that is not an
 * error); then which began first; then how directly its evidence shows it; the platform's layer
 * last.
 * Confidence grows with the share of the failures it explains, its lead over the runner-up and
 * the directness of its evidence; the evidence lists the chain: the candidate's own signal and
 * the edges to what it explains, with their times.
 */
export function rankRootCause(
  signals: readonly RankInput[],
  params: CausalParams = DEFAULT_CAUSAL,
): RootCause | null {
  if (signals.length === 0) return null;
  const byEntity = new Map<EntityKey, Candidate>();
  /** Some failure waited for cores another application held (`capacity.ts`). */
  let waited = false;
  for (const s of signals) {
    const role = roleOf(s);
    if (role.way?.startsWith(WAITED_FOR)) waited = true;
    const h = role.hypothesis;
    const cur = byEntity.get(h.entity);
    const spot = h.kind === 'spot_interruption';
    const began = beganAt(s, role);
    if (!cur) {
      byEntity.set(h.entity, {
        h,
        first: began,
        support: 1,
        directness: h.directness,
        spot,
        evidence: [s.title],
        resources: role.resources.length > 0 ? new Set(role.resources) : NONE,
        alsoAbout: role.alsoAbout.length > 0 ? new Set(role.alsoAbout) : NONE,
        names: role.names.length > 0 ? new Set(role.names) : NONE,
        classes: s.errorClass ? new Set([s.errorClass]) : NONE,
        origin: s,
        hint: s.severity === 'info',
      });
      continue;
    }
    cur.support++;
    cur.hint &&= s.severity === 'info';
    cur.spot ||= spot;
    if (role.resources.length > 0) cur.resources = union(cur.resources, role.resources);
    if (role.alsoAbout.length > 0) cur.alsoAbout = union(cur.alsoAbout, role.alsoAbout);
    if (role.names.length > 0) cur.names = union(cur.names, role.names);
    if (s.errorClass && !cur.classes.has(s.errorClass)) cur.classes = union(cur.classes, [s.errorClass]);
    if (
      h.directness > cur.directness ||
      (h.directness === cur.directness && LAYERS.indexOf(h.layer) < LAYERS.indexOf(cur.h.layer))
    ) {
      cur.h = h;
      cur.directness = h.directness;
    }
    if (began < cur.first) {
      cur.first = began;
      cur.origin = s;
    }
    if (cur.evidence.length < 4 && !cur.evidence.includes(s.title)) cur.evidence.push(s.title);
  }
  // When each machine's own account of being unwell began: what served a failure may explain it.
  const hostAccounts = unwellSince(
    signals,
    (x) => roleOf(x).hypothesis.entity,
    (x) => beganAt(x, roleOf(x)),
  );
  // Each failed entity once, at its earliest signal (a retry and the final failure are one task).
  const earliest = new Map<EntityKey, RankInput>();
  for (const s of signals) {
    if (!roleOf(s).failure) continue;
    const had = earliest.get(s.entity);
    if (!had || s.firstSeen < had.firstSeen) earliest.set(s.entity, s);
  }
  const failures = [...earliest.values()];
  inferNamedHosts(failures, byEntity);
  inferWaitedDags(failures, byEntity);
  const heldFrom = waited ? inferHolders(failures, byEntity) : new Map<EntityKey, EntityKey>();
  const onMachine = inferMachines(failures, byEntity, machinesOf(signals));
  // what each failure used that other work was writing (a Spark job: what its task's statements used)
  // (a storm of failures none of which used a table someone was writing costs one pass)
  const anyWrites = failures.some((f) => roleOf(f).writers.length > 0);
  const failureEntity = anyWrites ? new Map(failures.map((f) => [f.entity, f])) : undefined;
  /** Per actor, the failures under which its write began (it changed the table while they ran). */
  const changedUnder = new Map<EntityKey, number>();
  const writes = failureEntity
    ? writesOfFailures(failures, (e) => roleOf(failureEntity.get(e)!).writers)
    : new Map<EntityKey, readonly TableWrite[]>();
  const actors = inferActors(failures, byEntity, writes);
  inferWriters(failures, byEntity, writes);
  const victims = new Set<EntityKey>();
  for (const f of failures) if (roleOf(f).hypothesis.layer === 'downstream') victims.add(f.entity);
  const coverage = new Map<EntityKey, Link[]>();
  for (const e of byEntity.keys()) coverage.set(e, []);
  // Which candidates each resource and each failure's own names lead to: a failure's reach is
  // then a few lookups, not a pass over every candidate (a storm has hundreds).
  const byResource = new Map<EntityKey, EntityKey[]>();
  const namedBy = new Map<EntityKey, EntityKey[]>();
  // Names one series is about together (a function and the source it ingests) are one resource
  // to what names either of them.
  const aliases = new Map<EntityKey, EntityKey[]>();
  for (const [e, c] of byEntity) {
    for (const r of c.resources) push(byResource, r, e);
    for (const r of c.alsoAbout) push(byResource, r, e);
    // only victims are reached through what names them
    for (const n of c.names) if (victims.has(n)) push(namedBy, n, e);
    if (c.resources.size < 2) continue;
    const names = [...c.resources].filter((r) => r.startsWith('name:'));
    if (names.length > 1) for (const a of names) for (const b of names) if (a !== b) push(aliases, a, b);
  }
  // Infrastructure or engine seen failing with an outage's class (one endpoint, one store: a
  // `shared` class) explains the work failing with that class.
  const observedClass = new Map<string, EntityKey[]>();
  for (const [e, c] of byEntity)
    if (c.h.layer === 'infrastructure' || c.h.layer === 'engine')
      for (const k of c.classes) if (failureClass(k)?.shared) push(observedClass, k, e);
  // A resource's own series or stream reading as an outage's class explains the work failing
  // with that class after it, though their texts do not name it (`own-account.ts`).
  const accounts = accountsByClass(byEntity, failures, params.precedenceMs);
  for (const f of failures) {
    const ran = reach(f, byEntity, byResource, namedBy, observedClass, aliases);
    if (f.errorClass)
      for (const a of accounts.get(f.errorClass) ?? [])
        if (!ran.has(a.entity) && accountExplains(a, f)) ran.set(a.entity, 'same_class');
    for (const e of servedBy(roleOf(f).servedFrom, f.firstSeen, hostAccounts))
      if (byEntity.has(e) && !ran.has(e)) ran.set(e, 'served_from');
    const machine = onMachine.get(f.entity);
    if (machine && !ran.has(machine)) ran.set(machine, 'ran_on');
    // what it waited for, held by another application: said by the edge more than by the name
    const holder = heldFrom.get(f.entity);
    if (holder && (ran.get(holder) ?? 'names') === 'names') ran.set(holder, 'held_what_it_waited_for');
    for (const w of writes.get(f.entity) ?? []) {
      const actor = byEntity.get(w.task)?.inferred ? w.task : actorOfWrite(w, actors);
      if (actor && w.under) changedUnder.set(actor, (changedUnder.get(actor) ?? 0) + 1);
      // the lineage edge says more than the writer's name among the failure's relations
      const had = actor ? ran.get(actor) : undefined;
      if (actor && (had === undefined || had === 'names'))
        ran.set(actor, w.running ? 'contended_by' : 'read_what_it_wrote');
    }
    for (const [entity, edge] of ran) {
      // A DAG's recurring work is tied to a failure by a write that began before the try that
      // failed (lineage says so), whichever of its runs that was: precedence holds by the edge.
      if (!actors.has(entity) && f.firstSeen + params.precedenceMs < byEntity.get(entity)!.first) continue;
      coverage.get(entity)!.push({ at: f.firstSeen, from: entity, edge, to: f.entity, title: f.title });
    }
  }
  const cov = (e: EntityKey) => coverage.get(e)!.length;
  const ranked = [...byEntity.entries()].sort(
    ([ea, a], [eb, b]) =>
      cov(eb) - cov(ea) ||
      Number(a.inferred ?? false) - Number(b.inferred ?? false) ||
      Number(a.hint ?? false) - Number(b.hint ?? false) ||
      // work that changed what the failures used while they ran is closer to them than work
      // whose change was there before they began (both inferred from lineage)
      (changedUnder.get(eb) ?? 0) - (changedUnder.get(ea) ?? 0) ||
      a.first - b.first ||
      b.directness - a.directness ||
      LAYERS.indexOf(a.h.layer) - LAYERS.indexOf(b.h.layer) ||
      b.support - a.support ||
      (ea < eb ? -1 : ea > eb ? 1 : 0),
  );
  const [entity, best] = ranked[0]!;
  const dagsExplained = new Set(coverage.get(entity)!.flatMap((l) => dagOf(earliest.get(l.to)!) ?? [])).size;
  // A hint does not rival an observed cause it ranks after (a host's own stream saying something
  // new while the host is lost corroborates it): the runner-up is the next candidate that is not.
  const rival = best.hint ? ranked[1] : ranked.slice(1).find(([, c]) => !c.hint);
  const runnerUp = rival ? cov(rival[0]) : 0;
  const kind = best.spot && best.h.kind === 'host_lost' ? 'spot_interruption' : best.h.kind;
  const explained = coverage.get(entity)!;
  const failed = failures.length;
  // A failure explains itself (and the Spark jobs its task ran) trivially: that is no cause found.
  // Only what a candidate explains besides its own work counts towards its confidence, so "this
  // task failed because it failed" is not said with the confidence of an observed cause.
  const beyondItself = explained.filter((l) => l.to !== entity && l.edge !== 'submitted_by').length;
  const share = failed > 0 ? beyondItself / failed : 0;
  const lead = explained.length > 0 ? (explained.length - runnerUp) / explained.length : 0;
  const confidence =
    failed > 0
      ? 0.2 + 0.35 * share + (best.namedOnly ? 0 : 0.25 * lead) + 0.15 * best.directness
      : 0.3 + 0.3 * best.directness + 0.05 * Math.min(best.support - 1, 3);
  const errorClass = signals.find((s) => s.errorClass && roleOf(s).hypothesis.entity === entity)?.errorClass;
  const chain = [
    { at: best.first, from: entity, edge: 'observed', to: best.origin.entity },
    ...explained
      .sort((a, b) => a.at - b.at)
      .slice(0, MAX_CHAIN)
      .map(({ at, from, edge, to }) => ({ at, from, edge, to })),
  ];
  const lines = [
    // an inferred cause has no signal of its own: its line says what it was inferred from
    `${timeOfDay(best.first)} ${best.inferred ? best.h.title : best.origin.title}`,
    ...explained.slice(0, 3).map((l) => `${timeOfDay(l.at)} ${EDGE_TEXT[l.edge] ?? l.edge}: ${l.title}`),
  ];
  if (explained.length > 3) lines.push(`… explains ${explained.length} of ${failed} failures in all`);
  // Failures of several DAGs in the incident that failed one way (`SignalRole.way`: an outage's
  // class, or an exception or a never-run try the library has no class for): one cause shows,
  // whether or not it is named yet.
  const byWay = new Map<string, Set<string>>();
  for (const f of failures) {
    const { way, unit } = roleOf(f);
    if (!way || !unit) continue;
    const units = byWay.get(way) ?? new Set<string>();
    units.add(unit);
    byWay.set(way, units);
  }
  const oneWay = Math.max(0, ...[...byWay.values()].map((d) => d.size));
  // An actor inferred from lineage alone (a DAG's work, or a task still writing while others
  // failed) is a hypothesis, however much it explains.
  const actorFoundByLineage = actors.has(entity) || ACTORS_FOUND_BY_LINEAGE.has(best.h.kind);
  const rootCause: RootCause = {
    entity,
    kind,
    confidence:
      Math.round(Math.min(actorFoundByLineage ? ACTOR_MAX_CONFIDENCE : 0.97, confidence) * 100) / 100,
    title:
      kind === 'spot_interruption' && entity.startsWith('host:')
        ? `Spot worker ${entity.slice(5)} reclaimed`
        : best.h.title,
    evidence: lines,
    chain,
    ...(errorClass ? { errorClass } : {}),
  };
  // Seen broken in its own right (a resource's series or stream, a worker or endpoint observed down),
  // not inferred from the failures it explains.
  const observed =
    best.resources.size > 0 ||
    ((best.h.layer === 'infrastructure' || best.h.layer === 'engine') && best.directness >= 0.9);
  // Failures of several DAGs whose own texts point at one machine (the host a shuffle could not be
  // read from) are that machine's evidence, as one outage's error class is.
  const pointedDags = () =>
    new Set(explained.flatMap((l) => (l.edge === 'points_at' ? (dagOf(earliest.get(l.to)!) ?? []) : [])))
      .size;
  // A machine singled out by the differential (failures of several DAGs on it, the same work
  // succeeding elsewhere) is seen failing as directly as a host its failures name.
  const ranOnDags = () =>
    new Set(
      explained.flatMap((l) =>
        l.edge === 'ran_on' || l.edge === 'read_what_it_wrote' || l.edge === 'contended_by'
          ? (dagOf(earliest.get(l.to)!) ?? [])
          : [],
      ),
    ).size;
  // Failures of several DAGs that the candidate explains beyond itself and that fail one way (an
  // error class, else the same exception): one cause shows, though each may still be retried.
  // Their first tries count, so this pages before any task fails for good.
  const explainedOneWay = () => {
    const dags = new Map<string, Set<string>>();
    for (const l of explained) {
      if (l.to === entity || l.edge === 'submitted_by') continue;
      const f = earliest.get(l.to)!;
      const dag = dagOf(f);
      const way = f.errorClass ?? evidenceText(f, EXCEPTION_LABEL);
      if (!way || !dag) continue;
      const set = dags.get(way) ?? new Set<string>();
      set.add(dag);
      dags.set(way, set);
    }
    return Math.max(0, ...[...dags.values()].map((d) => d.size));
  };
  // A resource's own series or stream departed, and then a failure named it: the cause showed
  // itself before its effect, and the effect points back at it. One failure is enough; the
  // order in time is what tells it from a departure that a failure happened to meet. A hint (a
  // stream's new line that is no error) is not a departure.
  const namedAfterDeparture = () =>
    best.resources.size > 0 &&
    !best.hint &&
    explained.some((l) => l.to !== entity && NAMING_EDGES.has(l.edge) && l.at >= best.first);
  strong.set(
    rootCause,
    (observed && dagsExplained >= params.pageAfterDags) ||
      namedAfterDeparture() ||
      ranOnDags() >= params.pageAfterDags ||
      oneWay >= params.pageAfterDags ||
      (best.h.layer === 'infrastructure' && !best.inferred && pointedDags() >= params.pageAfterDags) ||
      explainedOneWay() >= params.pageAfterDags,
  );
  return rootCause;
}

const strong = new WeakMap<RootCause, boolean>();

/** Edges by which a failure's own text or hypothesis leads to a candidate (not a shared class). */
const NAMING_EDGES: ReadonlySet<CauseEdge> = new Set(['points_at', 'names', 'names_resource_of']);

/**
 * Whether the evidence for this root cause (as `rankRootCause` just gave it) is strong enough to
 * page at once: it was seen broken itself and explains failures of several DAGs; or it is a
 * resource whose own series or stream departed before a failure that names it (one is enough);
 * or failures of several DAGs in the incident (retries included) fail one way (`SignalRole.way`),
 * whether or not a cause is named yet.
 */
export function isStrongCause(rootCause: RootCause | null): boolean {
  return rootCause !== null && strong.get(rootCause) === true;
}

/** The DAG a failure belongs to: its task's, or the task that submitted its job. */
function dagOf(s: Pick<IncidentSignal, 'entity' | 'related'>): string | undefined {
  const own = parseTaskKey(s.entity);
  if (own) return own.dagId;
  const task = s.related.find((r) => r.startsWith('airflow:task:'));
  if (task) return parseTaskKey(task)?.dagId;
  if (s.entity.startsWith('airflow:dag:')) return s.entity.slice('airflow:dag:'.length);
  return undefined;
}

/** Links of a chain kept on the incident. */
const MAX_CHAIN = 12;

interface Link {
  at: number;
  from: EntityKey;
  edge: CauseEdge;
  to: EntityKey;
  title: string;
}

/** How a candidate reaches a failure it explains. */
type CauseEdge =
  | 'points_at'
  | 'names'
  | 'names_resource_of'
  | 'submitted_by'
  | 'ran_victim'
  | 'same_class'
  | 'ran_on'
  | 'read_what_it_wrote'
  | 'contended_by'
  | 'held_what_it_waited_for'
  | 'served_from';

const EDGE_TEXT: Record<CauseEdge, string> = {
  points_at: 'points at it',
  names: 'names it',
  names_resource_of: 'names what it is about',
  submitted_by: 'its task',
  ran_victim: 'its work ran it down',
  same_class: 'fails the way it does',
  ran_on: 'ran on it while the same work succeeded elsewhere',
  read_what_it_wrote: 'read a table it had just written',
  contended_by: 'used a table it was changing',
  held_what_it_waited_for: 'waited for the cores it held',
  served_from: 'used what it served, after it showed unwell',
};

/**
 * The candidates a failure leads to through the graph, and by which edge: its own hypothesis; what
 * it names; candidates whose series or streams are about what it names; the task that submitted
 * it (a job); and, for a victim (an executor its tasks ran out of memory), the work that names
 * it. A victim candidate explains nothing beyond its own signals.
 */
function reach(
  f: RankInput,
  byEntity: ReadonlyMap<EntityKey, Candidate>,
  byResource: ReadonlyMap<EntityKey, readonly EntityKey[]>,
  namedBy: ReadonlyMap<EntityKey, readonly EntityKey[]>,
  byClass: ReadonlyMap<string, readonly EntityKey[]>,
  aliases: ReadonlyMap<EntityKey, readonly EntityKey[]>,
): Map<EntityKey, CauseEdge> {
  const role = roleOf(f);
  const out = new Map<EntityKey, CauseEdge>([[role.hypothesis.entity, 'points_at']]);
  const add = (e: EntityKey, edge: CauseEdge) => {
    const c = byEntity.get(e);
    if (!c || out.has(e) || (c.h.layer === 'downstream' && c.resources.size === 0 && c.alsoAbout.size === 0))
      return;
    out.set(e, edge);
  };
  for (const n of role.names) {
    add(n, 'names');
    for (const e of byResource.get(n) ?? []) add(e, 'names_resource_of');
    for (const a of aliases.get(n) ?? [])
      for (const e of byResource.get(a) ?? []) add(e, 'names_resource_of');
  }
  if (f.kind.startsWith('spark.job'))
    for (const r of f.related) if (r.startsWith('airflow:task:')) add(r, 'submitted_by');
  if (role.hypothesis.layer === 'downstream')
    for (const e of namedBy.get(f.entity) ?? []) add(e, 'ran_victim');
  if (f.errorClass) for (const e of byClass.get(f.errorClass) ?? []) add(e, 'same_class');
  return out;
}

/**
 * Hosts that failures of several DAGs name and that no signal is about or points at (a name that
 * stopped resolving, a server that refuses everyone) become candidates of their own: the common
 * thing the failures ran into, inferred rather than observed.
 */
function inferNamedHosts(failures: readonly RankInput[], byEntity: Map<EntityKey, Candidate>): void {
  const naming = new Map<EntityKey, RankInput[]>();
  for (const f of failures)
    for (const n of roleOf(f).names) if (n.startsWith('host:') && !byEntity.has(n)) push(naming, n, f);
  if (naming.size === 0) return;
  let observed: Set<EntityKey> | undefined;
  for (const [host, fs] of naming) {
    const dags = new Set(fs.flatMap((f) => dagOf(f) ?? []));
    if (dags.size < INFERRED_AFTER_DAGS) continue;
    if (!observed) {
      observed = new Set<EntityKey>();
      for (const c of byEntity.values()) for (const r of [...c.resources, ...c.alsoAbout]) observed.add(r);
    }
    if (observed.has(host)) continue;
    const classes = new Set(fs.flatMap((f) => f.errorClass ?? []));
    const kind = classes.size === 1 ? [...classes][0]! : 'resource_failing';
    byEntity.set(host, {
      ...inferred(
        {
          entity: host,
          kind,
          layer: 'infrastructure',
          title: `${host.slice(5)} failing: named by failures of ${dags.size} DAGs`,
        },
        fs,
      ),
      namedOnly: true,
    });
  }
}

/**
 * A DAG whose work failures of several DAGs waited for (their sensors name it, `SignalRole.waitsOn`)
 * and that no signal is about: its work did not happen, which is what they have in common. A
 * candidate of its own, inferred from the waiting (a run that holds the DAG's slot, or its missing
 * run, is observed and explains them first).
 */
function inferWaitedDags(failures: readonly RankInput[], byEntity: Map<EntityKey, Candidate>): void {
  const waiting = new Map<EntityKey, RankInput[]>();
  for (const f of failures)
    for (const w of roleOf(f).waitsOn)
      if (w.startsWith('airflow:dag:') && !byEntity.has(w)) push(waiting, w, f);
  if (waiting.size === 0) return;
  const observed = new Set<EntityKey>();
  for (const c of byEntity.values()) for (const r of c.resources) observed.add(r);
  for (const [dag, fs] of waiting) {
    const dags = new Set(fs.flatMap((f) => dagOf(f) ?? [])).size;
    if (dags < INFERRED_AFTER_DAGS || observed.has(dag)) continue;
    byEntity.set(dag, {
      ...inferred(
        {
          entity: dag,
          kind: 'waited_for',
          layer: 'task',
          title: `DAG ${dag.slice('airflow:dag:'.length)}: its work, which sensors of ${dags} DAGs waited for, did not happen`,
        },
        fs,
      ),
      namedOnly: true,
    });
  }
}

/**
 * Differential diagnosis: a machine on which failures of {@link INFERRED_AFTER_DAGS} or more DAGs
 * ran failing the same way, while work succeeded on other machines (`SignalRole.machine`), and on
 * which most of the
 * incident's failures of that kind ran (a fault everywhere singles out no machine, nor does work
 * whose tries failed on several machines: `ranOn`), is a candidate
 * cause whatever the failures' texts say (unless their class is a shared outage's, which says the
 * fault is in what they name): inferred, unless a signal already observes it. Returns,
 * for each failure, the machine it ran on that qualified: directly, or through the Spark job its
 * task submitted.
 */
function inferMachines(
  failures: readonly RankInput[],
  byEntity: Map<EntityKey, Candidate>,
  ranOn: ReadonlyMap<EntityKey, ReadonlySet<EntityKey>>,
): Map<EntityKey, EntityKey> {
  const out = new Map<EntityKey, EntityKey>();
  // Per kind of machine (Airflow workers, Spark hosts): failures on each, and how many in all.
  const onMachine = new Map<string, RankInput[]>();
  const total = new Map<string, number>();
  for (const f of failures) {
    const { machine: m, signature } = roleOf(f);
    // A shared outage's class says where the fault is (the resource its failures name), not on
    // the machine they happened to run on.
    if (!m || failureClass(f.errorClass)?.shared) continue;
    // Work that failed on several machines (a try here, the next one there) singles out none.
    if ((ranOn.get(f.entity)?.size ?? 0) > 1) continue;
    const family = f.kind.startsWith('spark.') ? 'spark' : 'airflow';
    push(onMachine, `${family} ${m} ${signature}`, f);
    total.set(family, (total.get(family) ?? 0) + 1);
  }
  if (onMachine.size === 0) return out;
  for (const [key, fs] of onMachine) {
    const [family, machine] = key.split(' ') as [string, EntityKey, string];
    const dags = new Set(fs.flatMap((f) => dagOf(f) ?? []));
    if (dags.size < INFERRED_AFTER_DAGS || fs.length * 2 <= total.get(family)!) continue;
    for (const f of fs) {
      out.set(f.entity, machine);
      // the Airflow task that submitted a Spark job lost on the machine failed there too
      for (const r of f.related) if (r.startsWith('airflow:task:') && !out.has(r)) out.set(r, machine);
    }
    if (byEntity.has(machine)) continue;
    byEntity.set(
      machine,
      inferred(
        {
          entity: machine,
          kind: 'machine_failing',
          layer: 'infrastructure',
          title: `${machine.slice(5)} failing: failures of ${dags.size} DAGs ran on it while the same work succeeded elsewhere`,
        },
        fs,
      ),
    );
  }
  return out;
}

/** The machines each failed entity's failures ran on (a retry's try, the final try: each its own signal). */
function machinesOf(signals: readonly RankInput[]): Map<EntityKey, Set<EntityKey>> {
  const out = new Map<EntityKey, Set<EntityKey>>();
  for (const s of signals) {
    const m = roleOf(s).machine;
    if (!m) continue;
    const set = out.get(s.entity) ?? new Set<EntityKey>();
    set.add(m);
    out.set(s.entity, set);
  }
  return out;
}

/**
 * Lineage: a task that last wrote tables which failures of {@link INFERRED_AFTER_DAGS} or more
 * DAGs name, shortly before they failed (`SignalRole.writers`), is a candidate cause though it
 * succeeded: inferred, its evidence beginning when it wrote.
 */
function inferWriters(
  failures: readonly RankInput[],
  byEntity: Map<EntityKey, Candidate>,
  writes: ReadonlyMap<EntityKey, readonly TableWrite[]>,
): void {
  const naming = new Map<EntityKey, RankInput[]>();
  const wrote = new Map<EntityKey, { at: number; tables: Set<string>; running: boolean }>();
  for (const f of failures)
    for (const w of writes.get(f.entity) ?? []) {
      // a task of a DAG whose work is the actor is not one of its own
      if (byEntity.has(w.task) || byEntity.has(entityKey.dag(parseTaskKey(w.task)?.dagId ?? ''))) continue;
      push(naming, w.task, f);
      const had = wrote.get(w.task) ?? { at: w.at, tables: new Set<string>(), running: false };
      had.at = Math.min(had.at, w.at);
      had.running ||= w.running;
      had.tables.add(w.table);
      wrote.set(w.task, had);
    }
  for (const [task, fs] of naming) {
    const dags = new Set(fs.flatMap((f) => dagOf(f) ?? []));
    if (dags.size < INFERRED_AFTER_DAGS) continue;
    const { at, tables, running } = wrote.get(task)!;
    const t = parseTaskKey(task);
    const name = t ? `${t.dagId}.${t.taskId}` : task;
    byEntity.set(
      task,
      inferred(
        {
          entity: task,
          kind: running ? CONTENDING : 'upstream_write',
          layer: 'task',
          title: running
            ? `${name} was changing ${[...tables].join(', ')} while tasks of ${dags.size} DAGs using it failed`
            : `${name} wrote ${[...tables].join(', ')} just before tasks of ${dags.size} DAGs reading it failed`,
        },
        fs,
        at,
      ),
    );
  }
}

/**
 * Actors ({@link actorsOf}): the DAG whose several tasks or runs wrote, or were writing, what
 * failures of {@link INFERRED_AFTER_DAGS} or more other DAGs used, when no one task of it explains
 * them all (a writer task that does is {@link inferWriters}'). Inferred, its evidence beginning
 * when its work on those tables began; returns the actors found, by entity.
 */
function inferActors(
  failures: readonly RankInput[],
  byEntity: Map<EntityKey, Candidate>,
  writes: ReadonlyMap<EntityKey, readonly TableWrite[]>,
): Map<EntityKey, Actor> {
  const out = new Map<EntityKey, Actor>();
  const withWrites = failures.filter((f) => writes.has(f.entity));
  if (withWrites.length === 0) return out;
  const found = actorsOf(
    withWrites.map((f) => ({ entity: f.entity, dag: dagOf(f), writers: writes.get(f.entity)! })),
    INFERRED_AFTER_DAGS,
  );
  for (const a of found) {
    if (!a.byDag || byEntity.has(a.entity)) continue;
    out.set(a.entity, a);
    const dag = a.entity.slice('airflow:dag:'.length);
    byEntity.set(
      a.entity,
      inferred(
        {
          entity: a.entity,
          kind: a.kind,
          layer: 'task',
          title:
            a.kind === 'contending_write'
              ? `${dag} was changing ${a.tables.join(', ')} while tasks of ${a.dags} other DAGs using it failed`
              : `${dag} wrote ${a.tables.join(', ')} just before tasks of ${a.dags} other DAGs reading it failed`,
        },
        failures.filter((f) => a.explains.has(f.entity)),
        a.first,
      ),
    );
  }
  return out;
}

/** The kind of a task or DAG that was writing what failures of other DAGs used while they failed. */
const CONTENDING = 'contending_write';

/** The kind of an application holding the cores that failed work waited for (`capacity.ts`). */
const HOLDING = 'holding_capacity';

/**
 * Kinds of an actor found by lineage alone, or holding what failed work waited for: a hypothesis,
 * whose confidence stays below {@link ACTOR_MAX_CONFIDENCE}.
 */
const ACTORS_FOUND_BY_LINEAGE: ReadonlySet<string> = new Set([CONTENDING, HOLDING]);

/**
 * Contention for a capacity ({@link heldCapacity}): an application holding the cores that jobs of
 * {@link INFERRED_AFTER_DAGS} or more DAGs waited for, their application having no executor, is a
 * candidate, inferred, its evidence beginning when it began holding them. Returns, per failure it
 * explains (the jobs, and the Airflow tasks that submitted them), the holder.
 */
function inferHolders(
  failures: readonly RankInput[],
  byEntity: Map<EntityKey, Candidate>,
): Map<EntityKey, EntityKey> {
  const out = new Map<EntityKey, EntityKey>();
  for (const { holder, dags, explains } of heldCapacity(failures, dagOf, INFERRED_AFTER_DAGS)) {
    for (const e of explains) out.set(e, holder.app);
    if (byEntity.has(holder.app)) continue;
    const fs = failures.filter((f) => explains.includes(f.entity));
    const id = holder.app.slice('spark:app:'.length);
    byEntity.set(
      holder.app,
      inferred(
        {
          entity: holder.app,
          kind: HOLDING,
          layer: 'job',
          title: `Spark application ${id} held ${holder.cores} of ${holder.of} cores while jobs of ${dags} DAGs waited with no executor`,
        },
        fs,
        Number.isNaN(holder.since) ? undefined : holder.since,
      ),
    );
  }
  return out;
}

/**
 * A candidate with no signal of its own, inferred from the failures `fs` that point at it: its
 * evidence begins at `first` (the earliest of them, unless known: when a writer wrote).
 */
function inferred(h: Omit<Hypothesis, 'directness'>, fs: readonly RankInput[], first?: number): Candidate {
  const origin = fs.reduce((a, b) => (b.firstSeen < a.firstSeen ? b : a));
  return {
    h: { ...h, directness: INFERRED_DIRECTNESS },
    first: first ?? origin.firstSeen,
    support: fs.length,
    directness: INFERRED_DIRECTNESS,
    spot: false,
    evidence: [origin.title],
    resources: NONE,
    alsoAbout: NONE,
    names: NONE,
    classes: new Set(fs.flatMap((f) => f.errorClass ?? [])),
    origin,
    inferred: true,
  };
}

/** How directly an inferred candidate is shown: by what points at it, never by itself. */
const INFERRED_DIRECTNESS = 0.5;

const NONE: ReadonlySet<never> = new Set();

/** `set` with `items` added: in place, except the shared empty set, which is never changed. */
function union<T>(set: ReadonlySet<T>, items: readonly T[]): Set<T> {
  const out = set === NONE ? new Set<T>() : (set as Set<T>);
  for (const i of items) out.add(i);
  return out;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
