import {
  type EntityKey,
  type Impact,
  type ImpactTask,
  type Incident,
  type IncidentSignal,
  maxSeverity,
  parseTaskKey,
  type Signal,
  stableId,
  type TimelineEvent,
} from '../core/index.ts';
import {
  type CausalParams,
  DEFAULT_CAUSAL,
  HOST_LOSS_KINDS,
  isStrongCause,
  rankRootCause,
  roleOf,
} from './causality.ts';

/** What applying a signal changed, for the notifier to decide what to say. */
export type IncidentChange =
  | 'opened'
  | 'signal_added'
  | 'severity_raised'
  | 'resolved'
  | 'reopened'
  | 'signal_updated'
  | 'none';

export interface Applied {
  readonly incident: Incident;
  readonly change: IncidentChange;
  readonly events: readonly TimelineEvent[];
}

/**
 * A new incident from its first (firing) signal. The id is derived from the signal unless given,
 * so a retry makes the same one.
 */
export function openIncident(
  signal: Signal,
  now: number,
  params: CausalParams = DEFAULT_CAUSAL,
  id = stableId('inc_', signal.fingerprint, signal.time),
): Applied {
  const base: Incident = {
    id,
    status: 'open',
    severity: signal.severity,
    title: signal.title,
    openedAt: now,
    updatedAt: now,
    resolvedAt: null,
    rootCause: null,
    entities: [],
    signals: [toIncidentSignal(signal)],
    version: 1,
    impact: EMPTY_IMPACT,
  };
  const incident = derive(base, base.signals[0]!, 0, params);
  return { incident, change: 'opened', events: [event(incident.id, 'opened', now, signal.title, signal)] };
}

/**
 * Applies a signal to an incident: the one that holds its fingerprint, or the one the correlator
 * joined it to. Idempotent: a signal no newer than what the incident already has for its
 * fingerprint changes nothing, so a redelivered job is harmless. A firing signal reopens a
 * resolved incident. The incident resolves when every condition in it has cleared (facts such as
 * "executor lost" do not hold it open).
 */
export function applySignal(
  current: Incident,
  signal: Signal,
  now: number,
  params: CausalParams = DEFAULT_CAUSAL,
): Applied {
  const index = current.signals.findIndex((s) => s.fingerprint === signal.fingerprint);
  const existing = index >= 0 ? current.signals[index] : undefined;
  if (
    existing &&
    (signal.time < existing.lastSeen ||
      (signal.time === existing.lastSeen && signal.status === existing.status))
  ) {
    return { incident: current, change: 'none', events: [] };
  }
  if (!existing && signal.status === 'resolved') return recoverDropped(current, signal, now);

  const updated: IncidentSignal = existing
    ? {
        ...existing,
        status: signal.status,
        severity: signal.severity,
        // A condition is named by what happened, not by how it cleared ("… back to normal"): the
        // incident's title and root cause read it while the incident is still open. The timeline
        // keeps the clearing title.
        title: signal.status === 'resolved' ? existing.title : signal.title,
        lastSeen: signal.time,
        count: existing.count + 1,
        evidence: signal.evidence,
        related: unique([...existing.related, ...signal.related]),
        ...(signal.errorClass ? { errorClass: signal.errorClass } : {}),
        ...(signal.names ? { names: signal.names } : {}),
      }
    : toIncidentSignal(signal);
  const signals = existing
    ? current.signals.map((s, i) => (i === index ? updated : s))
    : [...current.signals, updated];

  const events: TimelineEvent[] = [
    event(
      current.id,
      signal.status === 'firing' ? 'signal_firing' : 'signal_resolved',
      signal.time,
      signal.title,
      signal,
    ),
  ];
  const reopened = current.status === 'resolved' && signal.status === 'firing';
  if (reopened) events.push(event(current.id, 'reopened', now, `reopened: ${signal.title}`, signal));
  const next = derive(
    {
      ...current,
      status: reopened ? 'open' : current.status,
      resolvedAt: reopened ? null : current.resolvedAt,
      updatedAt: now,
      signals,
      version: current.version + 1,
    },
    updated,
    !existing && JOB_KINDS.has(updated.kind) ? 1 : 0,
    params,
  );
  let change: IncidentChange = existing ? 'signal_updated' : 'signal_added';
  if (next.severity !== current.severity) {
    change = 'severity_raised';
    events.push(
      event(current.id, 'severity_changed', now, `severity ${current.severity} → ${next.severity}`, signal),
    );
  }
  if (reopened) change = 'reopened';
  const resolved = next.status !== 'resolved' && cleared(next);
  if (resolved) {
    change = 'resolved';
    const why =
      goneAbsences(next).length > 0
        ? 'every task recovered; the lost host stays gone'
        : 'every condition cleared';
    events.push(event(current.id, 'resolved', now, why, signal));
    return { incident: { ...next, status: 'resolved', resolvedAt: now }, change, events };
  }
  return { incident: next, change, events };
}

