import type { Observation, Signal, StateObservation } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';

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

/**
 * A DAG whose scheduled run has not been created long after it was due (`airflow.dag_late`): the
 * scheduler is down or wedged, the DAG is at `max_active_runs`, or its file no longer parses. It is
 * judged on what Airflow reports at each poll (the DAG's `next_dagrun_run_after`), never on silence:
 * a source that cannot reach Airflow reports nothing, and nothing is called late. It resolves when
 * the run is created (the next run moves on), or the DAG is paused or removed.
 */
export function createAirflowDagLateDetector(options: AirflowDagLateOptions = {}): Detector {
  const lateAfterMs = options.lateAfterMs ?? 15 * 60_000;
  const late = new Map<string, Late>();

  function observe(obs: Observation, ctx: DetectorContext): void {
    if (obs.type !== 'state' || !obs.entity.startsWith('airflow:dag:')) return;
    const nextRunAfter = typeof obs.details.nextRunAfter === 'number' ? obs.details.nextRunAfter : undefined;
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
    size: () => late.size,
  };
}

function lateSignal(obs: StateObservation, dueAt: number): Signal {
  const dagId = obs.entity.slice('airflow:dag:'.length);
  const minutes = Math.round((obs.time - dueAt) / 60_000);
  const due = new Date(dueAt).toISOString().replace('.000Z', 'Z');
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
