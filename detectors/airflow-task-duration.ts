import type { Observation, Signal, StateObservation } from '../src/core/index.ts';
import { parseTaskKey, stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';

export const AIRFLOW_TASK_DURATION_DETECTOR_ID = 'airflow-task-duration';

/** Runs of a task remembered to learn its usual duration. */
const HISTORY = 20;
/** Runs needed before "longer than usual" means anything. */
const MIN_HISTORY = 5;
/** Never call a task slow before it has run this long, however fast it usually is. */
const MIN_RUNNING_MS = 10 * 60_000;
/** Never call a task stuck in the queue before this, however quickly it usually starts. */
const MIN_QUEUED_MS = 15 * 60_000;

interface Learnt {
  runs: number[];
  waits: number[];
}

interface Watched {
  readonly entity: string;
  readonly related: readonly string[];
  readonly task: string;
  readonly state: 'running' | 'queued';
  readonly since: number;
  fired: Signal | undefined;
}

/**
 * A task try running (or queued) far longer than that task's own history says it should:
 * `airflow.task_running_long` / `airflow.task_queued_long`. The limit is the larger of three times
 * the task's median and its median plus six median absolute deviations, and a floor; a task with
 * fewer than five finished runs is not judged. The signal resolves when the try moves on.
 */
export function createAirflowTaskDurationDetector(): Detector {
  const learnt = new Map<string, Learnt>();
  const watched = new Map<string, Watched>();

  function observe(obs: Observation): void {
    if (obs.type !== 'state' || !obs.entity.startsWith('airflow:task:')) return;
    const task = taskOf(obs.entity);
    const current = watched.get(obs.entity);
    if (obs.to === 'success') learn(task, obs);
    if (obs.to === 'running' || obs.to === 'queued') {
      const since =
        Date.parse(String(obs.to === 'running' ? obs.details.start_date : obs.details.queued_when)) ||
        obs.time;
      watched.set(obs.entity, {
        entity: obs.entity,
        related: obs.related,
        task,
        state: obs.to,
        since,
        fired: undefined,
      });
    } else watched.delete(obs.entity);
    if (current?.fired)
      pending.push({
        ...current.fired,
        status: 'resolved',
        time: obs.time,
        title: `${current.fired.title} — now ${obs.to}`,
      });
  }

  /** Resolutions found while observing, emitted with the context. */
  const pending: Signal[] = [];

  function learn(task: string, obs: StateObservation): void {
    const start = Date.parse(String(obs.details.start_date));
    const end = Date.parse(String(obs.details.end_date));
    const queued = Date.parse(String(obs.details.queued_when));
    const l = learnt.get(task) ?? { runs: [], waits: [] };
    if (Number.isFinite(start) && Number.isFinite(end) && end >= start) push(l.runs, end - start);
    if (Number.isFinite(queued) && Number.isFinite(start) && start >= queued) push(l.waits, start - queued);
    learnt.set(task, l);
  }

  function tick(ctx: DetectorContext): void {
    for (const s of pending.splice(0)) ctx.emit(s);
    const now = ctx.now();
    for (const w of watched.values()) {
      if (w.fired) continue;
      const history = learnt.get(w.task);
      const samples = w.state === 'running' ? history?.runs : history?.waits;
      if (!samples || samples.length < MIN_HISTORY) continue;
      const limit = limitOf(samples, w.state === 'running' ? MIN_RUNNING_MS : MIN_QUEUED_MS);
      const elapsed = now - w.since;
      if (elapsed <= limit) continue;
      const kind = w.state === 'running' ? 'airflow.task_running_long' : 'airflow.task_queued_long';
      w.fired = {
        fingerprint: stableId('afd_', kind, w.entity),
        kind,
        status: 'firing',
        entity: w.entity,
        related: [...w.related],
        time: w.since + limit,
        severity: 'low',
        title: `Airflow task ${w.task.replace('\u0000', '.')} ${w.state} for ${minutes(elapsed)}, usually ${minutes(median(samples))}`,
        detector: AIRFLOW_TASK_DURATION_DETECTOR_ID,
        evidence: [
          { kind: 'value', label: `${w.state} for`, value: Math.round(elapsed / 60_000), unit: 'min' },
          {
            kind: 'value',
            label: 'usual (median)',
            value: Math.round(median(samples) / 60_000),
            unit: 'min',
          },
          { kind: 'value', label: 'limit', value: Math.round(limit / 60_000), unit: 'min' },
        ],
      };
      ctx.emit(w.fired);
    }
  }

  /** What a daily task needs days to learn, and the tries in flight (their start is not polled again). */
  function snapshot(): DurationSnapshot {
    return {
      format: SNAPSHOT_FORMAT,
      learnt: [...learnt].map(([task, l]) => ({ task, runs: l.runs, waits: l.waits })),
      watched: [...watched.values()],
    };
  }

  function restore(state: unknown): number {
    const snap = state as Partial<DurationSnapshot> | null;
    if (snap?.format !== SNAPSHOT_FORMAT || !Array.isArray(snap.learnt) || !Array.isArray(snap.watched))
      return 0;
    const durations = (v: unknown) =>
      Array.isArray(v) ? v.filter((x): x is number => Number.isFinite(x) && x >= 0).slice(-HISTORY) : [];
    let restored = 0;
    for (const l of snap.learnt) {
      if (typeof l?.task !== 'string' || learnt.has(l.task)) continue;
      learnt.set(l.task, { runs: durations(l.runs), waits: durations(l.waits) });
      restored++;
    }
    for (const w of snap.watched) {
      if (typeof w?.entity !== 'string' || watched.has(w.entity) || !Number.isFinite(w.since)) continue;
      if (w.state !== 'running' && w.state !== 'queued') continue;
      watched.set(w.entity, {
        entity: w.entity,
        related: Array.isArray(w.related) ? w.related.filter((r: unknown) => typeof r === 'string') : [],
        task: taskOf(w.entity),
        state: w.state,
        since: w.since,
        fired: w.fired,
      });
      restored++;
    }
    return restored;
  }

  return {
    id: AIRFLOW_TASK_DURATION_DETECTOR_ID,
    accepts: ['state'],
    observe: (obs, ctx) => {
      observe(obs);
      for (const s of pending.splice(0)) ctx.emit(s);
    },
    tick,
    size: () => learnt.size + watched.size,
    snapshot,
    restore,
  };
}

/** Bumped when the snapshot's shape changes; an older snapshot is then dropped. */
const SNAPSHOT_FORMAT = 1;

interface DurationSnapshot {
  readonly format: number;
  readonly learnt: readonly { task: string; runs: number[]; waits: number[] }[];
  readonly watched: readonly Watched[];
}

function push(list: number[], v: number): void {
  list.push(v);
  if (list.length > HISTORY) list.shift();
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function limitOf(samples: readonly number[], floor: number): number {
  const m = median(samples);
  const mad = median(samples.map((v) => Math.abs(v - m)));
  return Math.max(floor, 3 * m, m + 6 * mad);
}

function minutes(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)}s` : `${Math.round(ms / 60_000)} min`;
}

/** `dag\0task` of a task key: the task across runs. */
function taskOf(entity: string): string {
  const t = parseTaskKey(entity);
  return t ? `${t.dagId}\u0000${t.taskId}` : entity;
}
