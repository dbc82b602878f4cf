import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAirflowRunStalledDetector } from '../../detectors/airflow-run-stalled.ts';
import { createAirflowTaskFailureDetector } from '../../detectors/airflow-task-failure.ts';
import { createMetricAnomalyDetector } from '../../detectors/metric-anomaly.ts';
import { createMetricBeatStoppedDetector } from '../../detectors/metric-beat-stopped.ts';
import type { Incident, Observation, Signal, StateObservation } from '../../src/core/index.ts';
import { startEmbeddedDynamo } from '../../src/incidents/embedded-dynamo.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { detectorHarness, metricPoint } from '../support/detector-harness.ts';
import { startCorrelator } from './support.ts';

vi.setConfig({ testTimeout: 60_000 });

/*
 * Absence as evidence, end to end: what the Airflow and OTLP sources report → the real detectors
 * (on the engine's clock, ticking) → the real correlator writing to the real store. The evidence is
 * something that should be there and is not: rows an ingestion function no longer writes, tasks a
 * running DAG run no longer starts.
 */

const logger = silentLogger();
const T0 = Date.parse('2026-03-02T01:50:00Z');
const RUN = 'scheduled__2026-03-02T02:00:00+00:00';
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo({ port: 0, logger });
});
afterAll(async () => {
  await dynamo?.close();
});

const task = (dag: string, t: string) => `airflow:task:${dag}/${RUN}/${t}`;

function tryState(dag: string, taskId: string, to: string, at: number, extra: Record<string, unknown> = {}) {
  return {
    type: 'state',
    entity: task(dag, taskId),
    related: [`airflow:dagrun:${dag}/${RUN}`, `airflow:dag:${dag}`, 'host:airflow-worker-1'],
    from: null,
    to,
    time: at,
    details: {
      try_number: 1,
      max_tries: 0,
      hostname: 'airflow-worker-1',
      queued_when: iso(at - 2_000),
      start_date: iso(to === 'running' ? at : at - 60_000),
      end_date: to === 'running' ? null : iso(at),
      ...extra,
    },
  } satisfies StateObservation;
}

function runState(dag: string, to: string, at: number): StateObservation {
  return {
    type: 'state',
    entity: `airflow:dagrun:${dag}/${RUN}`,
    related: [`airflow:dag:${dag}`],
    from: null,
    to,
    time: at,
    details: { run_type: 'scheduled', start_date: iso(at), end_date: null },
  };
}

/** Observations in time order through the detectors (ticking each second) → the correlator. */
async function correlate(observations: Observation[], until: number): Promise<Incident[]> {
  const { correlator, clock } = await startCorrelator(dynamo.endpoint, T0);
  const h = detectorHarness(
    [
      createAirflowTaskFailureDetector(),
      createAirflowRunStalledDetector(),
      createMetricBeatStoppedDetector(),
      createMetricAnomalyDetector(),
    ],
    T0,
  );
  const sorted = [...observations].sort((a, b) => a.time - b.time);
  let applied = 0;
  const drain = async () => {
    for (const s of h.signals.slice(applied) as Signal[]) {
      await clock.advanceTo(Math.max(clock.now(), s.time));
      await correlator.apply(s);
    }
    applied = h.signals.length;
  };
  for (const o of sorted) {
    await h.clock.advanceTo(Math.max(h.clock.now(), o.time));
    h.engine.ingest([o]);
    await drain();
  }
  await h.clock.advanceTo(until);
  await drain();
  return correlator.active().filter((i) => !i.mergedInto);
}

describe('a series that stops beating explains a later failure of a run that used its data', () => {
  const fn = { 'service.name': 'lambda-ingestion', 'faas.name': 'ingest-orders-api' };
  const rows = { ...fn, source: 'orders_api' };
  const ROWS =
    'metric:ingest.rows{faas.name="ingest-orders-api",service.name="lambda-ingestion",source="orders_api"}';
  /** The function runs every 5 min; from 02:00 it lands 0 rows without an error. */
  const series = (emptyFrom: number) =>
    Array.from({ length: 40 }, (_, m) => {
      const at = T0 + m * MIN;
      const beat = m % 5 === 0;
      return [
        metricPoint('ingest.rows', beat && at < emptyFrom ? 900 + m : 0, rows, at),
        metricPoint('aws.lambda.invocations', beat ? 1 : 0, fn, at),
      ];
    }).flat();
  const load = tryState('orders_daily', 'bronze_orders', 'success', T0 + 14 * MIN, {
    data: ['name:landing-prod', 'name:orders_api'],
  });
  const check = tryState('orders_daily', 'dq_orders', 'failed', T0 + 30 * MIN, {
    log: [
      '[2026-03-02T02:20:00.000+0000] {task_runner.py:1084} ERROR - Task failed with exception',
      'airflow.exceptions.AirflowException: Test failed.',
      'Results: (0,)',
    ],
  });

  it('roots the failed check at the series, one incident', async () => {
    const open = await correlate([...series(T0 + 15 * MIN), load, check], T0 + 40 * MIN);
    const withCheck = open.filter((i) =>
      i.signals.some((s) => s.entity === task('orders_daily', 'dq_orders')),
    );
    expect(withCheck).toHaveLength(1);
    expect(withCheck[0]!.rootCause?.entity).toBe(ROWS);
    expect(withCheck[0]!.signals.map((s) => s.kind)).toContain('metric.beat_stopped');
  });

  it('leaves the failure rooted at itself when the rows kept coming', async () => {
    const open = await correlate([...series(Number.POSITIVE_INFINITY), load, check], T0 + 40 * MIN);
    const withCheck = open.filter((i) =>
      i.signals.some((s) => s.entity === task('orders_daily', 'dq_orders')),
    );
    expect(withCheck).toHaveLength(1);
    expect(withCheck[0]!.rootCause?.entity).toBe(task('orders_daily', 'dq_orders'));
    expect(open.flatMap((i) => i.signals).some((s) => s.kind === 'metric.beat_stopped')).toBe(false);
  });
});

describe('runs of several DAGs that start no task', () => {
  const DAGS = ['orders_daily', 'claims_daily', 'ledger_daily'];
  const START = T0 + 10 * MIN;

  it('are one incident that pages, and a run that moves on is not in it', async () => {
    const open = await correlate(
      [
        ...DAGS.map((dag, i) => runState(dag, 'running', START + i * 1_000)),
        runState('healthy_daily', 'running', START),
        tryState('healthy_daily', 'load', 'running', START + 3_000),
      ],
      START + 22 * MIN,
    );
    const stalled = open.filter((i) => i.signals.some((s) => s.kind === 'airflow.run_stalled'));
    expect(stalled).toHaveLength(1);
    expect(new Set(stalled[0]!.signals.map((s) => s.entity))).toEqual(
      new Set(DAGS.map((d) => `airflow:dag:${d}`)),
    );
    expect(stalled[0]!.quiet).toBe(false);
    expect(stalled[0]!.signals.some((s) => s.severity === 'high')).toBe(true);
  });
});