/**
 * An incident made only of events (an executor lost, a job that failed, a log line) has nothing
 * that can clear: it resolves once no new evidence arrived for `quietMs`. One with a condition
 * (a task failing, an endpoint down) waits for it to clear instead.
 */
export function settle(current: Incident, now: number, quietMs: number): Applied {
  const none: Applied = { incident: current, change: 'none', events: [] };
  if (current.status === 'resolved' || current.mergedInto || current.signals.length === 0) return none;
  let last = current.openedAt;
  for (const s of current.signals) {
    if (!roleOf(s).event) return none;
    if (s.lastSeen > last) last = s.lastSeen;
  }
  if (now - last < quietMs) return none;
  const minutes = Math.round(quietMs / 60_000);
  return {
    incident: {
      ...current,
      status: 'resolved',
      resolvedAt: now,
      updatedAt: now,
      version: current.version + 1,
    },
    change: 'resolved',
    events: [
      {
        id: stableId('evt_', current.id, 'resolved', 'settled', current.version),
        at: now,
        type: 'resolved',
        text: `nothing new for ${minutes} min and nothing still failing`,
      },
    ],
  };
}

/**
 * Moves `absorbed`'s signals into `survivor`: a later signal showed they have one cause. The
 * absorbed incident is resolved and points at the survivor.
 */
export function merge(
  survivor: Incident,
  absorbed: Incident,
  now: number,
  params: CausalParams = DEFAULT_CAUSAL,
): { survivor: Applied; absorbed: Applied } {
  const have = new Set(survivor.signals.map((s) => s.fingerprint));
  const moved = absorbed.signals.filter((s) => !have.has(s.fingerprint));
  const signals = [...survivor.signals, ...moved];
  const reopened = survivor.status === 'resolved' && moved.some((s) => s.status === 'firing');
  const next = derive(
    {
      ...survivor,
      status: reopened ? 'open' : survivor.status,
      resolvedAt: reopened ? null : survivor.resolvedAt,
      updatedAt: now,
      signals,
      entities: [...new Set([...survivor.entities, ...absorbed.entities])].slice(0, INCIDENT_LIMITS.entities),
      version: survivor.version + 1,
      impact: mergeImpact(impactOf(survivor), impactOf(absorbed), have, absorbed.signals, signals),
      quiet: (survivor.quiet ?? true) && (absorbed.quiet ?? true),
      severity: maxSeverity(survivor.severity, absorbed.severity),
    },
    undefined,
    0,
    params,
  );
  const text = `merged ${absorbed.id} into ${survivor.id}: one cause`;
  const ev = (id: string): TimelineEvent => ({
    id: stableId('evt_', id, 'merged', absorbed.id, survivor.id),
    at: now,
    type: 'merged',
    text,
  });
  return {
    survivor: { incident: next, change: 'signal_added', events: [ev(survivor.id)] },
    absorbed: {
      incident: {
        ...absorbed,
        status: 'resolved',
        resolvedAt: absorbed.resolvedAt ?? now,
        updatedAt: now,
        mergedInto: survivor.id,
        version: absorbed.version + 1,
      },
      change: 'resolved',
      events: [ev(absorbed.id)],
    },
  };
}

/**
 * Root cause, paging, title, severity and entities: what an incident derives from its signals,
 * after `changed` (a new or updated signal, already in `signals`) moved its impact on by one step
 * and `newJobs` Spark jobs. Without `changed` (a merge) the impact given is kept. The cost is bounded
 * by {@link INCIDENT_LIMITS}: the signals are trimmed to the limit, the impact is updated in place.
 * Paging and severity only ever rise: an incident that woke someone stays one that did.
 */
export function derive(
  incident: Incident,
  changed?: IncidentSignal,
  newJobs = 0,
  params: CausalParams = DEFAULT_CAUSAL,
): Incident {
  let impact = impactOf(incident);
  if (changed) impact = withTask(impact, changed, incident.signals);
  if (newJobs > 0) impact = { ...impact, sparkJobs: impact.sparkJobs + newJobs };
  const rootCause = rankRootCause(incident.signals, params);
  const signals = trim(incident.signals, rootCause);
  // It pages when something in it pages on its own, or when the evidence for one cause is strong.
  const quiet =
    (incident.quiet ?? true) && !signals.some((s) => roleOf(s).pages) && !isStrongCause(rootCause);
  let severity = incident.severity;
  for (const s of signals) severity = maxSeverity(severity, s.severity);
  return {
    ...incident,
    signals,
    rootCause,
    impact,
    quiet,
    severity,
    entities: withEntities(incident.entities, incident.signals, changed, rootCause),
    title: titleOf(signals, rootCause, impact),
  };
}

