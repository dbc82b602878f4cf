import { type Incident, parseTaskKey } from '../core/index.ts';
import type { AirflowHealth, ComponentHealth, TaskInstance } from '../sources/airflow/client.ts';
import type { Collector } from './collector.ts';
import { DiagnosticNotApplicableError, DiagnosticUnavailableError } from './diagnostic.ts';

/** The failed try's log tail of the incident's first failed task (its impact, else its task entities). */
export const airflowTryLogTail: Collector<'airflow_try_log_tail'> = {
  title: (d) => `Airflow task log (last ${d.lines} lines)`,
  async collect(d, { incident, targets }) {
    const client = targets.airflow;
    if (!client) throw new DiagnosticNotApplicableError('Airflow is not configured (AIRFLOW_URL)');
    const task = firstTask(incident);
    if (!task) throw new DiagnosticNotApplicableError('the incident names no Airflow task');
    const tries = await client.tries(task);
    const failed = tries.filter((t) => t.state === 'failed' || t.state === 'up_for_retry');
    const chosen = latest(failed.length > 0 ? failed : tries);
    if (!chosen) throw new DiagnosticUnavailableError('Airflow has no try of the task');
    const lines = await client.taskLog(task, chosen.try_number);
    const mapped = task.map_index >= 0 ? `[${task.map_index}]` : '';
    return {
      label: `Airflow log of ${task.dag_id} / ${task.task_id}${mapped}, try ${chosen.try_number} (${chosen.state ?? 'no state'}), last ${Math.min(d.lines, lines.length)} lines`,
      lines: lines.slice(-d.lines),
      keep: 'tail',
    };
  },
};

/** Airflow's import errors: those of the incident's DAG files first, else all (newest first). */
export const airflowImportErrors: Collector<'airflow_import_errors'> = {
  title: () => 'Airflow import errors',
  async collect(_d, { incident, targets }) {
    const client = targets.airflow;
    if (!client) throw new DiagnosticNotApplicableError('Airflow is not configured (AIRFLOW_URL)');
    const { items } = await client.importErrors();
    const files = new Set(
      incident.entities
        .filter((e) => e.startsWith('airflow:import:'))
        .map((e) => e.slice('airflow:import:'.length)),
    );
    const mine = items.filter((e) => files.has(e.filename));
    const shown = (mine.length > 0 ? mine : items).slice(-5).reverse();
    if (shown.length === 0)
      return { label: 'Airflow import errors', lines: ['none: every DAG file imports'] };
    return {
      label: `Airflow import errors (${shown.length} of ${items.length})`,
      lines: shown.flatMap((e) => {
        const trace = e.stack_trace.trim().split('\n');
        return [
          `${e.filename}${e.timestamp ? ` (${e.timestamp})` : ''}:`,
          ...trace.slice(-3).map((l) => `  ${l.trim()}`),
        ];
      }),
    };
  },
};

/** Airflow's component health (`/api/v2/monitor/health`). */
export const airflowHealth: Collector<'airflow_health'> = {
  title: () => 'Airflow health',
  async collect(_d, { targets }) {
    const client = targets.airflow;
    if (!client) throw new DiagnosticNotApplicableError('Airflow is not configured (AIRFLOW_URL)');
    const h: AirflowHealth = await client.health();
    const component = (name: string, c: ComponentHealth | null | undefined, beat?: string | null) =>
      c
        ? `${name}: ${c.status ?? 'unknown'}${beat ? ` (last heartbeat ${beat})` : ''}`
        : `${name}: not reported`;
    return {
      label: 'Airflow health',
      lines: [
        `metadatabase: ${h.metadatabase?.status ?? 'unknown'}`,
        component('scheduler', h.scheduler, h.scheduler?.latest_scheduler_heartbeat),
        component('triggerer', h.triggerer, h.triggerer?.latest_triggerer_heartbeat),
        component('dag_processor', h.dag_processor, h.dag_processor?.latest_dag_processor_heartbeat),
      ],
    };
  },
};

type TaskRef = Pick<TaskInstance, 'dag_id' | 'dag_run_id' | 'task_id' | 'map_index'>;

/** The first failed (else any) task of the impact, else the first task entity of the incident. */
function firstTask(incident: Incident): TaskRef | undefined {
  const tasks = incident.impact?.tasks ?? [];
  const fromImpact = tasks.find((t) => t.state !== 'recovered' && t.state !== 'upstream_failed') ?? tasks[0];
  const key =
    fromImpact?.entity ??
    (incident.rootCause?.entity.startsWith('airflow:task:') ? incident.rootCause.entity : undefined) ??
    incident.entities.find((e) => e.startsWith('airflow:task:'));
  const parsed = key ? parseTaskKey(key) : undefined;
  if (!parsed) return undefined;
  const mapped = /^(.*)\[(\d+)\]$/.exec(parsed.taskId);
  return {
    dag_id: parsed.dagId,
    dag_run_id: parsed.runId,
    task_id: mapped ? mapped[1]! : parsed.taskId,
    map_index: mapped ? Number(mapped[2]) : -1,
  };
}

function latest(tries: readonly TaskInstance[]): TaskInstance | undefined {
  return [...tries].sort((a, b) => b.try_number - a.try_number)[0];
}
