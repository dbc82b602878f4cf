import { describe, expect, it } from 'vitest';
import type { Observation, StateObservation } from '../src/core/index.ts';
import { detectorHarness } from '../test/support/detector-harness.ts';
import { createAirflowDagRunFailedDetector } from './airflow-dagrun-failed.ts';
import { createAirflowHealthDetector } from './airflow-health.ts';
import { createAirflowTaskFailureDetector } from './airflow-task-failure.ts';
import { createSourceDownDetector } from './source-down.ts';

const t0 = Date.parse('2026-03-02T02:12:40Z');
const TASK = 'airflow:task:silver_orders/scheduled__2026-03-02T02:00:00+00:00/transform_orders';
const related = [
  'airflow:dagrun:silver_orders/scheduled__2026-03-02T02:00:00+00:00',
  'airflow:dag:silver_orders',
  'host:w2',
];

function taskState(
  to: string,
  tryNumber: number,
  time = t0,
  extra: Record<string, unknown> = {},
): StateObservation {
  return {
    type: 'state',
    entity: TASK,
    related,
    from: null,
    to,
    time,
    details: {
      try_number: tryNumber,
      max_tries: 1,
      hostname: 'w2',
      operator: 'SparkConnectSqlOperator',
      ...extra,
    },
  };
}

function run(detector: ReturnType<typeof createAirflowTaskFailureDetector>, observations: Observation[]) {
  const h = detectorHarness([detector]);
  h.engine.ingest(observations);
  return h.signals;
}

