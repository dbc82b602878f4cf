import {
  type EntityKey,
  type Impact,
  type ImpactTask,
  type Incident,
  type IncidentSignal,
  maxSeverity,
  parseTaskKey,
  type Severity,
  type Signal,
  stableId,
  type TimelineEvent,
} from '../core/index.ts';
import { rankRootCause, roleOf } from './causality.ts';

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

/** A new incident from its first (firing) signal. The id is derived from the signal, so a retry makes the same one. */
export function openIncident(signal: Signal, now: number): Applied {
  const base: Incident = {
    id: stableId('inc_', signal.fingerprint, signal.time),
    status: 'open',
    severity: signal.severity,
    title: signal.title,
    openedAt: now,
    updatedAt: now,
    resolvedAt: null,
    rootCause: null,
    entities: unique([signal.entity, ...signal.related]),
    signals: [toIncidentSignal(signal)],
    notifications: [],
    slack: null,
    version: 1,
  };
  const incident = derive(base);
  return { incident, change: 'opened', events: [event(incident.id, 'opened', now, signal.title, signal)] };
}

/**
 * Applies a signal to an incident: the one that holds its fingerprint, or the one the correlator
 * joined it to. Idempotent: a signal no newer than what the incident already has for its
 * fingerprint changes nothing, so a redelivered job is harmless. A firing signal reopens a
 * resolved incident. The incident resolves when every condition in it has cleared (facts such as
 * "executor lost" do not hold it open).
 */
export function applySignal(current: Incident, signal: Signal, now: number): Applied {
  const index = current.signals.findIndex((s) => s.fingerprint === signal.fingerprint);
  const existing = index >= 0 ? current.signals[index] : undefined;
  if (
    existing &&
    (signal.time < existing.lastSeen ||
      (signal.time === existing.lastSeen && signal.status === existing.status))
  ) {
    return { incident: current, change: 'none', events: [] };
  }
  if (!existing && signal.status === 'resolved') return { incident: current, change: 'none', events: [] };

  const updated: IncidentSignal = existing
    ? {
        ...existing,
        status: signal.status,
        severity: signal.severity,
        title: signal.title,
        lastSeen: signal.time,
        count: existing.count + 1,
        evidence: signal.evidence,
        related: unique([...existing.related, ...signal.related]),
        ...(signal.errorClass ? { errorClass: signal.errorClass } : {}),
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
  const next = derive({
    ...current,
    status: reopened ? 'open' : current.status,
    resolvedAt: reopened ? null : current.resolvedAt,
    updatedAt: now,
    entities: unique([...current.entities, signal.entity, ...signal.related]),
    signals,
    version: current.version + 1,
  });
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
    events.push(event(current.id, 'resolved', now, 'every condition cleared', signal));
    return { incident: { ...next, status: 'resolved', resolvedAt: now }, change, events };
  }
  return { incident: next, change, events };
}

/**
 * Moves `absorbed`'s signals into `survivor`: a later signal showed they have one cause. The
 * absorbed incident is resolved and points at the survivor.
 */
export function merge(
  survivor: Incident,
  absorbed: Incident,
  now: number,
): { survivor: Applied; absorbed: Applied } {
  const have = new Set(survivor.signals.map((s) => s.fingerprint));
  const moved = absorbed.signals.filter((s) => !have.has(s.fingerprint));
  const reopened = survivor.status === 'resolved' && moved.some((s) => s.status === 'firing');
  const next = derive({
    ...survivor,
    status: reopened ? 'open' : survivor.status,
    resolvedAt: reopened ? null : survivor.resolvedAt,
    updatedAt: now,
    entities: unique([...survivor.entities, ...absorbed.entities]),
    signals: [...survivor.signals, ...moved],
    version: survivor.version + 1,
  });
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

/** Root cause, impact, paging, title and severity: everything an incident derives from its signals. */
export function derive(incident: Incident): Incident {
  const signals = incident.signals;
  const rootCause = rankRootCause(signals);
  const impact = impactOf(signals);
  const quiet = !signals.some((s) => roleOf(s).pages);
  const severity = signals.reduce<Severity>((acc, s) => maxSeverity(acc, s.severity), 'info');
  const entities = unique([...incident.entities, ...(rootCause ? [rootCause.entity] : [])]);
  return {
    ...incident,
    rootCause,
    impact,
    quiet,
    severity,
    entities,
    title: titleOf(signals, rootCause, impact),
  };
}

/** Every condition in the incident has cleared (it has at least one, and none is firing). */
function cleared(incident: Incident): boolean {
  const conditions = incident.signals.filter((s) => !roleOf(s).event);
  return conditions.length > 0 && conditions.every((s) => s.status === 'resolved');
}

const TASK_STATE: Record<string, ImpactTask['state']> = {
  'airflow.task_failed': 'failed',
  'airflow.task_retry': 'retrying',
  'airflow.task_upstream_failed': 'upstream_failed',
};

function impactOf(signals: readonly IncidentSignal[]): Impact {
  const tasks = new Map<EntityKey, ImpactTask>();
  let sparkJobs = 0;
  for (const s of signals) {
    if (s.kind === 'spark.job_failed' || s.kind === 'spark.job_lost') sparkJobs++;
    const state = TASK_STATE[s.kind];
    if (!state) continue;
    const { dagId = '', runId = '', taskId = '' } = parseTaskKey(s.entity) ?? {};
    const now: ImpactTask['state'] =
      s.status === 'resolved' && state !== 'upstream_failed' ? 'recovered' : state;
    const prev = tasks.get(s.entity);
    // failed for good outranks retrying; a recovery of the final state wins
    if (!prev || rank(now) >= rank(prev.state))
      tasks.set(s.entity, { entity: s.entity, dagId, runId, taskId, state: now });
  }
  const list = [...tasks.values()].sort((a, b) => (a.entity < b.entity ? -1 : 1));
  const dags = new Set<string>();
  for (const t of list) dags.add(t.dagId);
  return { dags: [...dags].sort(), tasks: list, sparkJobs };
}

function rank(state: ImpactTask['state']): number {
  return ['upstream_failed', 'retrying', 'failed', 'recovered'].indexOf(state);
}

function titleOf(
  signals: readonly IncidentSignal[],
  rootCause: Incident['rootCause'],
  impact: Impact,
): string {
  const failed = impact.tasks.filter((t) => t.state !== 'upstream_failed').length;
  const parts: string[] = [];
  if (impact.sparkJobs > 0) parts.push(plural(impact.sparkJobs, 'Spark job'));
  if (failed > 0) parts.push(`${plural(failed, 'Airflow task')} in ${plural(impact.dags.length, 'DAG')}`);
  const what = parts.length > 0 ? `${parts.join(' and ')} failed` : '';
  if (rootCause && !rootCause.entity.startsWith('airflow:task:')) {
    const head = rootCause.title ?? `${rootCause.kind} on ${rootCause.entity}`;
    return what ? `${head}: ${what}` : head;
  }
  const first = [...signals].sort((a, b) => a.firstSeen - b.firstSeen)[0]!;
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
