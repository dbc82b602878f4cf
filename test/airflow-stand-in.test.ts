import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAirflowDagLateDetector } from '../detectors/airflow-dag-late.ts';
import { ManualClock, type Signal, type StateObservation } from '../src/core/index.ts';
import { createAirflowSource } from '../src/sources/airflow/source.ts';
import { type AirflowScenario, startAirflowStandIn } from '../src/stand-ins/airflow.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { type Shape, shapeDifferences, shapeOf } from './support/shape.ts';

const RUN = 'scheduled__2026-03-02T02:00:00+00:00';
const scenario: AirflowScenario = {
  dags: [{ dag_id: 'silver_orders', tags: ['silver'], owners: ['data-eng'], is_paused: false }],
  dag_runs: [
    {
      dag_id: 'silver_orders',
      dag_run_id: RUN,
      logical_date: '2026-03-02T02:00:00Z',
      run_type: 'scheduled',
      queued_at: '2026-03-02T02:00:01Z',
      start_date: '2026-03-02T02:00:02Z',
      end_date: '2026-03-02T02:20:00Z',
      state: 'failed',
    },
  ],
  task_instances: [
    {
      dag_id: 'silver_orders',
      dag_run_id: RUN,
      task_id: 'transform_orders',
      map_index: -1,
      try_number: 1,
      max_tries: 1,
      queued_when: '2026-03-02T02:00:03Z',
      start_date: '2026-03-02T02:00:05Z',
      end_date: '2026-03-02T02:10:00Z',
      state: 'up_for_retry',
      hostname: 'airflow-worker-2',
      operator: 'SparkConnectSqlOperator',
      log: [
        '[2026-03-02T02:00:06.000+0000] {taskinstance.py:1} INFO - Starting',
        '[2026-03-02T02:09:59.000+0000] {taskinstance.py:2} ERROR - grpc UNAVAILABLE',
      ],
    },
    {
      dag_id: 'silver_orders',
      dag_run_id: RUN,
      task_id: 'transform_orders',
      map_index: -1,
      try_number: 2,
      max_tries: 1,
      queued_when: '2026-03-02T02:15:00Z',
      start_date: '2026-03-02T02:15:02Z',
      end_date: '2026-03-02T02:19:58Z',
      state: 'failed',
      hostname: 'airflow-worker-1',
      operator: 'SparkConnectSqlOperator',
      log: ['[2026-03-02T02:19:57.000+0000] {taskinstance.py:2} ERROR - grpc UNAVAILABLE again'],
    },
  ],
  import_errors: [
    {
      filename: 'dags/gold/exports.py',
      stack_trace: 'ModuleNotFoundError',
      timestamp: '2026-03-02T02:05:00Z',
    },
  ],
  health: [
    {
      at: '2026-03-02T01:00:00Z',
      metadatabase: 'healthy',
      scheduler: 'healthy',
      latest_scheduler_heartbeat: '2026-03-02T00:59:59Z',
    },
  ],
};

