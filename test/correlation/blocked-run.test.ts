import { describe, expect, it, vi } from 'vitest';
import { createAirflowDagLateDetector } from '../../detectors/airflow-dag-late.ts';
import { createAirflowTaskFailureDetector } from '../../detectors/airflow-task-failure.ts';
import type { StateObservation } from '../../src/core/index.ts';
import { correlate as correlateOn, MIN, T0, task, tryState, useEmbeddedDynamo } from './support.ts';

vi.setConfig({ testTimeout: 60_000 });

/*
 * Work that never ends, end to end (what the Airflow source reports → the real detectors → the
 * real correlator and store): yesterday's run of a DAG with max_active_runs 1 still runs, so
 * tonight's run is never created; the sensors of other DAGs that wait for it time out. They are
 * one incident, rooted at the run that does not end, paged when the missing run is clear.
 */

const endpoint = useEmbeddedDynamo();

const YESTERDAY = 'scheduled__2026-03-01T02:00:00+00:00';
const HUNG_RUN = `airflow:dagrun:silver_orders/${YESTERDAY}`;
const iso = (ms: number) => new Date(ms).toISOString();

/** What the first poll reads of the run still active a day on, and of its try. */
const hung: StateObservation[] = [
  {
    type: 'state',
    entity: HUNG_RUN,
    related: ['airflow:dag:silver_orders'],
    from: null,
    to: 'running',
    time: T0 - 1440 * MIN,
    details: { run_type: 'scheduled', run_after: iso(T0 - 1440 * MIN), start_date: iso(T0 - 1440 * MIN) },
  },
  {
    type: 'state',
    entity: `airflow:task:silver_orders/${YESTERDAY}/extract`,
    related: [HUNG_RUN, 'airflow:dag:silver_orders', 'host:airflow-worker-1'],
    from: null,
    to: 'running',
    time: T0 - 1440 * MIN,
    details: { try_number: 1, max_tries: 0, start_date: iso(T0 - 1440 * MIN) },
  },
];

/** The DAG as each poll lists it: on a schedule, no next run planned, one run at a time. */
const polls = Array.from({ length: 60 }, (_, m) => ({
  type: 'state' as const,
  entity: 'airflow:dag:silver_orders',
  related: ['airflow:scheduler'],
  from: null,
  to: 'scheduled',
  time: T0 + (m - 5) * MIN,
  details: { timetable: '0 2 * * *', maxActiveRuns: 1 },
}));

/** A sensor of `dag` that waited for `waitedFor` and timed out `minute` minutes into the night. */
const sensorTimedOut = (dag: string, waitedFor: string, minute: number, host: string) =>
  tryState(dag, `wait_for_${waitedFor}`, 'failed', minute, host, {
    max_tries: 0,
    operator: 'ExternalTaskSensor',
    waited_for: [waitedFor],
    log: [
      `[2026-03-02T02:${minute}:00.000+0000] {task_runner.py:1084} ERROR - Task failed with exception`,
      'airflow.exceptions.AirflowSensorTimeout: Sensor has timed out; run duration of 2400.1 seconds exceeds the specified timeout of 2400.0.',
    ],
  });

const detectors = () => [createAirflowTaskFailureDetector(), createAirflowDagLateDetector()];

describe('a run that does not end and holds its DAG’s only slot', () => {
  it('is the root of one incident with the sensors that waited for its DAG, paged at the missing run', async () => {
    const open = await correlateOn(
      endpoint(),
      [
        ...hung,
        ...polls,
        sensorTimedOut('gold_daily', 'silver_orders', 38, 'airflow-worker-2'),
        sensorTimedOut('finance_daily', 'silver_orders', 45, 'airflow-worker-3'),
      ],
      { detectors: detectors() },
    );
    expect(open).toHaveLength(1);
    const [incident] = open;
    expect(incident!.rootCause?.entity).toBe(HUNG_RUN);
    expect(incident!.openedAt).toBe(T0 + 15 * MIN);
    expect(incident!.quiet).toBe(false);
    expect(incident!.signals.map((s) => s.entity).sort()).toEqual(
      [
        HUNG_RUN,
        task('finance_daily', 'wait_for_silver_orders'),
        task('gold_daily', 'wait_for_silver_orders'),
      ].sort(),
    );
    // what the run is still doing is in the incident
    expect(incident!.entities).toContain(`airflow:task:silver_orders/${YESTERDAY}/extract`);
  });

  it('leaves a sensor that waited for another DAG out of it', async () => {
    const open = await correlateOn(
      endpoint(),
      [...hung, ...polls, sensorTimedOut('gold_daily', 'bronze_refunds', 38, 'airflow-worker-2')],
      { detectors: detectors() },
    );
    expect(open).toHaveLength(2);
    const sensor = open.find((i) =>
      i.signals.some((s) => s.entity === task('gold_daily', 'wait_for_bronze_refunds')),
    );
    expect(sensor?.signals).toHaveLength(1);
  });

  it('says nothing when the run ended before the next one was due', async () => {
    const ended: StateObservation = { ...hung[0]!, from: 'running', to: 'success', time: T0 - 30 * MIN };
    const open = await correlateOn(endpoint(), [...hung, ended, ...polls], { detectors: detectors() });
    expect(open).toEqual([]);
  });
});

describe('sensors of several DAGs that waited for one DAG whose work did not happen', () => {
  it('are one incident, rooted at the DAG they waited for', async () => {
    const open = await correlateOn(
      endpoint(),
      [
        // more than the 15-min burst apart: only what they waited for ties them
        sensorTimedOut('gold_daily', 'carriers_daily', 20, 'airflow-worker-2'),
        sensorTimedOut('finance_daily', 'carriers_daily', 38, 'airflow-worker-3'),
        sensorTimedOut('ops_daily', 'carriers_daily', 56, 'airflow-worker-1'),
      ],
      { detectors: detectors() },
    );
    expect(open).toHaveLength(1);
    expect(open[0]!.signals).toHaveLength(3);
    expect(open[0]!.rootCause).toMatchObject({ entity: 'airflow:dag:carriers_daily', kind: 'waited_for' });
  });

  it('keep apart when they waited for different DAGs, and one DAG waiting is rooted at itself', async () => {
    // more than the 15-min burst apart: failing the same way is no tie then
    const open = await correlateOn(
      endpoint(),
      [
        sensorTimedOut('gold_daily', 'carriers_daily', 20, 'airflow-worker-2'),
        sensorTimedOut('finance_daily', 'invoices_daily', 45, 'airflow-worker-3'),
      ],
      { detectors: detectors() },
    );
    expect(open).toHaveLength(2);
    for (const i of open) expect(i.rootCause?.entity).toBe(i.signals[0]!.entity);
  });
});