describe('airflow-task-failure', () => {
  it('redacts secrets in the task log it keeps as evidence (the engine redacts every signal)', () => {
    const signals = run(createAirflowTaskFailureDetector(), [
      taskState('running', 1),
      taskState('failed', 1, t0, {
        log: ['ERROR - login failed: password=hunter2 key AKIAABCDEFGHIJKLMNOP', 'ERROR - boom'],
      }),
    ]);
    expect(signals[0]!.evidence).toContainEqual({
      kind: 'log',
      label: 'task log',
      lines: ['ERROR - login failed: password=[REDACTED] key [REDACTED AWS KEY ID]', 'ERROR - boom'],
    });
    expect(JSON.stringify(signals)).not.toMatch(/hunter2|AKIAABCDEFGHIJKLMNOP/);
  });

  it('keeps the line its log ends with, redacted and cut, as the error an engineer reads first', () => {
    const signals = run(createAirflowTaskFailureDetector(), [
      taskState('running', 1),
      taskState('failed', 1, t0, {
        log: [
          '[2026-03-02T02:12:39.000+0000] {task_runner.py:1084} ERROR - Task failed with exception\nTraceback (most recent call last):\n  File "x.py", line 1, in run',
          `psycopg2.OperationalError: connection to postgres://etl:hunter2@erp-db:5432/erp failed: timeout ${'x'.repeat(400)}`,
        ],
      }),
    ]);
    const error = signals[0]!.evidence.find((e) => e.kind === 'text' && e.label === 'error');
    expect(error?.kind === 'text' && error.text).toMatch(
      /^psycopg2\.OperationalError: connection to postgres:\/\/etl:\[REDACTED\]@erp-db:5432\/erp failed: timeout x+…$/,
    );
    expect(error?.kind === 'text' && error.text.length).toBeLessThanOrEqual(240);
    expect(JSON.stringify(signals)).not.toContain('hunter2');
  });

  it('a try that fails then succeeds on retry: a retry signal that resolves, no failure', () => {
    const signals = run(createAirflowTaskFailureDetector(), [
      taskState('running', 1),
      taskState('up_for_retry', 1, t0, { log: ['ERROR - boom'] }),
      taskState('running', 2),
      taskState('success', 2, t0 + 60_000),
    ]);
    expect(signals.map((s) => [s.kind, s.status, s.severity])).toEqual([
      ['airflow.task_retry', 'firing', 'low'],
      ['airflow.task_retry', 'resolved', 'low'],
    ]);
    expect(signals[0]!.evidence).toContainEqual({ kind: 'log', label: 'task log', lines: ['ERROR - boom'] });
    expect(signals[0]!.related).toEqual(related);
  });

  it('reads a failed try from the try history (a later try exists) as a retry', () => {
    const signals = run(createAirflowTaskFailureDetector(), [
      taskState('failed', 1, t0, { retried: true }),
      taskState('success', 2, t0 + 60_000),
    ]);
    expect(signals.map((s) => [s.kind, s.status])).toEqual([
      ['airflow.task_retry', 'firing'],
      ['airflow.task_retry', 'resolved'],
    ]);
  });

  it('retries exhausted: the failure supersedes the retry signal', () => {
    const signals = run(createAirflowTaskFailureDetector(), [
      taskState('up_for_retry', 1),
      taskState('failed', 2, t0 + 300_000),
    ]);
    expect(signals.map((s) => [s.kind, s.status])).toEqual([
      ['airflow.task_retry', 'firing'],
      ['airflow.task_retry', 'resolved'],
      ['airflow.task_failed', 'firing'],
    ]);
    expect(signals[2]!.title).toBe(
      'Airflow task silver_orders.transform_orders failed for good (try 2 of 2)',
    );
  });

  it('upstream_failed is reported as a consequence, at info severity', () => {
    const [s] = run(createAirflowTaskFailureDetector(), [taskState('upstream_failed', 0)]);
    expect(s).toMatchObject({ kind: 'airflow.task_upstream_failed', severity: 'info' });
  });

  it('names the triggerer for a deferred try that failed because its trigger never fired', () => {
    const deferred = '[2026-03-02T02:00:04.604+0000] {task_runner.py:1012} INFO - Pausing task as DEFERRED.';
    const [timedOut] = run(createAirflowTaskFailureDetector(), [
      taskState('failed', 1, t0, {
        log: [
          deferred,
          '[2026-03-02T02:40:04.936+0000] {task_runner.py:1084} ERROR - Task failed with exception',
          'airflow.exceptions.TaskDeferralTimeout: Trigger/execution timeout',
        ],
      }),
    ]);
    expect(timedOut!.names).toContain('airflow:triggerer');
    // a deferred try that failed on its own error did not wait on the triggerer
    const [own] = run(createAirflowTaskFailureDetector(), [
      taskState('failed', 1, t0, {
        log: [deferred, 'ERROR - botocore.exceptions.ClientError: AccessDenied'],
      }),
    ]);
    expect(own!.names ?? []).not.toContain('airflow:triggerer');
  });

  it('names the data locations its run used before it failed (what a silently empty load fed it)', () => {
    const RUN = 'airflow:dagrun:silver_orders/scheduled__2026-03-02T02:00:00+00:00';
    const load = (to: string, time: number, data?: string[]): StateObservation => ({
      ...taskState(to, 1, time, data ? { data } : {}),
      entity: 'airflow:task:silver_orders/scheduled__2026-03-02T02:00:00+00:00/bronze_orders',
    });
    const other: StateObservation = {
      ...taskState('success', 1, t0 - 60_000, { data: ['name:elsewhere-bucket'] }),
      entity: 'airflow:task:other_dag/scheduled__2026-03-02T02:00:00+00:00/load',
      related: ['airflow:dagrun:other_dag/scheduled__2026-03-02T02:00:00+00:00', 'airflow:dag:other_dag'],
    };
    const signals = run(createAirflowTaskFailureDetector(), [
      load('success', t0 - 300_000, ['name:landing-prod', 'name:orders_api']),
      other,
      taskState('failed', 1, t0, { log: ['ERROR - Test failed.', 'Results: (0,)'] }),
    ]);
    expect(signals).toHaveLength(1);
    expect(signals[0]!.related).toContain(RUN);
    expect(signals[0]!.names).toEqual(['name:landing-prod', 'name:orders_api']);
    expect(signals[0]!.evidence).toContainEqual({
      kind: 'text',
      label: 'its run used',
      text: 'name:landing-prod, name:orders_api',
    });
  });

  it('says nothing about healthy tasks', () => {
    expect(
      run(createAirflowTaskFailureDetector(), [
        taskState('queued', 1),
        taskState('running', 1),
        taskState('success', 1),
      ]),
    ).toEqual([]);
  });
});