/** The Airflow stand-in serves a scenario as the real API would have at each virtual instant. */
describe('Airflow stand-in', () => {
  const clock = new ManualClock(Date.parse('2026-03-02T02:05:30Z'));
  let standIn: Awaited<ReturnType<typeof startAirflowStandIn>>;
  beforeAll(async () => {
    standIn = await startAirflowStandIn({ scenario, clock, username: 'guardian', password: 'pw' });
  });
  afterAll(() => standIn?.close());

  async function api(p: string) {
    const token = (
      (await (
        await fetch(`${standIn.url}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'guardian', password: 'pw' }),
        })
      ).json()) as { access_token: string }
    ).access_token;
    return (await fetch(`${standIn.url}${p}`, { headers: { authorization: `Bearer ${token}` } })).json();
  }

  it('answers in the shapes the real Airflow 3 answered in (recorded by the engine tests)', async () => {
    await clock.advanceTo(Date.parse('2026-03-02T02:30:00Z'));
    const recorded = JSON.parse(
      readFileSync(path.join(import.meta.dirname, 'engines', 'recordings', 'airflow-shapes.json'), 'utf8'),
    ) as Record<string, Shape>;
    const r = encodeURIComponent(RUN);
    const answers: Record<string, unknown> = {
      health: await (await fetch(`${standIn.url}/api/v2/monitor/health`)).json(),
      dagRuns: await api('/api/v2/dags/~/dagRuns?limit=1'),
      taskInstances: await api('/api/v2/dags/~/dagRuns/~/taskInstances?limit=1'),
      tries: await api(`/api/v2/dags/silver_orders/dagRuns/${r}/taskInstances/transform_orders/tries`),
      logs: await api(
        `/api/v2/dags/silver_orders/dagRuns/${r}/taskInstances/transform_orders/logs/1?full_content=true`,
      ),
      importErrors: await api('/api/v2/importErrors?limit=1'),
      dags: await api('/api/v2/dags?limit=1'),
    };
    for (const [k, shape] of Object.entries(recorded))
      expect(shapeDifferences(shape, shapeOf(answers[k])), k).toEqual([]);
  });

  it('never reveals the future, and Guardian’s Airflow source reads it like the real API', async () => {
    const c = new ManualClock(Date.parse('2026-03-02T02:05:30Z'));
    const s = await startAirflowStandIn({ scenario, clock: c, username: 'guardian', password: 'pw' });
    try {
      const source = sourceOf(s.url, c);
      const states = async () =>
        (await source.poll())
          .filter((o): o is StateObservation => o.type === 'state')
          .map((o) => `${o.entity.split('/').at(-1)}:${o.to}`);
      expect(await states()).toEqual(
        ['airflow:dagrun:silver_orders:running', 'transform_orders:running', 'airflow:import:dags:error'].map(
          fix,
        ),
      );
      await c.advanceTo(Date.parse('2026-03-02T02:12:00Z'));
      const later = (await source.poll()).filter((o): o is StateObservation => o.type === 'state');
      expect(later.map((o) => [o.to, o.details.try_number])).toEqual([['up_for_retry', 1]]);
      expect(later[0]!.details.log).toEqual([
        '[2026-03-02T02:09:59.000+0000] {taskinstance.py:2} ERROR - grpc UNAVAILABLE',
      ]);
      await c.advanceTo(Date.parse('2026-03-02T02:25:00Z'));
      expect(await states()).toEqual([`${RUN}:failed`, 'transform_orders:failed'].map(fix));
    } finally {
      await s.close();
    }
  });
});

describe('Airflow stand-in: a scheduler that falls behind', () => {
  // The 02:00 run of gold_daily is created only at 02:40: until then Airflow's next run for the
  // DAG stays 02:00, and Guardian calls it late; tomorrow's run lies past the scenario.
  const late: AirflowScenario = {
    dags: [{ dag_id: 'gold_daily', schedule: '0 2 * * *' }],
    dag_runs: [
      {
        dag_id: 'gold_daily',
        dag_run_id: 'scheduled__2026-03-01T02:00:00+00:00',
        run_type: 'scheduled',
        run_after: '2026-03-01T02:00:00Z',
        queued_at: '2026-03-01T02:00:01Z',
        start_date: '2026-03-01T02:00:02Z',
        end_date: '2026-03-01T02:30:00Z',
        state: 'success',
      },
      {
        dag_id: 'gold_daily',
        dag_run_id: 'scheduled__2026-03-02T02:00:00+00:00',
        run_type: 'scheduled',
        run_after: '2026-03-02T02:00:00Z',
        queued_at: '2026-03-02T02:40:00Z',
        start_date: '2026-03-02T02:40:02Z',
        end_date: null,
        state: 'running',
      },
      {
        dag_id: 'gold_daily',
        dag_run_id: 'manual__2026-03-02T01:00:00+00:00',
        run_type: 'manual',
        run_after: '2026-03-02T01:00:00Z',
        queued_at: '2026-03-02T03:00:00Z',
        start_date: null,
        end_date: null,
        state: 'queued',
      },
    ],
  };

  it('reports the due run as next until it is created, and Guardian calls the DAG late meanwhile', async () => {
    const c = new ManualClock(Date.parse('2026-03-01T12:00:00Z'));
    const s = await startAirflowStandIn({ scenario: late, clock: c, username: 'guardian', password: 'pw' });
    try {
      const source = sourceOf(s.url, c);
      const detector = createAirflowDagLateDetector();
      const signals: Signal[] = [];
      const nextRuns: unknown[] = [];
      for (
        let t = Date.parse('2026-03-02T01:50:00Z');
        t <= Date.parse('2026-03-02T02:50:00Z');
        t += 5 * 60_000
      ) {
        await c.advanceTo(t);
        for (const o of await source.poll()) {
          if (o.type !== 'state' || o.entity !== 'airflow:dag:gold_daily') continue;
          nextRuns.push(o.details.nextRunAfter);
          detector.observe(o, { now: () => t, emit: (x) => signals.push(x) });
        }
      }
      const due = Date.parse('2026-03-02T02:00:00Z');
      // 01:50 … 02:35 (ten polls) the 02:00 run is next; at 02:40 it exists, and no later one is
      // known: a DAG on a schedule is still reported each poll (its runs may hold every slot).
      expect(nextRuns).toEqual([...Array(10).fill(due), undefined, undefined, undefined]);
      expect(signals.map((x) => [x.kind, x.status, new Date(x.time).toISOString()])).toEqual([
        ['airflow.dag_late', 'firing', '2026-03-02T02:15:00.000Z'],
        ['airflow.dag_late', 'resolved', '2026-03-02T02:40:00.000Z'],
      ]);
    } finally {
      await s.close();
    }
  });
});

describe("Airflow stand-in: a run that hangs and holds its DAG's only slot", () => {
  // Yesterday's 02:00 run of silver_orders hangs in its extract (nothing about it changes after
  // yesterday 02:00); with max_active_runs 1 tonight's run is never created. gold_daily's sensor
  // waits for silver_orders and times out at 02:40.
  const Y = 'scheduled__2026-03-01T02:00:00+00:00';
  const T = 'scheduled__2026-03-02T02:00:00+00:00';
  const hung: AirflowScenario = {
    dags: [
      { dag_id: 'silver_orders', schedule: '0 2 * * *', max_active_runs: 1 },
      { dag_id: 'gold_daily', schedule: '0 2 * * *' },
    ],
    dag_runs: [
      {
        dag_id: 'silver_orders',
        dag_run_id: Y,
        run_type: 'scheduled',
        run_after: '2026-03-01T02:00:00Z',
        queued_at: '2026-03-01T02:00:01Z',
        start_date: '2026-03-01T02:00:02Z',
        end_date: null,
        state: 'running',
      },
      {
        dag_id: 'gold_daily',
        dag_run_id: T,
        run_type: 'scheduled',
        run_after: '2026-03-02T02:00:00Z',
        queued_at: '2026-03-02T02:00:01Z',
        start_date: '2026-03-02T02:00:02Z',
        end_date: '2026-03-02T02:40:02Z',
        state: 'failed',
      },
    ],
    task_instances: [
      {
        dag_id: 'silver_orders',
        dag_run_id: Y,
        task_id: 'extract',
        try_number: 1,
        queued_when: '2026-03-01T02:00:02Z',
        start_date: '2026-03-01T02:00:03Z',
        end_date: null,
        state: 'running',
        hostname: 'airflow-worker-1',
      },
      {
        dag_id: 'gold_daily',
        dag_run_id: T,
        task_id: 'wait_for_silver',
        try_number: 1,
        queued_when: '2026-03-02T02:00:02Z',
        start_date: '2026-03-02T02:00:03Z',
        end_date: '2026-03-02T02:40:01Z',
        state: 'failed',
        hostname: 'airflow-worker-2',
        operator: 'ExternalTaskSensor',
        log: [
          "[2026-03-02T02:00:04.000+0000] {external_task.py:251} INFO - Poking for tasks ['publish'] in dag silver_orders on 2026-03-02T02:00:00+00:00 ... ",
          '[2026-03-02T02:40:01.000+0000] {task_runner.py:1084} ERROR - airflow.exceptions.AirflowSensorTimeout: Sensor has timed out',
        ],
      },
    ],
  };

  it('reads the run still active however old, and Guardian roots the missing run at it', async () => {
    const c = new ManualClock(Date.parse('2026-03-02T01:30:00Z'));
    const s = await startAirflowStandIn({ scenario: hung, clock: c, username: 'guardian', password: 'pw' });
    try {
      const source = sourceOf(s.url, c);
      const detector = createAirflowDagLateDetector();
      const signals: Signal[] = [];
      const seen: StateObservation[] = [];
      for (
        let t = Date.parse('2026-03-02T01:30:00Z');
        t <= Date.parse('2026-03-02T02:45:00Z');
        t += 5 * 60_000
      ) {
        await c.advanceTo(t);
        for (const o of await source.poll()) {
          if (o.type !== 'state') continue;
          seen.push(o);
          detector.observe(o, { now: () => t, emit: (x) => signals.push(x) });
        }
      }
      // The first poll, an hour past any change of it, reports the hung run and its try.
      expect(
        seen.filter((o) => o.entity.includes(Y)).map((o) => `${o.entity.split('/').at(-1)}:${o.to}`),
      ).toEqual([`${Y}:running`, 'extract:running']);
      // The DAG with no next run is reported each poll, with its max_active_runs.
      const silver = seen.filter((o) => o.entity === 'airflow:dag:silver_orders');
      expect(silver).toHaveLength(16);
      expect(silver[0]!.details).toEqual({ timetable: '0 2 * * *', maxActiveRuns: 1 });
      // The sensor's failure says which DAG it waited for (its log tail keeps only the timeout).
      const sensor = seen.find((o) => o.entity.endsWith('/wait_for_silver') && o.to === 'failed');
      expect(sensor?.details.waited_for).toEqual(['silver_orders']);
      expect(signals.map((x) => [x.kind, x.entity, new Date(x.time).toISOString()])).toEqual([
        ['airflow.run_blocking', `airflow:dagrun:silver_orders/${Y}`, '2026-03-02T02:15:00.000Z'],
      ]);
      expect(signals[0]!.related).toEqual([
        'airflow:dag:silver_orders',
        `airflow:task:silver_orders/${Y}/extract`,
      ]);
    } finally {
      await s.close();
    }
  });
});

/** Guardian's Airflow source reading a stand-in, on the stand-in's clock. */
function sourceOf(url: string, clock: ManualClock) {
  return createAirflowSource({
    baseUrl: url,
    username: 'guardian',
    password: 'pw',
    clock,
    logger: silentLogger(),
  });
}

/** `entity.split('/').at(-1)` of the expected entities, written readably above. */
function fix(s: string): string {
  if (s === 'airflow:dagrun:silver_orders:running') return `${RUN}:running`;
  if (s === 'airflow:import:dags:error') return 'exports.py:error';
  return s;
}