/**
 * What keeps an incident's cost per signal and its stored size fixed however large the storm:
 * the signals it keeps (those supporting its root cause first, then the most recently seen) and
 * the tasks its impact lists (beyond that, `omittedTasks` counts them).
 */
export const INCIDENT_LIMITS = {
  signals: 200,
  rootCauseSignals: 20,
  impactTasks: 500,
  entities: 1000,
} as const;

function trim(
  signals: readonly IncidentSignal[],
  rootCause: Incident['rootCause'],
): readonly IncidentSignal[] {
  if (signals.length <= INCIDENT_LIMITS.signals) return signals;
  const supports = (s: IncidentSignal) =>
    rootCause !== null && roleOf(s).hypothesis.entity === rootCause.entity;
  const pinned = signals
    .filter(supports)
    .sort((a, b) => a.firstSeen - b.firstSeen)
    .slice(0, INCIDENT_LIMITS.rootCauseSignals);
  const keep = new Set(pinned);
  const rest = signals.filter((s) => !keep.has(s)).sort((a, b) => b.lastSeen - a.lastSeen);
  for (const s of rest) {
    if (keep.size >= INCIDENT_LIMITS.signals) break;
    keep.add(s);
  }
  return signals.filter((s) => keep.has(s));
}

/** Each entities array's members, for the membership test (arrays are never changed in place). */
const memberSets = new WeakMap<readonly EntityKey[], Set<EntityKey>>();

/**
 * The entities it touches, accumulated: those it had, plus the changed signal's (or, after a merge,
 * every signal's) and the root cause. Up to {@link INCIDENT_LIMITS.entities}; the signals and the
 * impact still tell the rest.
 */
function withEntities(
  had: readonly EntityKey[],
  signals: readonly IncidentSignal[],
  changed: IncidentSignal | undefined,
  rootCause: Incident['rootCause'],
): readonly EntityKey[] {
  let members = memberSets.get(had);
  if (!members) {
    members = new Set(had);
    memberSets.set(had, members);
  }
  const added: EntityKey[] = [];
  const add = (e: EntityKey) => {
    if (members.has(e) || had.length + added.length >= INCIDENT_LIMITS.entities) return;
    if (!added.includes(e)) added.push(e);
  };
  for (const s of changed ? [changed] : signals) {
    add(s.entity);
    for (const r of s.related) add(r);
  }
  if (rootCause) add(rootCause.entity);
  if (added.length === 0) return had;
  const next = [...had, ...added];
  const nextMembers = new Set(members);
  for (const e of added) nextMembers.add(e);
  memberSets.set(next, nextMembers);
  return next;
}

/** Every condition in the incident has cleared (it has at least one, and none is firing). */
function cleared(incident: Incident): boolean {
  const conditions = incident.signals.filter((s) => !roleOf(s).event);
  if (conditions.length === 0) return false;
  const stuck = conditions.filter((s) => s.status !== 'resolved');
  return stuck.length === 0 || stuck.length === goneAbsences(incident).length;
}

/**
 * Conditions that can never clear because their subject is gone for good: once the root cause is
 * a host lost or reclaimed and every task it hit has recovered, that host's own absence (its
 * series silent, its worker DEAD in the master's list) is the loss itself, not an open problem;
 * a replacement reports under another name. Empty while anything else is wrong.
 */
export function goneAbsences(incident: Incident): IncidentSignal[] {
  const rc = incident.rootCause;
  const tasks = incident.impact?.tasks ?? [];
  if (!rc || !HOST_LOSS_KINDS.has(rc.kind) || tasks.length === 0) return [];
  if (tasks.some((t) => t.state !== 'recovered')) return [];
  return incident.signals.filter((s) => {
    if (s.status === 'resolved') return false;
    const role = roleOf(s);
    return !role.event && (role.hypothesis.entity === rc.entity || role.resources.includes(rc.entity));
  });
}

const TASK_STATE: Record<string, ImpactTask['state']> = {
  'airflow.task_failed': 'failed',
  'airflow.task_retry': 'retrying',
  'airflow.task_upstream_failed': 'upstream_failed',
};

