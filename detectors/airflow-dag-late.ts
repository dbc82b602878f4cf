import type { EntityKey, Observation, Signal, StateObservation } from '../src/core/index.ts';
import { entityKey, parseTaskKey, stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import { nextScheduled } from './cron-schedule.ts';

export const AIRFLOW_DAG_LATE_DETECTOR_ID = 'airflow-dag-late';

export interface AirflowDagLateOptions {
  /**
   * A scheduled run not created this long after it was due is late. The scheduler creates a due
   * run within seconds when it is healthy and has room.
   * @defaultValue 900000 (15 minutes)
   */
  readonly lateAfterMs?: number;
}

/** Why a late DAG stopped being late, by the state Airflow reports it in. */
const ENDED: Readonly<Record<string, string>> = {
  paused: 'the DAG was paused',
  removed: 'the DAG was removed',
};

interface Late {
  readonly signal: Signal;
  /** The next run that was due and not created. */
  readonly dueAt: number;
}

/** What a DAG's schedule says, from what Airflow last reported of it. */
interface Planned {
  readonly timetable: string;
  /** The last next run Airflow reported (the run it planned). */
  readonly lastDue: number;
  /** The DAG's file, when Airflow named it. */
  readonly file: EntityKey | undefined;
  /** When Airflow stopped planning a next run (none reported, or the DAG no longer listed). */
  unplannedAt?: number;
  /** The run its schedule says is due next, once it stopped being planned. */
  expected?: number;
  signal?: Signal;
}

/** DAGs whose schedule is followed (the oldest let go first): bounded memory. */
const MAX_DAGS = 10_000;
/** Active runs followed per DAG at most (`max_active_runs` is rarely more than a few dozen). */
const MAX_ACTIVE_PER_DAG = 256;
/** States a try does not leave. */
const ENDED_TRY = new Set(['success', 'failed', 'upstream_failed', 'skipped', 'removed']);
/** Tries of the blocking run a signal names at most. */
const MAX_TRIES_NAMED = 8;
/** States of a DAG run that still counts towards its DAG's `max_active_runs`. */
const ACTIVE = new Set(['queued', 'running']);

/** A DAG's due run not created because its active runs hold every slot `max_active_runs` gives. */
interface Blocked {
  readonly signal: Signal;
  /** The runs that held the slots. */
  readonly runs: ReadonlySet<EntityKey>;
}

/**
 * A DAG whose scheduled run has not been created long after it was due (`airflow.dag_late`): the
 * scheduler is down or wedged, the DAG is at `max_active_runs`, or its file no longer parses. It is
 * judged on what Airflow reports at each poll (the DAG's `next_dagrun_run_after`), never on silence:
 * a source that cannot reach Airflow reports nothing, and nothing is called late. It resolves when
 * the run is created (the next run moves on), or the DAG is paused or removed.
 *
 * Absence where a schedule says work should exist: a DAG that Airflow stops planning (it reports
 * no next run any more, or no longer lists the DAG: deactivated as stale when its file's parse is
 * killed or fails) while its own schedule says a run is due is late too, once that run is
 * `lateAfterMs` overdue. Nothing is wrong with the scheduler then (it plans the other DAGs): what
 * stopped is the DAG's definition, so that signal is keyed on the DAG's file and names the DAG
 * processor that parses it. A DAG paused, or one whose schedule is no cron Guardian can read, is
 * not judged.
 */
export function createAirflowDagLateDetector(options: AirflowDagLateOptions = {}): Detector {
  const lateAfterMs = options.lateAfterMs ?? 15 * 60_000;
  const late = new Map<string, Late>();
  const planned = new Map<string, Planned>();
  /** Planned DAGs no longer planned and not yet judged late: the only ones `judge` looks at. */
  const unplanned = new Set<string>();
  /** One poll reports every DAG at one time: judge once per time, not once per DAG. */
  let judgedAt = Number.NEGATIVE_INFINITY;
  /** Per DAG, its active runs (not backfills, which Airflow does not count) and when each was due. */
  const active = new Map<EntityKey, Map<EntityKey, number>>();
  const blocked = new Map<EntityKey, Blocked>();
  /** Per DAG with active runs, its `max_active_runs` as last reported. */
  const maxRuns = new Map<EntityKey, number>();

  /** Per active run followed, its tries not ended (what it is still doing or waiting on). */
  const unfinished = new Map<EntityKey, Set<EntityKey>>();

  function followTry(obs: StateObservation): void {
    const task = parseTaskKey(obs.entity);
    if (!task) return;
    const run = entityKey.dagRun(task.dagId, task.runId);
    if (!active.get(entityKey.dag(task.dagId))?.has(run)) return;
    const tries = unfinished.get(run) ?? new Set<EntityKey>();
    if (ENDED_TRY.has(obs.to)) tries.delete(obs.entity);
    else if (tries.size < MAX_ACTIVE_PER_DAG) tries.add(obs.entity);
    if (tries.size > 0) unfinished.set(run, tries);
    else unfinished.delete(run);
  }

  function followRun(obs: StateObservation, ctx: DetectorContext): void {
    const dag = obs.related.find((r) => r.startsWith('airflow:dag:'));
    if (!dag) return;
    const runs = active.get(dag);
    if (ACTIVE.has(obs.to) && obs.details.run_type !== 'backfill') {
      const due = Date.parse(
        String(obs.details.run_after ?? obs.details.logical_date ?? obs.details.start_date),
      );
      if (!Number.isFinite(due)) return;
      if (!runs && active.size >= MAX_DAGS) {
        const [, gone] = active.entries().next().value!;
        for (const r of gone.keys()) unfinished.delete(r);
        active.delete(active.keys().next().value!);
      }
      const held = runs ?? new Map<EntityKey, number>();
      if (held.size >= MAX_ACTIVE_PER_DAG) {
        unfinished.delete(held.keys().next().value!);
        held.delete(held.keys().next().value!);
      }
      held.set(obs.entity, due);
      active.set(dag, held);
      return;
    }
    unfinished.delete(obs.entity);
    if (!runs?.delete(obs.entity)) return;
    if (runs.size === 0) active.delete(dag);
    const b = blocked.get(dag);
    if (b?.runs.has(obs.entity))
      unblock(
        dag,
        obs.time,
        `run ${obs.entity.slice(`airflow:dagrun:${dag.slice(12)}/`.length)} ended ${obs.to}`,
        ctx,
      );
  }

  function unblock(dag: EntityKey, time: number, why: string, ctx: DetectorContext): void {
    const b = blocked.get(dag);
    if (!b) return;
    blocked.delete(dag);
    ctx.emit({ ...b.signal, status: 'resolved', time, title: `${b.signal.title} — ${why}` });
  }

  /**
   * A DAG Airflow plans no run for while its schedule says one is due, and whose active runs are
   * as many as its `max_active_runs`: the run is not created because they hold every slot. What
   * does not progress is those runs, so the signal is about the oldest of them, not the
   * scheduler (it plans the other DAGs) nor the DAG's file.
   */
  function judgeBlocked(obs: StateObservation, ctx: DetectorContext): void {
    const max = obs.details.maxActiveRuns;
    const timetable = obs.details.timetable;
    const runs = active.get(obs.entity);
    if (
      blocked.has(obs.entity) ||
      obs.to !== 'scheduled' ||
      obs.details.nextRunAfter !== undefined ||
      typeof max !== 'number' ||
      typeof timetable !== 'string' ||
      !runs ||
      runs.size < max
    )
      return;
    const dues = [...runs.values()];
    const due = nextScheduled(timetable, Math.max(...dues));
    if (due === undefined || obs.time - due < lateAfterMs) return;
    const oldest = [...runs].reduce((a, b) => (b[1] < a[1] ? b : a));
    const signal = blockedSignal(obs, timetable, max, due, oldest, runs.size, [
      ...(unfinished.get(oldest[0]) ?? []),
    ]);
    blocked.set(obs.entity, { signal, runs: new Set(runs.keys()) });
    // the unplanned DAG's own judgement would blame its file: the runs explain it
    unplanned.delete(obs.entity);
    ctx.emit(signal);
  }

  function follow(obs: StateObservation, nextRunAfter: number | undefined, ctx: DetectorContext): void {
    const known = planned.get(obs.entity);
    const timetable = typeof obs.details.timetable === 'string' ? obs.details.timetable : undefined;
    if (obs.to === 'paused' || (obs.to === 'scheduled' && nextRunAfter !== undefined)) {
      if (known?.signal) {
        const why = obs.to === 'paused' ? 'the DAG was paused' : 'Airflow plans its runs again';
        ctx.emit({
          ...known.signal,
          status: 'resolved',
          time: obs.time,
          title: `${known.signal.title} — ${why}`,
        });
      }
      planned.delete(obs.entity);
      unplanned.delete(obs.entity);
      if (obs.to === 'paused' || !timetable || nextRunAfter === undefined) return;
      if (planned.size >= MAX_DAGS) {
        const oldest = planned.keys().next().value!;
        planned.delete(oldest);
        unplanned.delete(oldest);
      }
      const file = obs.related.find((r) => r.startsWith('airflow:import:'));
      planned.set(obs.entity, { timetable, lastDue: nextRunAfter, file });
      return;
    }
    if (!known || known.unplannedAt !== undefined) return;
    // No next run planned: the one reported last, if it is still ahead, else the next its
    // schedule gives after it (that run was created, and no later one is planned).
    const expected = obs.time < known.lastDue ? known.lastDue : nextScheduled(known.timetable, known.lastDue);
    if (expected === undefined) {
      planned.delete(obs.entity);
      return;
    }
    known.unplannedAt = obs.time;
    known.expected = expected;
    unplanned.add(obs.entity);
  }

  function judge(now: number, ctx: DetectorContext): void {
    if (now === judgedAt) return;
    judgedAt = now;
    for (const dag of unplanned) {
      if (isHeld(dag)) continue;
      const p = planned.get(dag);
      if (!p?.expected) {
        unplanned.delete(dag);
        continue;
      }
      if (now - p.expected < lateAfterMs) continue;
      unplanned.delete(dag);
      p.signal = unplannedSignal(dag, p, now);
      ctx.emit(p.signal);
    }
  }

  /** Whether a DAG's active runs hold every slot it has: its missing run is theirs to explain. */
  function isHeld(dag: EntityKey): boolean {
    const max = maxRuns.get(dag);
    return max !== undefined && (active.get(dag)?.size ?? 0) >= max;
  }

  function observe(obs: Observation, ctx: DetectorContext): void {
    if (obs.type !== 'state') return;
    if (obs.entity.startsWith('airflow:task:')) {
      followTry(obs);
      return;
    }
    if (obs.entity.startsWith('airflow:dagrun:')) {
      followRun(obs, ctx);
      return;
    }
    if (!obs.entity.startsWith('airflow:dag:')) return;
    const nextRunAfter = typeof obs.details.nextRunAfter === 'number' ? obs.details.nextRunAfter : undefined;
    if (typeof obs.details.maxActiveRuns === 'number' && active.has(obs.entity))
      maxRuns.set(obs.entity, obs.details.maxActiveRuns);
    else maxRuns.delete(obs.entity);
    if (nextRunAfter !== undefined || obs.to !== 'scheduled')
      unblock(
        obs.entity,
        obs.time,
        obs.to === 'scheduled' ? 'its next run was created' : (ENDED[obs.to] ?? obs.to),
        ctx,
      );
    follow(obs, nextRunAfter, ctx);
    judgeBlocked(obs, ctx);
    judge(obs.time, ctx);
    const current = late.get(obs.entity);
    if (current) {
      const created = nextRunAfter === undefined || nextRunAfter > current.dueAt;
      if (obs.to !== 'scheduled' || created) {
        late.delete(obs.entity);
        const why = ENDED[obs.to] ?? 'its run was created';
        ctx.emit({
          ...current.signal,
          status: 'resolved',
          time: obs.time,
          title: `${current.signal.title} — ${why}`,
        });
      }
      return;
    }
    if (obs.to !== 'scheduled' || nextRunAfter === undefined) return;
    if (obs.time - nextRunAfter < lateAfterMs) return;
    const signal = lateSignal(obs, nextRunAfter);
    late.set(obs.entity, { signal, dueAt: nextRunAfter });
    ctx.emit(signal);
  }

  return {
    id: AIRFLOW_DAG_LATE_DETECTOR_ID,
    accepts: ['state'],
    observe,
    size: () => late.size + planned.size + active.size,
  };
}

/** The processor that parses DAG files: what a DAG no longer planned waits on. */
const DAG_PROCESSOR: EntityKey = 'airflow:dag_processor';

function unplannedSignal(dag: EntityKey, p: Planned, now: number): Signal {
  const dagId = dag.slice('airflow:dag:'.length);
  const expected = p.expected!;
  const minutes = Math.round((now - expected) / 60_000);
  const due = iso(expected);
  const file = p.file ? p.file.slice('airflow:import:'.length) : undefined;
  return {
    fingerprint: stableId('afu_', dag, String(expected)),
    kind: 'airflow.dag_late',
    status: 'firing',
    entity: p.file ?? dag,
    related: p.file ? [dag, DAG_PROCESSOR] : [DAG_PROCESSOR],
    time: now,
    severity: 'high',
    title: `DAG ${dagId}: the run its schedule had due at ${due} was never planned (${minutes} min late)`,
    detector: AIRFLOW_DAG_LATE_DETECTOR_ID,
    evidence: [
      { kind: 'text', label: 'due at', text: due },
      { kind: 'value', label: 'minutes late', value: minutes, unit: 'min' },
      { kind: 'text', label: 'schedule', text: p.timetable },
      { kind: 'text', label: 'last planned run', text: iso(p.lastDue) },
      { kind: 'text', label: 'no longer planned since', text: iso(p.unplannedAt!) },
      ...(file ? [{ kind: 'text' as const, label: 'DAG file', text: file }] : []),
      {
        kind: 'text',
        label: 'what stops a DAG from being planned',
        text: 'its file is no longer parsed (the parse is killed by the processor timeout, or fails) or no longer defines it, so Airflow deactivates the DAG; or the DAG already has max_active_runs runs active',
      },
    ],
  };
}

/** The kind of signal of a DAG's due run held back by its own active runs. */
export const RUN_BLOCKING_KIND = 'airflow.run_blocking';

function blockedSignal(
  obs: StateObservation,
  timetable: string,
  max: number,
  due: number,
  [run, runDue]: [EntityKey, number],
  activeRuns: number,
  tries: readonly EntityKey[],
): Signal {
  const dagId = obs.entity.slice('airflow:dag:'.length);
  const runId = run.slice(`airflow:dagrun:${dagId}/`.length);
  const minutes = Math.round((obs.time - due) / 60_000);
  return {
    fingerprint: stableId('afb_', obs.entity, String(due)),
    kind: RUN_BLOCKING_KIND,
    status: 'firing',
    entity: run,
    // what the run is still doing: the tries that do not end
    related: [obs.entity, ...tries.slice(0, MAX_TRIES_NAMED)],
    time: obs.time,
    severity: 'high',
    title: `DAG ${dagId}: run ${runId} is still active, so the run due at ${iso(due)} has not been created (${minutes} min late, max_active_runs ${max})`,
    detector: AIRFLOW_DAG_LATE_DETECTOR_ID,
    evidence: [
      { kind: 'text', label: 'due at', text: iso(due) },
      { kind: 'value', label: 'minutes late', value: minutes, unit: 'min' },
      { kind: 'text', label: 'schedule', text: timetable },
      { kind: 'value', label: 'max active runs', value: max },
      { kind: 'value', label: 'active runs', value: activeRuns },
      { kind: 'text', label: 'oldest active run due at', text: iso(runDue) },
      ...(tries.length > 0
        ? [
            {
              kind: 'text' as const,
              label: 'its tries not ended',
              text: tries.slice(0, MAX_TRIES_NAMED).join(', '),
            },
          ]
        : []),
      {
        kind: 'text',
        label: 'what keeps a due run from being created',
        text: 'the DAG already has max_active_runs runs active: a run that does not end (a task that hangs or waits) holds the slot its next run needs',
      },
    ],
  };
}

function iso(t: number): string {
  return new Date(t).toISOString().replace('.000Z', 'Z');
}

function lateSignal(obs: StateObservation, dueAt: number): Signal {
  const dagId = obs.entity.slice('airflow:dag:'.length);
  const minutes = Math.round((obs.time - dueAt) / 60_000);
  const due = iso(dueAt);
  const timetable = typeof obs.details.timetable === 'string' ? obs.details.timetable : undefined;
  const maxActiveRuns = typeof obs.details.maxActiveRuns === 'number' ? obs.details.maxActiveRuns : undefined;
  return {
    fingerprint: stableId('afl_', obs.entity, String(dueAt)),
    kind: 'airflow.dag_late',
    status: 'firing',
    entity: obs.entity,
    related: [...obs.related],
    time: obs.time,
    severity: 'high',
    title: `DAG ${dagId}: the run due at ${due} has not been created (${minutes} min late)`,
    detector: AIRFLOW_DAG_LATE_DETECTOR_ID,
    evidence: [
      { kind: 'text', label: 'due at', text: due },
      { kind: 'value', label: 'minutes late', value: minutes, unit: 'min' },
      ...(timetable ? [{ kind: 'text' as const, label: 'schedule', text: timetable }] : []),
      ...(maxActiveRuns !== undefined
        ? [{ kind: 'value' as const, label: 'max active runs', value: maxActiveRuns }]
        : []),
      {
        kind: 'text',
        label: 'what keeps a due run from being created',
        text: 'the scheduler is down or stuck, the DAG already has max_active_runs runs active, or its file no longer parses (an import error)',
      },
    ],
  };
}
