import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock, type Signal } from '../core/index.ts';
import { createDynamoIncidentStore } from '../incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../incidents/embedded-dynamo.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { createGuardianMetrics } from '../telemetry/metrics.ts';
import { Correlator } from './correlator.ts';

vi.setConfig({ testTimeout: 60_000 });

const logger = silentLogger();
const T0 = Date.parse('2026-03-02T02:00:00Z');
const RUN = 'scheduled__2026-03-02T02:00:00+00:00';
const APP = 'app-20260301000000-0000';
let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo({ port: 0, logger });
});
afterAll(async () => {
  await dynamo?.close();
});

async function freshCorrelator(
  maxResolved?: number,
  maxOpen?: number,
): Promise<{
  correlator: Correlator;
  store: IncidentStore;
  clock: ManualClock;
}> {
  const store = createDynamoIncidentStore({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    tableName: `c-${Math.random().toString(36).slice(2)}`,
    createTable: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    logger,
  });
  await store.start();
  const clock = new ManualClock(T0);
  return {
    correlator: new Correlator({
      store,
      clock,
      logger,
      metrics: createGuardianMetrics(),
      ...(maxResolved ? { maxResolved } : {}),
      ...(maxOpen ? { maxOpen } : {}),
    }),
    store,
    clock,
  };
}

let seq = 0;
function sig(over: Partial<Signal> & Pick<Signal, 'kind' | 'entity'>): Signal {
  return {
    fingerprint: `fp-${over.kind}-${over.entity}`,
    status: 'firing',
    related: [],
    time: T0 + seq++,
    severity: 'high',
    title: `${over.kind} ${over.entity}`,
    evidence: [],
    detector: 'test',
    ...over,
  };
}

const task = (dag: string, t: string, run = RUN) => `airflow:task:${dag}/${run}/${t}`;
const dagrun = (dag: string, run = RUN) => `airflow:dagrun:${dag}/${run}`;

/** A spot worker lost on 10.0.3.17: executors, a job, its Airflow task, the worker, in Spark's words. */
function spotLoss(): Signal[] {
  return [
    sig({
      kind: 'spark.executor_lost',
      entity: `spark:executor:${APP}/37`,
      related: [`spark:app:${APP}`, 'host:10.0.3.17'],
      errorClass: 'host_lost',
    }),
    sig({
      kind: 'spark.job_failed',
      entity: `spark:job:${APP}/1412`,
      related: [
        `spark:app:${APP}`,
        task('silver_orders', 'transform'),
        `spark:stage:${APP}/2102`,
        'host:10.0.3.17',
      ],
      errorClass: 'host_lost',
    }),
    sig({
      kind: 'airflow.task_retry',
      entity: task('silver_orders', 'transform'),
      related: [
        dagrun('silver_orders'),
        'airflow:dag:silver_orders',
        'host:airflow-worker-2',
        'host:10.0.3.17',
      ],
      evidence: [{ kind: 'text', label: 'worker', text: 'airflow-worker-2' }],
      errorClass: 'host_lost',
      severity: 'low',
    }),
    sig({
      kind: 'spark.worker_dead',
      entity: 'spark:worker:worker-1-10.0.3.17-7078',
      related: ['host:10.0.3.17', 'spark:master:spark://10.0.0.10:7077'],
      errorClass: 'host_lost',
    }),
  ];
}

/** An unrelated SQL model broken in another DAG, failing on its own Airflow worker. */
function sqlBroken(dag = 'gold_payments', run = RUN): Signal[] {
  return [
    sig({
      kind: 'airflow.task_retry',
      entity: task(dag, 'build', run),
      related: [dagrun(dag, run), `airflow:dag:${dag}`, 'host:airflow-worker-2'],
      evidence: [{ kind: 'text', label: 'worker', text: 'airflow-worker-2' }],
      errorClass: 'sql_analysis_error',
      severity: 'low',
    }),
    sig({
      kind: 'airflow.task_upstream_failed',
      entity: task(dag, 'publish', run),
      related: [dagrun(dag, run), `airflow:dag:${dag}`],
      severity: 'info',
    }),
  ];
}