const JOB_KINDS = new Set(['spark.job_failed', 'spark.job_lost']);
const EMPTY_IMPACT: Impact = { dags: [], tasks: [], sparkJobs: 0 };

/** The incident's impact; recomputed from its signals for incidents stored before impact existed. */
function impactOf(incident: Incident): Impact {
  if (incident.impact) return incident.impact;
  let impact: Impact = {
    ...EMPTY_IMPACT,
    sparkJobs: incident.signals.filter((s) => JOB_KINDS.has(s.kind)).length,
  };
  for (const s of incident.signals) impact = withTask(impact, s, incident.signals);
  return impact;
}

/**
 * What a task's signals say it is now. A firing one says it (failed for good outranks retrying);
 * a cleared one says only that the task left that state: a retry clears when the task fails for
 * good as well as when it succeeds. So a task has recovered when every signal it showed, other
 * than upstream_failed, has cleared. Undefined when none of `signals` is about the task.
 */
function taskStateOf(entity: EntityKey, signals: readonly IncidentSignal[]): ImpactTask['state'] | undefined {
  let firing: ImpactTask['state'] | undefined;
  let cleared = false;
  let upstream = false;
  for (const s of signals) {
    if (s.entity !== entity) continue;
    const state = TASK_STATE[s.kind];
    if (!state) continue;
    if (state === 'upstream_failed') upstream = true;
    else if (s.status === 'firing') firing = firing && rank(firing) > rank(state) ? firing : state;
    else cleared = true;
  }
  return firing ?? (cleared ? 'recovered' : upstream ? 'upstream_failed' : undefined);
}

/**
 * The impact after `changed`: its task's state is what its signals say now (`taskStateOf`). One
 * task changes, so this is a binary search and a copy, never a pass over the impact.
 */
function withTask(impact: Impact, changed: IncidentSignal, signals: readonly IncidentSignal[]): Impact {
  if (!TASK_STATE[changed.kind]) return impact;
  const state = taskStateOf(changed.entity, signals.includes(changed) ? signals : [...signals, changed]);
  if (!state) return impact;
  const { dagId = '', runId = '', taskId = '' } = parseTaskKey(changed.entity) ?? {};
  const at = search(impact.tasks, changed.entity, (t) => t.entity);
  const tasks = [...impact.tasks];
  let omitted = impact.omittedTasks ?? 0;
  if (at.found) {
    if (tasks[at.index]!.state === state) return impact;
    tasks[at.index] = { ...tasks[at.index]!, state };
  } else if (tasks.length < INCIDENT_LIMITS.impactTasks) {
    tasks.splice(at.index, 0, { entity: changed.entity, dagId, runId, taskId, state });
  } else {
    omitted++;
  }
  const d = search(impact.dags, dagId, (x) => x);
  const dags = d.found
    ? impact.dags
    : [...impact.dags.slice(0, d.index), dagId, ...impact.dags.slice(d.index)];
  return { ...impact, dags, tasks, ...(omitted > 0 ? { omittedTasks: omitted } : {}) };
}

/**
 * Both impacts: DAGs united, Spark jobs counted once; a task in both is what the signals of both
 * say it is now, else (its signals trimmed away) the further on of the two states.
 */
function mergeImpact(
  a: Impact,
  b: Impact,
  survivorFingerprints: ReadonlySet<string>,
  absorbedSignals: readonly IncidentSignal[],
  signals: readonly IncidentSignal[],
): Impact {
  const tasks = new Map(a.tasks.map((t) => [t.entity, t]));
  let omitted = (a.omittedTasks ?? 0) + (b.omittedTasks ?? 0);
  for (const t of b.tasks) {
    const prev = tasks.get(t.entity);
    if (prev) {
      const state =
        taskStateOf(t.entity, signals) ?? (rank(t.state) > rank(prev.state) ? t.state : prev.state);
      if (state !== prev.state) tasks.set(t.entity, { ...prev, state });
    } else if (tasks.size < INCIDENT_LIMITS.impactTasks) tasks.set(t.entity, t);
    else omitted++;
  }
  const twice = absorbedSignals.filter(
    (s) => JOB_KINDS.has(s.kind) && survivorFingerprints.has(s.fingerprint),
  ).length;
  return {
    dags: [...new Set([...a.dags, ...b.dags])].sort(),
    tasks: [...tasks.values()].sort((x, y) => (x.entity < y.entity ? -1 : x.entity > y.entity ? 1 : 0)),
    sparkJobs: a.sparkJobs + b.sparkJobs - twice,
    ...(omitted > 0 ? { omittedTasks: omitted } : {}),
    ...(a.omittedDags || b.omittedDags ? { omittedDags: (a.omittedDags ?? 0) + (b.omittedDags ?? 0) } : {}),
  };
}

