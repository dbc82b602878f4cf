import type { Evidence, Observation, Severity, Signal, StateObservation } from '../src/core/index.ts';
import { parseTaskKey, stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import { readFailureText } from '../src/logs/failure-text.ts';

export const AIRFLOW_TASK_FAILURE_DETECTOR_ID = 'airflow-task-failure';

/** What each task state means to an on-call engineer. */
const KINDS: Record<
  string,
  { kind: string; severity: Severity; title: (task: string, o: StateObservation) => string }
> = {
  up_for_retry: {
    kind: 'airflow.task_retry',
    severity: 'low',
    title: (t, o) => `Airflow task ${t} failed try ${o.details.try_number} and will retry`,
  },
  failed: {
    kind: 'airflow.task_failed',
    severity: 'high',
    title: (t, o) =>
      `Airflow task ${t} failed for good (try ${o.details.try_number} of ${Number(o.details.max_tries ?? 0) + 1})`,
  },
  upstream_failed: {
    kind: 'airflow.task_upstream_failed',
    severity: 'info',
    title: (t) => `Airflow task ${t} did not run: an upstream task failed`,
  },
};

/**
 * Airflow task tries: a try that failed and will retry (`airflow.task_retry`), a task that failed
 * for good, retries exhausted (`airflow.task_failed`), and tasks that did not run because
 * something upstream failed (`airflow.task_upstream_failed`). A later success of the task resolves
 * them; a final failure supersedes the retry signal.
 */
export function createAirflowTaskFailureDetector(): Detector {
  /** Firing signals per task entity, by kind. */
  const firing = new Map<string, Map<string, Signal>>();

  function observe(obs: Observation, ctx: DetectorContext): void {
    if (obs.type !== 'state' || !obs.entity.startsWith('airflow:task:')) return;
    const open = firing.get(obs.entity);
    // A `failed` try with a later try (Airflow's try history) is a failure that was retried.
    const retried = obs.to === 'failed' && obs.details.retried === true;
    const meaning = retried ? KINDS.up_for_retry : KINDS[obs.to];
    if (meaning) {
      if (obs.to === 'failed' && !retried && open?.has('airflow.task_retry'))
        resolve(obs, 'airflow.task_retry', ctx);
      const signal = toSignal(obs, meaning.kind, meaning.severity, meaning.title(taskName(obs.entity), obs));
      const byKind = firing.get(obs.entity) ?? new Map<string, Signal>();
      byKind.set(meaning.kind, signal);
      firing.set(obs.entity, byKind);
      ctx.emit(signal);
      return;
    }
    if (obs.to === 'success' && open) {
      for (const kind of [...open.keys()]) resolve(obs, kind, ctx);
    }
  }

  function resolve(obs: StateObservation, kind: string, ctx: DetectorContext): void {
    const byKind = firing.get(obs.entity);
    const signal = byKind?.get(kind);
    if (!byKind || !signal) return;
    byKind.delete(kind);
    if (byKind.size === 0) firing.delete(obs.entity);
    ctx.emit({
      ...signal,
      status: 'resolved',
      time: obs.time,
      title: `${signal.title} — now ${obs.to} (try ${obs.details.try_number})`,
    });
  }

  return {
    id: AIRFLOW_TASK_FAILURE_DETECTOR_ID,
    accepts: ['state'],
    observe,
    size: () => firing.size,
  };
}

function toSignal(obs: StateObservation, kind: string, severity: Severity, title: string): Signal {
  const evidence: Evidence[] = [
    {
      kind: 'text',
      label: 'try',
      text: `${obs.details.try_number} of ${Number(obs.details.max_tries ?? 0) + 1}`,
    },
  ];
  if (obs.details.hostname)
    evidence.push({ kind: 'text', label: 'worker', text: String(obs.details.hostname) });
  if (obs.details.operator)
    evidence.push({ kind: 'text', label: 'operator', text: String(obs.details.operator) });
  if (Array.isArray(obs.details.log) && obs.details.log.length > 0) {
    evidence.push({ kind: 'log', label: 'task log', lines: obs.details.log.map(String) });
  }
  // What the failed try's log says about why: its error class and the entities it names.
  const failure =
    Array.isArray(obs.details.log) && kind !== 'airflow.task_upstream_failed'
      ? readFailureText(obs.details.log.map(String).join('\n'))
      : { causes: [], uses: [], names: [] };
  if (failure.errorClass) evidence.push({ kind: 'text', label: 'error class', text: failure.errorClass });
  return {
    fingerprint: stableId('aft_', kind, obs.entity),
    kind,
    status: 'firing',
    entity: obs.entity,
    related: [...new Set([...obs.related, ...failure.causes, ...failure.uses])],
    time: obs.time,
    severity,
    title,
    detector: AIRFLOW_TASK_FAILURE_DETECTOR_ID,
    evidence,
    ...(failure.errorClass ? { errorClass: failure.errorClass } : {}),
    ...(failure.names.length > 0 ? { names: failure.names } : {}),
  };
}

/** `dag.task` of a task key. */
function taskName(entity: string): string {
  const t = parseTaskKey(entity);
  return t ? `${t.dagId}.${t.taskId}` : entity;
}
