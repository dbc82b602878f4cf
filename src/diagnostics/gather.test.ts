import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Incident, ManualClock } from '../core/index.ts';
import { loadPlaybooks } from '../playbooks/load.ts';
import type { Diagnostic } from '../playbooks/schema.ts';
import { AirflowClient } from '../sources/airflow/client.ts';
import { LokiClient } from '../sources/loki/client.ts';
import { startAirflowStandIn } from '../stand-ins/airflow.ts';
import { startLokiStandIn } from '../stand-ins/loki.ts';
import { startSparkStandIn } from '../stand-ins/spark.ts';
import { silentLogger } from '../telemetry/logger.ts';
import type { DiagnosticTargets } from './collector.ts';
import type { DiagnosticResult } from './diagnostic.ts';
import { createDiagnosticsGatherer } from './gather.ts';

const RUN = 'scheduled__2026-03-04T02:00:00+00:00';
const T0 = Date.parse('2026-03-04T02:10:00Z');
const NOW = T0 + 5 * 60_000;
const APP = 'app-20260304015000-0001';
const HOST = '10.0.4.161';
const SECRET = 'hunter2-s3cr3t-value';

/** A spot loss as the correlator would write it: a task failed, executors lost on the host. */
function incident(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc_diag',
    status: 'open',
    severity: 'high',
    title: `Spark worker ${HOST} lost`,
    openedAt: T0,
    updatedAt: T0 + 60_000,
    resolvedAt: null,
    rootCause: { entity: `host:${HOST}`, kind: 'spot_interruption', confidence: 0.8 },
    entities: [
      `host:${HOST}`,
      `spark:executor:${APP}/3`,
      `spark:stage:${APP}/12`,
      `airflow:task:payments_daily/${RUN}/silver_2`,
    ],
    signals: [
      {
        fingerprint: 'fp_mem',
        kind: 'metric.threshold',
        entity: `metric:system.memory.utilization{host.name="${HOST}",state="used"}`,
        related: [`host:${HOST}`],
        status: 'firing',
        severity: 'high',
        title: 'memory high',
        detector: 'metric-threshold',
        firstSeen: T0,
        lastSeen: T0 + 30_000,
        count: 3,
        evidence: [{ kind: 'value', label: 'value', value: 0.97 }],
      },
    ],
    version: 1,
    impact: {
      dags: ['payments_daily'],
      tasks: [
        {
          entity: `airflow:task:payments_daily/${RUN}/silver_2`,
          dagId: 'payments_daily',
          runId: RUN,
          taskId: 'silver_2',
          state: 'failed',
        },
      ],
      sparkJobs: 1,
    },
    ...over,
  };
}

const playbook = (diagnostics: Diagnostic[]) => {
  const [base] = loadPlaybooks('playbooks').filter((p) => p.id === 'spot-loss');
  return { ...base!, diagnostics };
};