describe('airflow-dagrun-failed', () => {
  it('fires once for a failed run and resolves if it is cleared and succeeds', () => {
    const h = detectorHarness([createAirflowDagRunFailedDetector()]);
    const obs = (to: string): StateObservation => ({
      type: 'state',
      entity: related[0]!,
      related: [related[1]!],
      from: null,
      to,
      time: t0,
      details: { run_type: 'scheduled' },
    });
    h.engine.ingest([obs('running'), obs('failed'), obs('failed'), obs('success')]);
    expect(h.signals.map((s) => [s.kind, s.status])).toEqual([
      ['airflow.dagrun_failed', 'firing'],
      ['airflow.dagrun_failed', 'resolved'],
    ]);
  });
});

describe('airflow-health and source-down', () => {
  it('fires when the scheduler turns unhealthy and resolves when it recovers, once each', () => {
    const h = detectorHarness([createAirflowHealthDetector()]);
    const health = (healthy: boolean): Observation => ({
      type: 'health',
      entity: 'airflow:scheduler',
      time: t0,
      healthy,
      reason: healthy ? 'scheduler is healthy' : 'scheduler is unhealthy',
    });
    h.engine.ingest([health(true), health(false), health(false), health(true), health(true)]);
    expect(h.signals.map((s) => [s.kind, s.status, s.severity])).toEqual([
      ['airflow.component_unhealthy', 'firing', 'critical'],
      ['airflow.component_unhealthy', 'resolved', 'critical'],
    ]);
  });

  it('reports a DAG file that fails to import, until it imports again', () => {
    const h = detectorHarness([createAirflowHealthDetector()]);
    const imp = (to: string): Observation => ({
      type: 'state',
      entity: 'airflow:import:dags/gold/exports.py',
      related: [],
      from: null,
      to,
      time: t0,
      details: { stack_trace: 'Traceback…\nModuleNotFoundError: No module named x' },
    });
    h.engine.ingest([imp('error'), imp('ok')]);
    expect(h.signals.map((s) => [s.kind, s.status])).toEqual([
      ['airflow.import_error', 'firing'],
      ['airflow.import_error', 'resolved'],
    ]);
    expect(JSON.stringify(h.signals[0]!.evidence)).toContain('ModuleNotFoundError');
    // a failure of its class, like a task's: files failing on one module group by it
    expect(h.signals[0]!.errorClass).toBe('dag_import_error');
  });

  it('gives the metadata database seen unhealthy the outage class of a database refusing connections', () => {
    const h = detectorHarness([createAirflowHealthDetector()]);
    h.engine.ingest([
      { type: 'health', entity: 'airflow:metadatabase', time: t0, healthy: false, reason: 'unhealthy' },
      { type: 'health', entity: 'airflow:scheduler', time: t0, healthy: false, reason: 'unhealthy' },
    ]);
    expect(h.signals.map((s) => [s.entity, s.errorClass])).toEqual([
      ['airflow:metadatabase', 'database_unavailable'],
      ['airflow:scheduler', undefined],
    ]);
  });

  it('source.down fires once per outage', () => {
    const h = detectorHarness([createSourceDownDetector()]);
    const health = (healthy: boolean): Observation => ({
      type: 'health',
      entity: 'source:airflow',
      time: t0,
      healthy,
      reason: 'x',
    });
    h.engine.ingest([health(false), health(false), health(true), health(false)]);
    expect(h.signals.map((s) => [s.kind, s.status])).toEqual([
      ['source.down', 'firing'],
      ['source.down', 'resolved'],
      ['source.down', 'firing'],
    ]);
  });
});