async function applyAll(c: Correlator, signals: readonly Signal[]) {
  for (const s of signals) await c.apply(s);
}

/** Open (not merged) incidents as sets of signal entities, sorted: what grouping produced. */
function grouping(c: Correlator): string[][] {
  return c
    .active()
    .filter((i) => !i.mergedInto)
    .map((i) => i.signals.map((s) => s.fingerprint).sort())
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

describe('correlator', () => {
  it('keeps at most maxResolved resolved incidents in its working set, never an open one', async () => {
    const { correlator, clock } = await freshCorrelator(2);
    for (let i = 0; i < 5; i++) {
      const entity = `metric:m{id="${i}"}`;
      await correlator.apply(sig({ kind: 'metric.threshold', entity }));
      await clock.advanceBy(1000);
      await correlator.apply(
        sig({ kind: 'metric.threshold', entity, status: 'resolved', time: clock.now() }),
      );
    }
    await correlator.apply(sig({ kind: 'metric.threshold', entity: 'metric:m{id="open"}' }));
    expect(correlator.size()).toBe(6);
    await clock.advanceBy(61_000); // the working set is pruned at most once a minute
    await correlator.apply(sig({ kind: 'metric.threshold', entity: 'metric:m{id="open2"}' }));
    // Two resolved (the latest) and the two open ones.
    expect(correlator.size()).toBe(4);
  });

  it('holds at most maxOpen open incidents: past it a new signal joins the newest of its kind', async () => {
    const { correlator } = await freshCorrelator(undefined, 3);
    const opened = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const { incident, change } = await correlator.apply(
        sig({ kind: 'metric.threshold', entity: `metric:m{id="${i}"}` }),
      );
      expect(change).toBe('opened');
      opened.add(incident!.id);
    }
    const kinds = ['metric.threshold', 'metric.threshold', 'spark.executor_lost'];
    const joined: string[] = [];
    for (const [i, kind] of kinds.entries()) {
      const { incident, change } = await correlator.apply(sig({ kind, entity: `host:h${i}` }));
      expect(change).not.toBe('opened');
      joined.push(incident!.id);
    }
    expect(correlator.active().filter((x) => x.status !== 'resolved')).toHaveLength(3);
    // The metric signals went to the newest metric incident; the executor loss (no incident of its
    // kind) to the newest open one, which is that same incident.
    expect(new Set(joined).size).toBe(1);
    expect(opened.has(joined[0]!)).toBe(true);
    const held = correlator.active().find((x) => x.id === joined[0])!;
    expect(held.signals.map((x) => x.entity)).toEqual(
      expect.arrayContaining(['host:h0', 'host:h1', 'host:h2']),
    );
  });

  it('loads its working set again after a failed first load, instead of failing every signal', async () => {
    const { correlator, store } = await freshCorrelator();
    const list = store.list.bind(store);
    let failures = 1;
    store.list = async (query) => {
      if (failures-- > 0)
        throw new Error('ThrottlingException: rate of requests exceeds the allowed throughput');
      return list(query);
    };
    const first = sig({ kind: 'spark.executor_lost', entity: 'host:10.0.9.1' });
    await expect(correlator.apply(first)).rejects.toThrow(/Throttling/);
    const { incident, change } = await correlator.apply(first);
    expect(change).toBe('opened');
    expect(incident?.signals.map((x) => x.fingerprint)).toEqual([first.fingerprint]);
  });

  it('makes a spot worker loss ONE incident, rooted at the host, whatever reported first', async () => {
    const { correlator } = await freshCorrelator();
    await applyAll(correlator, spotLoss());
    const [incident, ...rest] = correlator.active();
    expect(rest).toEqual([]);
    expect(incident!.rootCause).toMatchObject({ entity: 'host:10.0.3.17', kind: 'host_lost' });
    expect(incident!.rootCause!.confidence).toBeGreaterThan(0.7);
    expect(incident!.quiet).toBe(false);
    expect(incident!.impact).toMatchObject({ dags: ['silver_orders'], sparkJobs: 1 });
    expect(incident!.impact!.tasks).toEqual([
      expect.objectContaining({ taskId: 'transform', state: 'retrying' }),
    ]);
    expect(incident!.title).toMatch(/10\.0\.3\.17.*1 Spark job and 1 Airflow task in 1 DAG failed/);
  });

  it('keeps two unrelated failures at the same time as two incidents', async () => {
    const { correlator } = await freshCorrelator();
    await applyAll(correlator, [...spotLoss(), ...sqlBroken()]);
    const incidents = correlator.active().filter((i) => !i.mergedInto);
    expect(incidents).toHaveLength(2);
    const sql = incidents.find((i) => i.rootCause?.kind === 'sql_error')!;
    expect(sql.rootCause!.entity).toBe(task('gold_payments', 'build'));
    // a SQL error does not go away by retrying: it pages at the first failed try
    expect(sql.quiet).toBe(false);
    // the downstream task joined it as impact
    expect(sql.impact!.tasks.map((t) => t.state).sort()).toEqual(['retrying', 'upstream_failed']);
  });

  it('groups a burst of failures with a shared error class (a Spark Connect outage) and revises the root cause when the endpoint is seen down', async () => {
    const { correlator } = await freshCorrelator();
    const endpoint = 'spark:connect:sc://spark-connect:15002';
    const failures = ['orders', 'customers', 'payments', 'refunds'].map((dag) =>
      sig({
        kind: 'airflow.task_retry',
        entity: task(dag, 'silver'),
        related: [dagrun(dag), `airflow:dag:${dag}`],
        errorClass: 'connect_unavailable',
        severity: 'low',
      }),
    );
    await applyAll(correlator, failures);
    expect(grouping(correlator)).toHaveLength(1);
    const [before] = correlator.active();
    // Retries only, but of four DAGs with one error class: strong enough to page already.
    expect(before!.quiet).toBe(false);
    await correlator.apply(
      sig({
        kind: 'spark.connect_unreachable',
        entity: endpoint,
        severity: 'critical',
        errorClass: 'connect_unavailable',
      }),
    );
    const [after, ...none] = correlator.active().filter((i) => !i.mergedInto);
    expect(none).toEqual([]);
    expect(after!.rootCause).toMatchObject({ entity: endpoint, kind: 'connect_unavailable' });
    expect(after!.quiet).toBe(false);
    expect(after!.impact!.dags).toEqual(['customers', 'orders', 'payments', 'refunds']);
  });

  it('records a try that failed and then succeeded without paging, and resolves it', async () => {
    const { correlator } = await freshCorrelator();
    const retry = sig({
      kind: 'airflow.task_retry',
      entity: task('ops', 'poll'),
      related: [dagrun('ops')],
      errorClass: 'network_timeout',
      severity: 'low',
    });
    await correlator.apply(retry);
    const result = await correlator.apply({ ...retry, status: 'resolved', time: retry.time + 60_000 });
    expect(result.change).toBe('resolved');
    expect(result.incident).toMatchObject({ quiet: true, status: 'resolved' });
    expect(result.incident!.impact!.tasks[0]!.state).toBe('recovered');
  });

  it('keeps a task that fails run after run as one incident, reopening it when it recurs', async () => {
    const { correlator, clock } = await freshCorrelator();
    const first = sqlBroken('ops_worker', 'scheduled__2026-03-02T02:00:00+00:00')[0]!;
    await correlator.apply(first);
    await clock.advanceTo(T0 + 5 * 60_000);
    await correlator.apply({ ...first, status: 'resolved', time: T0 + 5 * 60_000 }); // someone fixed it… briefly
    expect(correlator.active()[0]!.status).toBe('resolved');
    await clock.advanceTo(T0 + 15 * 60_000);
    const second = sqlBroken('ops_worker', 'scheduled__2026-03-02T02:15:00+00:00')[0]!;
    const r = await correlator.apply({ ...second, time: T0 + 15 * 60_000 });
    expect(r.change).toBe('reopened');
    expect(grouping(correlator)).toHaveLength(1);
    expect(r.incident!.status).toBe('open');
  });

  it('makes DAGs whose runs are not created one incident, rooted at the scheduler when it is unhealthy', async () => {
    const { correlator } = await freshCorrelator();
    const late = (dag: string) =>
      sig({ kind: 'airflow.dag_late', entity: `airflow:dag:${dag}`, related: ['airflow:scheduler'] });
    await applyAll(correlator, [late('silver_orders'), late('silver_payments'), late('gold_customers')]);
    expect(grouping(correlator)).toHaveLength(1);
    // Alone, the earliest late DAG is the probable cause; the scheduler, once it shows, is upstream.
    expect(correlator.active()[0]!.rootCause).toMatchObject({
      entity: 'airflow:dag:silver_orders',
      kind: 'dag_late',
    });
    await applyAll(correlator, [
      sig({ kind: 'airflow.component_unhealthy', entity: 'airflow:scheduler', severity: 'critical' }),
    ]);
    expect(grouping(correlator)).toHaveLength(1);
    expect(correlator.active()[0]!.rootCause).toMatchObject({
      entity: 'airflow:scheduler',
      kind: 'airflow.component_unhealthy',
    });
  });

  it('joins deferred tries that time out long after the triggerer went unhealthy to it, and nothing else', async () => {
    const { correlator, clock } = await freshCorrelator();
    await applyAll(correlator, [
      sig({ kind: 'airflow.component_unhealthy', entity: 'airflow:triggerer', time: T0 }),
    ]);
    // 40 min later, past the link window: the sensors' deferrals time out one by one
    await clock.advanceTo(T0 + 40 * 60_000);
    const timedOut = (dag: string, worker: string) =>
      sig({
        kind: 'airflow.task_failed',
        entity: task(dag, 'wait_for_drop'),
        related: [dagrun(dag), `airflow:dag:${dag}`, `host:${worker}`],
        names: ['airflow:triggerer'],
        time: clock.now(),
      });
    await applyAll(correlator, [timedOut('import_orders', 'w1'), timedOut('import_leads', 'w2')]);
    await applyAll(correlator, [
      sig({
        kind: 'airflow.task_failed',
        entity: task('gold_payments', 'build'),
        related: [dagrun('gold_payments'), 'airflow:dag:gold_payments'],
        errorClass: 'sql_analysis_error',
        time: clock.now(),
      }),
    ]);
    const groups = grouping(correlator);
    expect(groups).toHaveLength(2);
    const triggerer = correlator.active().find((i) => i.rootCause?.entity === 'airflow:triggerer');
    expect(triggerer?.signals.map((s) => s.entity).sort()).toEqual([
      task('import_leads', 'wait_for_drop'),
      task('import_orders', 'wait_for_drop'),
      'airflow:triggerer',
    ]);
  });

  it('roots series of many hosts stopping together at their collector refusing data, and keeps each silence in it', async () => {
    const { correlator } = await freshCorrelator();
    const refused =
      'metric:otelcol_processor_refused_metric_points{host.name="gw-0",processor="memory_limiter",service.name="otel-collector"}';
    const cpu = (host: string) => `metric:system.cpu.utilization{host.name="${host}",service.name="worker"}`;
    const silence = (host: string, time: number) =>
      sig({ kind: 'metric.silent', entity: cpu(host), related: [`host:${host}`], severity: 'low', time });
    await applyAll(correlator, [
      sig({
        kind: 'metric.anomaly',
        entity: refused,
        related: ['host:gw-0'],
        severity: 'low',
        time: T0,
        evidence: [{ kind: 'text', label: 'departed at', text: new Date(T0 - 60_000).toISOString() }],
      }),
      sig({
        kind: 'telemetry.silent',
        entity: 'telemetry:metrics:missing',
        related: ['w1', 'w2', 'w3'].map(cpu),
        names: ['telemetry:metrics'],
        time: T0 + 120_000,
        evidence: [{ kind: 'text', label: 'departed at', text: new Date(T0 - 60_000).toISOString() }],
      }),
      silence('w1', T0 + 240_000),
      silence('w2', T0 + 240_000),
      // a host's silence elsewhere, not among the series that stopped together
      silence('db-1', T0 + 240_000),
    ]);
    expect(grouping(correlator)).toHaveLength(2);
    const incident = correlator.active().find((i) => i.signals.some((s) => s.kind === 'telemetry.silent'))!;
    expect(incident.rootCause?.entity).toBe(refused);
    expect(incident.quiet).toBe(false);
    expect(incident.signals.map((s) => s.entity)).toEqual([
      refused,
      'telemetry:metrics:missing',
      cpu('w1'),
      cpu('w2'),
    ]);
  });

  it('joins DAGs no longer planned to the DAG processor failing to parse their file, which they wait on', async () => {
    const { correlator, clock } = await freshCorrelator();
    const stream = 'log:{host="dp-1",level="error",service_name="airflow-dag-processor"}';
    const killing = (time: number) =>
      sig({ kind: 'log.new_template', entity: stream, related: ['host:dp-1'], severity: 'low', time });
    await applyAll(correlator, [killing(T0)]);
    await clock.advanceTo(T0 + 20 * 60_000);
    await applyAll(correlator, [killing(T0 + 20 * 60_000)]);
    await clock.advanceTo(T0 + 30 * 60_000);
    const unplanned = (dag: string) =>
      sig({
        kind: 'airflow.dag_late',
        entity: 'airflow:import:/opt/airflow/dags/factories/exports.py',
        fingerprint: `late-${dag}`,
        related: [`airflow:dag:${dag}`, 'airflow:dag_processor'],
        time: T0 + 30 * 60_000,
      });
    await applyAll(correlator, [unplanned('exports_a'), unplanned('exports_b')]);
    expect(grouping(correlator)).toHaveLength(1);
  });

  it('keeps a late DAG apart from failures elsewhere that share only the scheduler', async () => {
    const { correlator } = await freshCorrelator();
    await applyAll(correlator, [
      sig({ kind: 'airflow.dag_late', entity: 'airflow:dag:silver_orders', related: ['airflow:scheduler'] }),
      sig({
        kind: 'airflow.task_failed',
        entity: task('gold_payments', 'build'),
        related: [dagrun('gold_payments'), 'airflow:dag:gold_payments', 'airflow:scheduler'],
        errorClass: 'sql_analysis_error',
      }),
    ]);
    expect(grouping(correlator)).toHaveLength(2);
  });

  it('makes a storm of hundreds of signals from one cause one incident', async () => {
    const { correlator } = await freshCorrelator();
    const storm = Array.from({ length: 150 }, (_, i) =>
      sig({
        kind: 'airflow.task_failed',
        entity: task(`dag_${i}`, 'silver'),
        related: [dagrun(`dag_${i}`), 'spark:connect:sc://spark-connect:15002'],
        errorClass: 'connect_unavailable',
      }),
    );
    await applyAll(correlator, storm);
    expect(grouping(correlator)).toHaveLength(1);
    expect(correlator.active()[0]!.impact!.dags).toHaveLength(150);
  });

  it('resolves an incident of events only once nothing new came for the settle window, and keeps one with a failing condition open', async () => {
    const { correlator, store, clock } = await freshCorrelator();
    const lost = sig({
      kind: 'spark.executor_lost',
      entity: 'spark:executor:app-1/7',
      related: ['host:10.0.9.9'],
      errorClass: 'host_lost',
      time: T0,
    });
    const failing = sig({
      kind: 'airflow.task_failed',
      entity: task('gold', 'load'),
      errorClass: 'sql_analysis_error',
      time: T0,
    });
    await applyAll(correlator, [lost, failing]);
    expect(grouping(correlator)).toHaveLength(2);

    await clock.advanceTo(T0 + 29 * 60_000);
    expect(await correlator.sweep()).toEqual([]);
    await clock.advanceTo(T0 + 31 * 60_000);
    const settled = await correlator.sweep();
    expect(settled.map((r) => [r.change, r.incident?.signals[0]?.entity])).toEqual([
      ['resolved', 'spark:executor:app-1/7'],
    ]);
    const stored = await store.get(settled[0]!.incident!.id);
    expect(stored).toMatchObject({ status: 'resolved', resolvedAt: T0 + 31 * 60_000 });
    const timeline = await store.timeline(stored!.id);
    expect(timeline.at(-1)).toMatchObject({
      type: 'resolved',
      text: expect.stringContaining('nothing new for 30 min'),
    });
    // The task still failing holds its incident open; a second sweep changes nothing.
    expect(await correlator.sweep()).toEqual([]);
    expect(correlator.active().find((i) => i.signals[0]!.kind === 'airflow.task_failed')!.status).toBe(
      'open',
    );
  });

  it('sees what another replica wrote once invalidated (a new leader reloads its working set)', async () => {
    const { correlator: a, store, clock } = await freshCorrelator();
    const b = new Correlator({ store, clock, logger, metrics: createGuardianMetrics() });
    const [first, ...rest] = spotLoss();
    await b.apply(
      sig({ kind: 'airflow.task_failed', entity: task('other', 'x'), errorClass: 'sql_analysis_error' }),
    );
    await a.apply(first!);
    // b's working set predates a's incident; after invalidating, b joins the spot loss to it.
    await b.invalidate();
    await applyAll(b, rest);
    const open = b.active().filter((i) => !i.mergedInto && i.rootCause?.entity === 'host:10.0.3.17');
    expect(open).toHaveLength(1);
    expect(open[0]!.signals.map((s) => s.fingerprint)).toContain(first!.fingerprint);
  });

  it('joins a symptom naming a host to the incident that observed the host lost, not to one that only inferred it', async () => {
    const { correlator } = await freshCorrelator();
    const worker = spotLoss()[3]!;
    await correlator.apply(worker);
    const silent = sig({
      kind: 'metric.silent',
      entity: 'metric:system.cpu.utilization{host.name="10.0.3.17"}',
      related: ['host:10.0.3.17'],
      severity: 'low',
      time: worker.time + 5 * 60_000,
    });
    await correlator.apply(silent);
    expect(grouping(correlator)).toEqual([[silent.fingerprint, worker.fingerprint].sort()]);

    // A task whose error text only points at an endpoint does not make it known down.
    const other = await freshCorrelator();
    const inferred = sig({
      kind: 'airflow.task_failed',
      entity: task('gold', 'load'),
      related: ['spark:connect:sc://connect:15002'],
      errorClass: 'connect_unavailable',
    });
    const timeout = sig({
      kind: 'airflow.task_retry',
      entity: task('ops', 'poll'),
      related: ['spark:connect:sc://connect:15002'],
      errorClass: 'network_timeout',
      severity: 'low',
    });
    await applyAll(other.correlator, [inferred, timeout]);
    expect(grouping(other.correlator)).toHaveLength(2);
  });

  it('roots tasks killed on one Airflow worker at that worker, and keeps a SQL error on the same worker apart', async () => {
    const { correlator } = await freshCorrelator();
    const onWorker = (dag: string, errorClass: string) =>
      sig({
        kind: 'airflow.task_failed',
        entity: task(dag, 'load'),
        related: [dagrun(dag), `airflow:dag:${dag}`, 'host:airflow-worker-3'],
        evidence: [{ kind: 'text', label: 'worker', text: 'airflow-worker-3' }],
        errorClass,
      });
    await applyAll(correlator, [
      onWorker('orders', 'airflow_task_killed'),
      onWorker('payments', 'sql_analysis_error'),
      onWorker('customers', 'airflow_task_killed'),
      onWorker('inventory', 'airflow_task_killed'),
    ]);
    const open = correlator.active().filter((i) => !i.mergedInto);
    expect(open).toHaveLength(2);
    const killed = open.find((i) => i.signals.length === 3)!;
    expect(killed.rootCause).toMatchObject({ entity: 'host:airflow-worker-3', kind: 'worker_lost' });
    expect(killed.impact!.dags).toEqual(['customers', 'inventory', 'orders']);
    expect(open.find((i) => i.signals.length === 1)!.rootCause?.kind).toBe('sql_error');
  });

  it('makes an executor its tasks ran out of memory ONE incident with its job and the driver log, rooted at the job, whatever reported first', async () => {
    const executorOom = (): Signal[] => [
      sig({
        kind: 'log.signature',
        entity: 'log:{host="10.0.1.12",level="warn",service_name="spark-driver"}',
        related: ['host:10.0.4.57'],
        errorClass: 'executor_oom',
        severity: 'high',
      }),
      sig({
        kind: 'spark.executor_lost',
        entity: `spark:executor:${APP}/2`,
        related: [`spark:app:${APP}`, 'host:10.0.4.57'],
        errorClass: 'executor_oom',
      }),
      sig({
        kind: 'spark.job_failed',
        entity: `spark:job:${APP}/7377`,
        related: [
          `spark:app:${APP}`,
          task('orders_daily', 'silver_orders'),
          `spark:executor:${APP}/2`,
          'host:10.0.4.57',
        ],
        errorClass: 'executor_oom',
      }),
      // The same failure elsewhere, at the same time: another incident.
      sig({
        kind: 'spark.executor_lost',
        entity: `spark:executor:${APP}/9`,
        related: [`spark:app:${APP}`, 'host:10.0.4.99'],
        errorClass: 'executor_oom',
      }),
    ];
    for (const order of [
      [0, 1, 2, 3],
      [2, 3, 1, 0],
      [1, 0, 3, 2],
    ]) {
      const { correlator } = await freshCorrelator();
      const signals = executorOom();
      await applyAll(
        correlator,
        order.map((i) => signals[i]!),
      );
      const open = correlator.active().filter((i) => !i.mergedInto);
      expect(open).toHaveLength(2);
      const oom = open.find((i) => i.signals.length === 3)!;
      expect(oom.rootCause).toMatchObject({ entity: `spark:job:${APP}/7377`, kind: 'executor_oom' });
      expect(open.find((i) => i.signals.length === 1)!.rootCause).toMatchObject({
        entity: `spark:executor:${APP}/9`,
        kind: 'executor_oom',
      });
    }
  });

  it('holds a spot notice and the symptoms before the loss quietly, then pages ONE spot interruption when the worker goes', async () => {
    // WARN lines about 10.0.3.17, logged by the worker itself and by the driver, minutes before.
    const warn = (emitter: string, service: string, errorClass: string, minutes: number) =>
      sig({
        kind: 'log.signature',
        entity: `log:{host="${emitter}",level="warn",service_name="${service}"}`,
        related: ['host:10.0.3.17'],
        errorClass,
        time: T0 - minutes * 60_000,
      });
    const notice = warn('10.0.3.17', 'spark-worker', 'spot_interruption', 2);
    const timeout = warn('10.0.0.10', 'spark-driver', 'network_timeout', 3);
    const { correlator } = await freshCorrelator();
    await applyAll(correlator, [timeout, notice]);
    // Before the loss: nothing pages (a notice announces a loss, it is not one).
    expect(correlator.active().every((i) => i.quiet)).toBe(true);
    await applyAll(correlator, spotLoss());
    const open = correlator.active().filter((i) => !i.mergedInto);
    expect(open).toHaveLength(1);
    expect(open[0]!.quiet).toBe(false);
    expect(open[0]!.rootCause).toMatchObject({ entity: 'host:10.0.3.17', kind: 'spot_interruption' });
    expect(open[0]!.signals.map((s) => s.fingerprint)).toEqual(
      expect.arrayContaining([notice.fingerprint, timeout.fingerprint]),
    );
  });

  it('joins the silence of an Airflow worker host to the tasks it killed, whichever came first, and not another host', async () => {
    const killed = (dag: string, time: number) =>
      sig({
        kind: 'airflow.task_failed',
        entity: task(dag, 'load'),
        related: [dagrun(dag), `airflow:dag:${dag}`, 'host:airflow-worker-3'],
        evidence: [{ kind: 'text', label: 'worker', text: 'airflow-worker-3' }],
        errorClass: 'airflow_task_killed',
        time,
      });
    const silent = (host: string, time: number) =>
      sig({
        kind: 'metric.silent',
        entity: `metric:system.cpu.utilization{host.name="${host}"}`,
        related: [`host:${host}`],
        severity: 'low',
        time,
      });
    const before = await freshCorrelator();
    await applyAll(before.correlator, [
      silent('airflow-worker-3', T0),
      silent('airflow-worker-1', T0 + 1),
      killed('orders', T0 + 60_000),
      killed('payments', T0 + 70_000),
    ]);
    const after = await freshCorrelator();
    await applyAll(after.correlator, [
      killed('orders', T0),
      killed('payments', T0 + 10_000),
      silent('airflow-worker-3', T0 + 5 * 60_000),
      silent('airflow-worker-1', T0 + 5 * 60_000 + 1),
    ]);
    for (const c of [before.correlator, after.correlator]) {
      const open = c.active().filter((i) => !i.mergedInto);
      expect(open).toHaveLength(2);
      const lost = open.find((i) => i.signals.length === 3)!;
      expect(lost.rootCause).toMatchObject({ entity: 'host:airflow-worker-3', kind: 'worker_lost' });
      expect(lost.signals.map((s) => s.entity)).toContain(
        'metric:system.cpu.utilization{host.name="airflow-worker-3"}',
      );
    }
  });

  it('does not join a task to an outage that had already ended when it failed', async () => {
    const { correlator } = await freshCorrelator();
    const endpoint = 'spark:connect:sc://spark-connect:15002';
    const down = sig({
      kind: 'spark.connect_unreachable',
      entity: endpoint,
      severity: 'critical',
      errorClass: 'connect_unavailable',
    });
    await correlator.apply(down);
    await correlator.apply({ ...down, status: 'resolved', time: down.time + 60_000 });
    // a timeout of a task that used the endpoint, after it came back: weak link, outage over
    await correlator.apply(
      sig({
        kind: 'airflow.task_failed',
        entity: task('late', 'silver'),
        related: [dagrun('late'), endpoint],
        errorClass: 'task_timeout',
        time: down.time + 10 * 60_000,
      }),
    );
    expect(grouping(correlator)).toHaveLength(2);
  });

  it('groups signals of one poll the same way whatever order they arrive in (property)', async () => {
    const signals = [...spotLoss(), ...sqlBroken()];
    const expected = await (async () => {
      const { correlator } = await freshCorrelator();
      await applyAll(correlator, signals);
      return grouping(correlator);
    })();
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(signals, { minLength: signals.length }), async (order) => {
        const { correlator } = await freshCorrelator();
        await applyAll(correlator, order);
        expect(grouping(correlator)).toEqual(expected);
      }),
      { numRuns: 12 },
    );
  });
});
