import { failureClass } from '../../detectors/failure-text.ts';
import { type EntityKey, type IncidentSignal, parseTaskKey, type RootCause } from '../core/index.ts';

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
  for (const r of s.related) {
    // DAGs whose runs are not being created share their cause, the scheduler: one incident.
    if (s.kind === 'airflow.dag_late' && r === 'airflow:scheduler') {
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
  const task = parseTaskKey(s.entity);
  const machines = [...keys, ...weakKeys].filter(
    (e) => e.startsWith('host:') || e.startsWith('spark:executor:'),
  );
  return {
    keys: [...keys],
    weakKeys: [...weakKeys],
    hypothesis: hypothesisOf(s, cls?.id),
    pages: pages(s, cls?.id),
    event: EVENT_KINDS.has(s.kind) || s.kind.startsWith('log.'),
    ...(task ? { recurrence: `${task.dagId}/${task.taskId}` } : {}),
    failures: cls ? machines.map((m) => `${cls.id}@${m}`) : [],
    namedHosts: symptom ? [...weakKeys].filter((e) => e.startsWith('host:')) : [],
  };
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
    const named = s.related.find((r) => r.startsWith('host:') && r !== s.entity);
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
  if (s.kind.startsWith('metric.') || s.kind.startsWith('log.'))
    return cls ? self(cls, 'downstream') : self(s.kind, 'downstream', 0.5);
  if (cls === 's3_throttling') return self('s3_throttling', layer, 0.7);
  if (cls === 'sql_analysis_error') return self('sql_error', layer);
  if (cls) return self(cls, layer);
  return self(s.kind, layer);
}

function hostKind(cls: string | undefined): string {
  return cls === 'spot_interruption' || cls === 'executor_decommission' ? 'spot_interruption' : 'host_lost';
}

/**
 * The root cause of a group of signals: the most upstream hypothesis, then the earliest, then the
 * best supported. Confidence grows with the number of signals that point at the same entity and
 * with how directly they show it. Hosts named by a spot-interruption notice are spot
 * interruptions, whichever signal named them first.
 */
export function rankRootCause(
  signals: readonly (IncidentSignal & { errorClass?: string | undefined })[],
): RootCause | null {
  if (signals.length === 0) return null;
  const byEntity = new Map<
    EntityKey,
    { h: Hypothesis; first: number; support: number; directness: number; spot: boolean; evidence: string[] }
  >();
  for (const s of signals) {
    const { hypothesis: h } = roleOf(s);
    const cur = byEntity.get(h.entity);
    const spot = h.kind === 'spot_interruption';
    if (!cur) {
      byEntity.set(h.entity, {
        h,
        first: s.firstSeen,
        support: 1,
        directness: h.directness,
        spot,
        evidence: [s.title],
      });
    } else {
      cur.support++;
      cur.spot ||= spot;
      if (
        h.directness > cur.directness ||
        (h.directness === cur.directness && LAYERS.indexOf(h.layer) < LAYERS.indexOf(cur.h.layer))
      ) {
        cur.h = h;
        cur.directness = h.directness;
      }
      if (s.firstSeen < cur.first) cur.first = s.firstSeen;
      if (cur.evidence.length < 4 && !cur.evidence.includes(s.title)) cur.evidence.push(s.title);
    }
  }
  const ranked = [...byEntity.entries()].sort(
    ([ea, a], [eb, b]) =>
      LAYERS.indexOf(a.h.layer) - LAYERS.indexOf(b.h.layer) ||
      a.first - b.first ||
      b.support - a.support ||
      (ea < eb ? -1 : ea > eb ? 1 : 0),
  );
  const [entity, best] = ranked[0]!;
  const kind = best.spot && best.h.kind === 'host_lost' ? 'spot_interruption' : best.h.kind;
  const confidence = Math.min(0.95, 0.35 + 0.35 * best.directness + 0.05 * Math.min(best.support - 1, 5));
  const errorClass = signals.find((s) => s.errorClass && roleOf(s).hypothesis.entity === entity)?.errorClass;
  return {
    entity,
    kind,
    confidence: Math.round(confidence * 100) / 100,
    title:
      kind === 'spot_interruption' && entity.startsWith('host:')
        ? `Spot worker ${entity.slice(5)} reclaimed`
        : best.h.title,
    evidence: best.evidence,
    ...(errorClass ? { errorClass } : {}),
  };
}

function evidenceText(s: Pick<IncidentSignal, 'evidence'>, label: string): string | undefined {
  for (const e of s.evidence) if (e.kind === 'text' && e.label === label) return e.text;
  return undefined;
}