describe('diagnostics gatherer against the Airflow, Spark and Loki stand-ins', () => {
  const clock = new ManualClock(NOW);
  let airflow: Awaited<ReturnType<typeof startAirflowStandIn>>;
  let spark: Awaited<ReturnType<typeof startSparkStandIn>>;
  let loki: Awaited<ReturnType<typeof startLokiStandIn>>;
  let hanging: Server;
  let hangingUrl: string;

  beforeAll(async () => {
    airflow = await startAirflowStandIn({
      clock,
      scenario: {
        task_instances: [
          {
            dag_id: 'payments_daily',
            dag_run_id: RUN,
            task_id: 'silver_2',
            try_number: 1,
            max_tries: 1,
            state: 'up_for_retry',
            queued_when: '2026-03-04T02:00:05Z',
            start_date: '2026-03-04T02:00:06Z',
            end_date: '2026-03-04T02:05:00Z',
            log: ['[2026-03-04T02:04:59.000+0000] {x.py:1} ERROR - first try failed'],
          },
          {
            dag_id: 'payments_daily',
            dag_run_id: RUN,
            task_id: 'silver_2',
            try_number: 2,
            max_tries: 1,
            state: 'failed',
            queued_when: '2026-03-04T02:05:05Z',
            start_date: '2026-03-04T02:05:06Z',
            end_date: '2026-03-04T02:10:20Z',
            log: [
              '[2026-03-04T02:05:06.000+0000] {spark_connect.py:71} INFO - Connecting to Spark Connect',
              `[2026-03-04T02:10:19.000+0000] {hook.py:9} INFO - connecting with password=${SECRET}`,
              '[2026-03-04T02:10:20.000+0000] {taskinstance.py:441} ERROR - ExecutorLostFailure (executor 3 exited): worker lost',
            ],
          },
        ],
        import_errors: [
          {
            filename: '/opt/airflow/dags/broken.py',
            stack_trace:
              'Traceback (most recent call last):\n  File "broken.py", line 3\nModuleNotFoundError: No module named foo',
            timestamp: '2026-03-04T01:00:00Z',
          },
        ],
        health: [
          {
            at: '2026-03-04T02:00:00Z',
            scheduler: 'unhealthy',
            latest_scheduler_heartbeat: '2026-03-04T01:58:00Z',
          },
        ],
      },
    });
    spark = await startSparkStandIn({
      clock,
      scenario: {
        connect: { endpoint: 'sc://spark-connect:15002', up: [['2026-03-04T00:00:00Z', true]] },
        applications: [
          {
            id: APP,
            name: 'Spark Connect server',
            start: '2026-03-04T01:50:00Z',
            end: null,
            stages: [
              {
                stageId: 12,
                attemptId: 0,
                name: 'MERGE INTO silver',
                status: 'FAILED',
                submissionTime: '2026-03-04T02:06:00Z',
                completionTime: '2026-03-04T02:10:15Z',
                failureReason: `Job aborted due to stage failure: ExecutorLostFailure (executor 3 exited caused by one of the running tasks) Reason: worker lost; s3://bucket/x?X-Amz-Credential=AKIAABCDEFGHIJKLMNOP`,
              },
            ],
            executors: [
              { id: '2', hostPort: '10.0.4.20:40001', addTime: '2026-03-04T01:50:10Z' },
              {
                id: '3',
                hostPort: `${HOST}:40002`,
                addTime: '2026-03-04T01:50:10Z',
                removeTime: '2026-03-04T02:10:13Z',
                removeReason: `Worker lost: ${HOST}:7078 got disassociated`,
              },
            ],
          },
        ],
      },
    });
    loki = await startLokiStandIn({
      clock,
      requireTenant: true,
      streams: [
        {
          labels: { host: HOST, service_name: 'spark-worker' },
          entries: [
            [
              BigInt(T0 - 60_000) * 1_000_000n,
              'WARN SpotInterruptionMonitor: spot interruption notice received',
            ],
            [BigInt(T0 - 30_000) * 1_000_000n, 'INFO heartbeat ok'],
            [BigInt(T0 + 10_000) * 1_000_000n, 'WARN Worker: decommissioning after interruption'],
          ],
        },
      ],
    });
    // A Loki that accepts the connection and never answers.
    hanging = createServer(() => {});
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await airflow?.close();
    await spark?.close();
    await loki?.close();
    hanging?.closeAllConnections();
    await new Promise<void>((r) => hanging?.close(() => r()));
  });

  const targets = (over: Partial<DiagnosticTargets> = {}): DiagnosticTargets => ({
    airflow: new AirflowClient({
      baseUrl: airflow.url,
      username: 'guardian',
      password: 'guardian',
      timeoutMs: 1000,
    }),
    spark: { driverUrl: spark.driverUrl, connectEndpoint: spark.connectEndpoint },
    loki: new LokiClient({ baseUrl: loki.url, tenant: 'platform' }),
    ...over,
  });
  const all: Diagnostic[] = [
    { kind: 'airflow_try_log_tail', lines: 100 },
    { kind: 'spark_failed_stage_reason' },
    { kind: 'spark_executor_summary' },
    { kind: 'host_metrics', metrics: ['system.memory.utilization', 'system.cpu.utilization'], window: '30m' },
    { kind: 'loki_query', query: '{host="{{host}}"} |~ "(?i)(spot|interruption|decommission)"', limit: 50 },
    { kind: 'airflow_import_errors' },
    { kind: 'airflow_health' },
    { kind: 'spark_connect_probe' },
  ];
  const byKind = (results: readonly DiagnosticResult[]) =>
    Object.fromEntries(results.map((r) => [r.kind, r]));

  it('gathers every declared kind from the stand-ins, redacted', async () => {
    const gatherer = createDiagnosticsGatherer({
      targets: targets(),
      clock,
      logger: silentLogger(),
      timeoutMs: 2000,
    });
    const gathered = await gatherer.gather(incident(), [playbook(all)]);
    expect(gathered).toMatchObject({ incidentId: 'inc_diag', at: NOW });
    const r = byKind(gathered.results);
    expect(gathered.results.map((x) => x.kind)).toEqual(all.map((d) => d.kind));
    for (const x of gathered.results) expect([x.kind, x.status, x.reason]).toEqual([x.kind, 'ok', undefined]);

    // The failed try (2, not the retried 1), its tail, the password masked.
    expect(r.airflow_try_log_tail!.label).toBe(
      'Airflow log of payments_daily / silver_2, try 2 (failed), last 3 lines',
    );
    expect(r.airflow_try_log_tail!.lines.at(-1)).toContain('ExecutorLostFailure (executor 3 exited)');
    expect(r.airflow_try_log_tail!.lines.join('\n')).not.toContain(SECRET);
    expect(r.airflow_try_log_tail!.lines.join('\n')).toContain('password=[REDACTED]');

    expect(r.spark_failed_stage_reason!.lines[0]).toMatch(
      new RegExp(
        `^${APP} stage 12\\.0 \\(MERGE INTO silver\\): Job aborted due to stage failure: ExecutorLostFailure`,
      ),
    );
    expect(r.spark_failed_stage_reason!.lines.join('\n')).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(r.spark_executor_summary!.lines).toEqual([
      `${APP}: 1 active, 1 removed`,
      `  executor 3 on ${HOST} removed 2026-03-04T02:10:13.000GMT: Worker lost: ${HOST}:7078 got disassociated`,
    ]);
    expect(r.host_metrics!.lines).toEqual([
      `system.memory.utilization on ${HOST}: value 0.97 (firing, 2026-03-04T02:10:00.000Z–02:10:30)`,
    ]);
    expect(r.host_metrics!.label).toContain('no history kept');
    // Newest lines of the incident's window, oldest first; "heartbeat ok" does not match.
    expect(r.loki_query!.label).toContain(`{host="${HOST}"}`);
    expect(r.loki_query!.lines).toEqual([
      '02:09:00.000 WARN SpotInterruptionMonitor: spot interruption notice received',
      '02:10:10.000 WARN Worker: decommissioning after interruption',
    ]);
    expect(r.airflow_import_errors!.lines[0]).toBe('/opt/airflow/dags/broken.py (2026-03-04T01:00:00Z):');
    expect(r.airflow_import_errors!.lines).toContain('  ModuleNotFoundError: No module named foo');
    expect(r.airflow_health!.lines).toContain('scheduler: unhealthy (last heartbeat 2026-03-04T01:58:00Z)');
    expect(r.spark_connect_probe!.lines[0]).toMatch(/^127\.0\.0\.1:\d+ accepts connections \(\d+ ms\)$/);
  });

  it('a failing or silent dependency is an "unavailable" entry, within the timeout, never a throw', async () => {
    const gatherer = createDiagnosticsGatherer({
      targets: targets({
        airflow: new AirflowClient({
          baseUrl: 'http://127.0.0.1:9',
          username: 'g',
          password: SECRET,
          timeoutMs: 300,
        }),
        spark: { driverUrl: 'http://127.0.0.1:9', connectEndpoint: 'sc://127.0.0.1:9' },
        loki: new LokiClient({
          baseUrl: hangingUrl,
          tenant: 'platform',
          auth: { bearer: 'loki-bearer-token-xyz' },
        }),
      }),
      clock,
      logger: silentLogger(),
      timeoutMs: 400,
    });
    const started = performance.now();
    const gathered = await gatherer.gather(incident(), [playbook(all)]);
    expect(performance.now() - started).toBeLessThan(2000);
    const r = byKind(gathered.results);
    expect(r.loki_query).toMatchObject({
      status: 'unavailable',
      lines: [],
      reason: 'no answer within 400 ms',
    });
    expect(r.airflow_try_log_tail).toMatchObject({
      status: 'unavailable',
      reason: expect.stringContaining('cannot connect'),
    });
    expect(r.airflow_health!.status).toBe('unavailable');
    expect(r.spark_failed_stage_reason).toMatchObject({
      status: 'unavailable',
      reason: expect.stringContaining('cannot connect'),
    });
    expect(r.spark_connect_probe).toMatchObject({
      status: 'ok',
      lines: ['127.0.0.1:9 refuses connections (ECONNREFUSED)'],
    });
    // What Guardian holds needs no dependency.
    expect(r.host_metrics!.status).toBe('ok');
    expect(JSON.stringify(gathered)).not.toContain(SECRET);
    expect(JSON.stringify(gathered)).not.toContain('loki-bearer-token-xyz');
  });

  it('says why when a diagnostic cannot apply, and keeps each one within its size cap', async () => {
    const gatherer = createDiagnosticsGatherer({
      targets: { spark: { driverUrl: spark.driverUrl } },
      clock,
      logger: silentLogger(),
      maxChars: 300,
    });
    const bare = incident({
      entities: [],
      rootCause: null,
      impact: { dags: [], tasks: [], sparkJobs: 0 },
      signals: [],
    });
    const r = byKind(
      (
        await gatherer.gather(bare, [
          playbook([...all, { kind: 'airflow_try_log_tail', lines: 100 }]),
          playbook([{ kind: 'spark_executor_summary' }]),
        ])
      ).results,
    );
    expect(r.airflow_try_log_tail).toMatchObject({
      status: 'skipped',
      reason: 'Airflow is not configured (AIRFLOW_URL)',
    });
    expect(r.loki_query!.reason).toBe('Loki is not configured (LOKI_URL)');
    expect(r.host_metrics).toMatchObject({ status: 'skipped', reason: 'the incident names no host' });
    expect(r.spark_connect_probe!.reason).toContain('SPARK_CONNECT_ENDPOINT');
    // No application in the incident: the driver's running ones.
    expect(r.spark_executor_summary!.lines[0]).toBe(`${APP}: 1 active, 1 removed`);

    const noMetrics = await createDiagnosticsGatherer({ targets: {}, clock, logger: silentLogger() }).gather(
      incident({ signals: [] }),
      [playbook([{ kind: 'host_metrics', metrics: ['system.cpu.utilization'], window: '30m' }])],
    );
    // Said, not skipped: the playbook asked for them and Guardian has none.
    expect(noMetrics.results[0]!.status).toBe('unavailable');
    expect(noMetrics.results[0]!.reason).toMatch(
      /^Guardian keeps no metric history .* system\.cpu\.utilization on 10\.0\.4\.161/,
    );

    const long = await createDiagnosticsGatherer({
      targets: targets(),
      clock,
      logger: silentLogger(),
      maxChars: 200,
    }).gather(incident(), [playbook([{ kind: 'airflow_try_log_tail', lines: 100 }])]);
    const lines = long.results[0]!.lines;
    expect(lines.join('\n').length).toBeLessThanOrEqual(260);
    expect(lines[0]).toMatch(/^… \d+ more lines? not shown$/);
    expect(lines.at(-1)).toContain('ExecutorLostFailure');
  });
});
