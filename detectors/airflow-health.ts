import type { Observation, Signal } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import { errorLines, resourcesNamedIn } from '../src/correlation/resources.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';

export const AIRFLOW_HEALTH_DETECTOR_ID = 'airflow-health';

/**
 * Airflow's own components (`/api/v2/monitor/health`): the scheduler, triggerer, DAG processor or
 * metadata database unhealthy (`airflow.component_unhealthy`); and DAG files that fail to import
 * (`airflow.import_error`), whose DAGs silently stop being scheduled.
 */
export function createAirflowHealthDetector(): Detector {
  const unhealthy = new Set<string>();
  const importErrors = new Set<string>();
  return {
    id: AIRFLOW_HEALTH_DETECTOR_ID,
    accepts: ['health', 'state'],
    observe(obs: Observation, ctx: DetectorContext) {
      if (obs.type === 'health' && obs.entity.startsWith('airflow:')) {
        if (!obs.healthy && !unhealthy.has(obs.entity)) {
          unhealthy.add(obs.entity);
          ctx.emit(component(obs.entity, 'firing', obs.time, obs.reason));
        } else if (obs.healthy && unhealthy.delete(obs.entity)) {
          ctx.emit(component(obs.entity, 'resolved', obs.time, obs.reason));
        }
        return;
      }
      if (obs.type === 'state' && obs.entity.startsWith('airflow:import:')) {
        const file = obs.entity.slice('airflow:import:'.length);
        if (obs.to === 'error') {
          importErrors.add(obs.entity);
          // The module the file failed on: several files breaking on one module are one cause.
          const names = resourcesNamedIn(errorLines(String(obs.details.stack_trace ?? '')));
          ctx.emit({
            ...(names.length > 0 ? { names } : {}),
            // its class, like any failure's: files failing on one module are failures of one
            // class naming one resource
            errorClass: 'dag_import_error',
            fingerprint: stableId('afi_', obs.entity),
            kind: 'airflow.import_error',
            status: 'firing',
            entity: obs.entity,
            related: [],
            time: obs.time,
            severity: 'high',
            title: `DAG file ${file} fails to import: its DAGs are not scheduled`,
            detector: AIRFLOW_HEALTH_DETECTOR_ID,
            evidence: [
              {
                kind: 'log',
                label: 'stack trace',
                lines: String(obs.details.stack_trace ?? '')
                  .split('\n')
                  .slice(-20),
              },
            ],
          });
        } else if (obs.to === 'ok' && importErrors.delete(obs.entity)) {
          ctx.emit({
            fingerprint: stableId('afi_', obs.entity),
            kind: 'airflow.import_error',
            status: 'resolved',
            entity: obs.entity,
            related: [],
            time: obs.time,
            severity: 'high',
            title: `DAG file ${file} imports again`,
            detector: AIRFLOW_HEALTH_DETECTOR_ID,
            evidence: [],
          });
        }
      }
    },
    size: () => unhealthy.size + importErrors.size,
  };
}

function component(entity: string, status: Signal['status'], time: number, reason: string): Signal {
  const name = entity.slice('airflow:'.length);
  return {
    fingerprint: stableId('afh_', entity),
    kind: 'airflow.component_unhealthy',
    status,
    entity,
    related: [],
    time,
    severity: name === 'scheduler' || name === 'metadatabase' ? 'critical' : 'high',
    title: status === 'firing' ? `Airflow ${name} is unhealthy` : `Airflow ${name} is healthy again`,
    detector: AIRFLOW_HEALTH_DETECTOR_ID,
    evidence: [{ kind: 'text', label: 'health', text: reason }],
    // The metadata database unhealthy is a database refusing Airflow: the same outage as the
    // tasks failing with `database_unavailable`, which it explains and groups with.
    ...(name === 'metadatabase' ? { errorClass: 'database_unavailable' } : {}),
  };
}