/**
 * A task signal the incident no longer keeps (trimmed in a storm) has cleared: its task shows as
 * recovered, if it was still in the state that signal showed. Anything else the incident does not
 * hold changes nothing.
 */
function recoverDropped(current: Incident, signal: Signal, now: number): Applied {
  const none: Applied = { incident: current, change: 'none', events: [] };
  const impact = current.impact;
  if (!impact || !TASK_STATE[signal.kind] || signal.kind === 'airflow.task_upstream_failed') return none;
  const at = search(impact.tasks, signal.entity, (t) => t.entity);
  // A cleared signal recovers the task only from the state it showed: a retry that clears as the
  // task fails for good leaves it failed.
  if (!at.found || impact.tasks[at.index]!.state !== TASK_STATE[signal.kind]) return none;
  const tasks = [...impact.tasks];
  tasks[at.index] = { ...tasks[at.index]!, state: 'recovered' };
  const next = { ...impact, tasks };
  return {
    incident: {
      ...current,
      impact: next,
      title: titleOf(current.signals, current.rootCause, next),
      updatedAt: now,
      version: current.version + 1,
    },
    change: 'signal_updated',
    events: [event(current.id, 'signal_resolved', signal.time, signal.title, signal)],
  };
}

/** Where `key` is, or would go, in `items` sorted by `keyOf`. */
function search<T>(
  items: readonly T[],
  key: string,
  keyOf: (item: T) => string,
): { found: boolean; index: number } {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keyOf(items[mid]!);
    if (k === key) return { found: true, index: mid };
    if (k < key) lo = mid + 1;
    else hi = mid;
  }
  return { found: false, index: lo };
}

function rank(state: ImpactTask['state']): number {
  return ['upstream_failed', 'retrying', 'failed', 'recovered'].indexOf(state);
}

function titleOf(
  signals: readonly IncidentSignal[],
  rootCause: Incident['rootCause'],
  impact: Impact,
): string {
  // Tasks a storm's impact does not list were counted when they failed.
  const failed =
    impact.tasks.filter((t) => t.state !== 'upstream_failed').length + (impact.omittedTasks ?? 0);
  const dagCount = impact.dags.length + (impact.omittedDags ?? 0);
  const parts: string[] = [];
  if (impact.sparkJobs > 0) parts.push(plural(impact.sparkJobs, 'Spark job'));
  if (failed > 0) parts.push(`${plural(failed, 'Airflow task')} in ${plural(dagCount, 'DAG')}`);
  const what = parts.length > 0 ? `${parts.join(' and ')} failed` : '';
  if (rootCause && !rootCause.entity.startsWith('airflow:task:')) {
    const head = rootCause.title ?? `${rootCause.kind} on ${rootCause.entity}`;
    return what ? `${head}: ${what}` : head;
  }
  let first = signals[0]!;
  for (const s of signals) if (s.firstSeen < first.firstSeen) first = s;
  const runs = new Set(impact.tasks.filter((t) => t.state !== 'upstream_failed').map((t) => t.runId)).size;
  if (rootCause?.kind === 'sql_error') {
    const task = parseTaskKey(first.entity);
    const name = task ? `${task.dagId}.${task.taskId}` : first.entity;
    return `${name}: SQL error${runs > 1 ? ` in ${runs} runs` : ''}${what ? ` (${what})` : ''}`;
  }
  return runs > 1 ? `${first.title} (and ${runs - 1} more runs)` : first.title;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function toIncidentSignal(signal: Signal): IncidentSignal {
  return {
    fingerprint: signal.fingerprint,
    kind: signal.kind,
    entity: signal.entity,
    related: [...signal.related],
    status: signal.status,
    severity: signal.severity,
    title: signal.title,
    detector: signal.detector,
    firstSeen: signal.time,
    lastSeen: signal.time,
    count: 1,
    evidence: signal.evidence,
    ...(signal.errorClass ? { errorClass: signal.errorClass } : {}),
    ...(signal.names?.length ? { names: signal.names } : {}),
  };
}

function event(
  incidentId: string,
  type: TimelineEvent['type'],
  at: number,
  text: string,
  signal: Signal,
): TimelineEvent {
  return {
    id: stableId('evt_', incidentId, type, signal.fingerprint, signal.status, signal.time),
    at,
    type,
    text,
    fingerprint: signal.fingerprint,
  };
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
