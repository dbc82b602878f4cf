import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDetectors } from '../../detectors/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import {
  ManualClock,
  type Observation,
  type Signal,
  type StateObservation,
  systemClock,
} from '../../src/core/index.ts';
import { DetectionEngine } from '../../src/detection/engine.ts';
import { createAirflowSource } from '../../src/sources/airflow/source.ts';
import { Poller } from '../../src/sources/poller.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { type Shape, shapeDifferences, shapeOf } from '../support/shape.ts';
import { type AirflowUnderTest, airflowStandalone, installAirflow } from './airflow-engine.ts';

// Installing Airflow (first run), starting it and running real DAGs takes minutes, not seconds.
vi.setConfig({ hookTimeout: 900_000, testTimeout: 300_000 });

const DAGS = ['guardian_always_fails', 'guardian_retry_recovers', 'guardian_healthy', 'guardian_cascade'];

/**
 * Guardian's Airflow source and detectors against a real Airflow 3 (`airflow standalone`, from the
 * pinned lock): real DAG runs that fail, retry and recover, cascade, and a DAG file that does not
 * import; then the API going away and coming back.
 */
describe('Airflow source against real Airflow 3', () => {
  let airflow: AirflowUnderTest;
  const signals: Signal[] = [];
  const observations: Observation[] = [];
  let engine: DetectionEngine;
  let poller: Poller;
  const runs = new Map<string, string>();

  beforeAll(async () => {
    const bin = await installAirflow();
    airflow = await airflowStandalone(bin);
    await airflow.start();
    engine = new DetectionEngine({
      detectors: createDetectors(parseConfig({})),
      clock: systemClock,
      logger: silentLogger(),
      onSignal: (s) => signals.push(s),
    });
    const source = createAirflowSource({
      baseUrl: airflow.url,
      username: airflow.username,
      password: airflow.password,
      clock: systemClock,
      logger: silentLogger(),
      intervalMs: 5_000,
      timeoutMs: 5_000,
    });
    // The poller's schedule is driven by hand (pollNow), so the test decides when polls happen.
    poller = new Poller({
      sources: [source],
      clock: new ManualClock(0),
      logger: silentLogger(),
      sink: (obs) => {
        observations.push(...obs);
        engine.ingest(obs);
      },
    });

    await waitFor(
      async () => {
        const dags = (await api('GET', '/api/v2/dags?dag_id_pattern=guardian_%')) as {
          dags: { dag_id: string }[];
        };
        const ids = dags.dags.map((d) => d.dag_id);
        return DAGS.every((d) => ids.includes(d));
      },
      120_000,
      'test DAGs parsed',
    );
    for (const dag of DAGS) {
      const run = (await api('POST', `/api/v2/dags/${dag}/dagRuns`, { logical_date: null })) as {
        dag_run_id: string;
      };
      runs.set(dag, run.dag_run_id);
    }
    await waitFor(
      async () => {
        for (const [dag, run] of runs) {
          const r = (await api('GET', `/api/v2/dags/${dag}/dagRuns/${encodeURIComponent(run)}`)) as {
            state: string;
          };
          if (r.state !== 'success' && r.state !== 'failed') return false;
        }
        return true;
      },
      180_000,
      'DAG runs finished',
    );
  }, 600_000);

  afterAll(async () => {
    await poller?.stop();
    await airflow?.stop();
  });

  let token: string | undefined;
  async function api(method: string, path: string, body?: unknown): Promise<unknown> {
    token ??= (
      (await (
        await fetch(`${airflow.url}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: airflow.username, password: airflow.password }),
        })
      ).json()) as { access_token: string }
    ).access_token;
    const res = await fetch(`${airflow.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  const task = (dag: string, taskId: string) => `airflow:task:${dag}/${runs.get(dag)}/${taskId}`;
  const firing = (kind: string, entity?: string) =>
    signals.filter((s) => s.kind === kind && s.status === 'firing' && (!entity || s.entity === entity));

  it('sees every failure within two polls of the runs ending, with entity keys and relations', async () => {
    await poller.pollNow('airflow');
    await poller.pollNow('airflow');

    const failed = firing('airflow.task_failed', task('guardian_always_fails', 'transform_orders'));
    expect(failed, JSON.stringify(signals.map((s) => [s.kind, s.status, s.entity]))).toHaveLength(1);
    const f = failed[0]!;
    expect(f.related).toEqual(
      expect.arrayContaining([
        `airflow:dagrun:guardian_always_fails/${runs.get('guardian_always_fails')}`,
        'airflow:dag:guardian_always_fails',
      ]),
    );
    expect(f.related.some((r) => r.startsWith('host:'))).toBe(true);
    const log = f.evidence.find((e) => e.kind === 'log');
    expect(log && 'lines' in log ? log.lines.join('\n') : '').toContain(
      'RuntimeError: guardian engine test: transform_orders failed',
    );

    expect(
      firing(
        'airflow.dagrun_failed',
        `airflow:dagrun:guardian_always_fails/${runs.get('guardian_always_fails')}`,
      ),
    ).toHaveLength(1);
    expect(firing('airflow.task_failed', task('guardian_cascade', 'build_model'))).toHaveLength(1);
    expect(firing('airflow.task_upstream_failed', task('guardian_cascade', 'export_model'))).toHaveLength(1);
    const imports = firing('airflow.import_error');
    expect(imports.map((s) => s.entity).join()).toContain('guardian_broken.py');
    expect(JSON.stringify(imports[0]!.evidence)).toContain('guardian_module_that_does_not_exist');
  });

  it('records a try that failed and then succeeded as a retry that resolved, not as a failure', () => {
    const entity = task('guardian_retry_recovers', 'load_events');
    const mine = signals.filter((s) => s.entity === entity);
    expect(mine.map((s) => [s.kind, s.status])).toEqual([
      ['airflow.task_retry', 'firing'],
      ['airflow.task_retry', 'resolved'],
    ]);
    expect(firing('airflow.dagrun_failed').map((s) => s.entity)).not.toContain(
      `airflow:dagrun:guardian_retry_recovers/${runs.get('guardian_retry_recovers')}`,
    );
  });

  it('says nothing about a healthy DAG run', () => {
    expect(
      signals.filter(
        (s) => s.entity.includes('guardian_healthy') || s.related.some((r) => r.includes('guardian_healthy')),
      ),
    ).toEqual([]);
    expect(
      observations.some(
        (o) => o.type === 'state' && o.entity === task('guardian_healthy', 'publish') && o.to === 'success',
      ),
    ).toBe(true);
    expect(firing('airflow.component_unhealthy')).toEqual([]);
  });

  it("reports each scheduled DAG's next run, and calls none late while the scheduler keeps up", () => {
    const reported = observations.filter(
      (o): o is StateObservation => o.type === 'state' && o.entity === 'airflow:dag:guardian_scheduled_later',
    );
    expect(reported.length).toBeGreaterThan(0);
    const last = reported.at(-1)!;
    expect(last.to).toBe('scheduled');
    // The scheduler that creates its runs, and the file that defines it (a broken import explains a
    // run that never comes).
    expect(last.related).toEqual([
      'airflow:scheduler',
      expect.stringMatching(/^airflow:import:\/.*\/dags\/guardian_engine_test\.py$/),
    ]);
    expect(last.details.nextRunAfter).toBeGreaterThanOrEqual(Date.parse('2030-01-01T00:00:00Z'));
    expect(last.details.timetable).toEqual(expect.any(String));
    // A DAG without a schedule has no next run to report.
    expect(observations.some((o) => o.type === 'state' && o.entity === 'airflow:dag:guardian_healthy')).toBe(
      false,
    );
    expect(firing('airflow.dag_late')).toEqual([]);
  });

  it('answers in the shapes recorded for the stand-in (RECORD_ENGINES=1 records them anew)', async () => {
    const dag = 'guardian_retry_recovers';
    const run = encodeURIComponent(runs.get(dag)!);
    const answers: Record<string, unknown> = {
      health: await (await fetch(`${airflow.url}/api/v2/monitor/health`)).json(),
      dagRuns: await api('GET', '/api/v2/dags/~/dagRuns?limit=1'),
      taskInstances: await api('GET', '/api/v2/dags/~/dagRuns/~/taskInstances?limit=1'),
      tries: await api('GET', `/api/v2/dags/${dag}/dagRuns/${run}/taskInstances/load_events/tries`),
      logs: await api(
        'GET',
        `/api/v2/dags/${dag}/dagRuns/${run}/taskInstances/load_events/logs/1?full_content=true`,
      ),
      importErrors: await api('GET', '/api/v2/importErrors?limit=1'),
      dags: await api('GET', '/api/v2/dags?dag_id_pattern=guardian_scheduled_later&limit=1'),
    };
    const file = path.join(import.meta.dirname, 'recordings', 'airflow-shapes.json');
    const shapes = Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, shapeOf(v)]));
    if (process.env.RECORD_ENGINES === '1') writeFileSync(file, `${JSON.stringify(shapes, null, 2)}\n`);
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Shape>;
    // The real Airflow still answers as recorded (new fields are fine): the stand-in is checked against this.
    for (const [k, shape] of Object.entries(recorded))
      expect(shapeDifferences(shape, shapes[k]!), k).toEqual([]);
  });

  it('reports source.down when the API goes away, and resumes without losing or repeating anything', async () => {
    // State changes; each poll reports every scheduled DAG's next run again, on purpose.
    const changes = () =>
      observations.filter((o) => o.type === 'state' && !o.entity.startsWith('airflow:dag:')).length;
    const before = changes();
    await airflow.stop();
    await poller.pollNow('airflow');
    expect(firing('source.down', 'source:airflow')).toHaveLength(1);

    // While Airflow is down, a run is started as soon as it is back: it must be seen once.
    await airflow.start();
    await poller.pollNow('airflow');
    expect(signals.filter((s) => s.kind === 'source.down').map((s) => s.status)).toEqual([
      'firing',
      'resolved',
    ]);
    // Nothing already reported is reported again after the outage.
    expect(changes()).toBe(before);
    expect(firing('airflow.task_failed', task('guardian_always_fails', 'transform_orders'))).toHaveLength(1);

    const run = (await api('POST', '/api/v2/dags/guardian_always_fails/dagRuns', { logical_date: null })) as {
      dag_run_id: string;
    };
    await waitFor(
      async () => {
        const r = (await api(
          'GET',
          `/api/v2/dags/guardian_always_fails/dagRuns/${encodeURIComponent(run.dag_run_id)}`,
        )) as {
          state: string;
        };
        return r.state === 'failed';
      },
      120_000,
      'run after restart finished',
    );
    await poller.pollNow('airflow');
    await poller.pollNow('airflow');
    expect(
      firing('airflow.task_failed', `airflow:task:guardian_always_fails/${run.dag_run_id}/transform_orders`),
    ).toHaveLength(1);
  }, 300_000);

  async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}\n${airflow.output().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
});
