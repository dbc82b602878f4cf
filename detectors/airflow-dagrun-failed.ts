import type { Observation, Signal, StateObservation } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';

export const AIRFLOW_DAGRUN_FAILED_DETECTOR_ID = 'airflow-dagrun-failed';

/** A DAG run that ended `failed` (`airflow.dagrun_failed`); it resolves if the run is cleared and succeeds. */
export function createAirflowDagRunFailedDetector(): Detector {
  const failed = new Set<string>();
  return {
    id: AIRFLOW_DAGRUN_FAILED_DETECTOR_ID,
    accepts: ['state'],
    observe(obs: Observation, ctx: DetectorContext) {
      if (obs.type !== 'state' || !obs.entity.startsWith('airflow:dagrun:')) return;
      if (obs.to === 'failed' && !failed.has(obs.entity)) {
        failed.add(obs.entity);
        ctx.emit(signal(obs, 'firing'));
      } else if (obs.to === 'success' && failed.delete(obs.entity)) {
        ctx.emit(signal(obs, 'resolved'));
      }
    },
    size: () => failed.size,
  };
}

function signal(obs: StateObservation, status: Signal['status']): Signal {
  const run = obs.entity.slice('airflow:dagrun:'.length);
  return {
    fingerprint: stableId('afr_', obs.entity),
    kind: 'airflow.dagrun_failed',
    status,
    entity: obs.entity,
    related: [...obs.related],
    time: obs.time,
    severity: 'high',
    title:
      status === 'firing'
        ? `Airflow DAG run ${run} failed`
        : `Airflow DAG run ${run} succeeded after being cleared`,
    detector: AIRFLOW_DAGRUN_FAILED_DETECTOR_ID,
    evidence: [{ kind: 'text', label: 'run type', text: String(obs.details.run_type ?? 'unknown') }],
  };
}
