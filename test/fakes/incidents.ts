import type { Incident, IncidentSignal, Signal } from '../../src/core/index.ts';

export const T0 = Date.parse('2026-03-04T02:10:00Z');

/** A firing signal of a spot-loss incident; `n` varies the fingerprint, entity and time. */
export function incidentSignal(n: number, over: Partial<IncidentSignal> = {}): IncidentSignal {
  return {
    fingerprint: `fp_${n}`,
    kind: 'airflow.task_failed',
    entity: `airflow:task:payments_daily/scheduled__2026-03-04T02:00:00+00:00/silver_${n}`,
    related: ['host:10.0.4.161', 'airflow:dag:payments_daily'],
    status: 'firing',
    severity: 'high',
    title: `Task silver_${n} failed`,
    detector: 'airflow-task-failure',
    firstSeen: T0 + n * 1000,
    lastSeen: T0 + n * 1000,
    count: 1,
    evidence: [
      {
        kind: 'log',
        label: 'try 1 log tail',
        lines: ['ExecutorLostFailure (executor 21 exited caused by one of the running tasks)'],
      },
    ],
    errorClass: 'host_lost',
    ...over,
  };
}

/** A spot-loss incident as the correlator writes it (version 1, never posted). */
export function spotLossIncident(id: string, over: Partial<Incident> = {}): Incident {
  const signals = over.signals ?? [
    incidentSignal(1, {
      kind: 'spark.worker_dead',
      entity: 'spark:worker:worker-1-10.0.4.161-7078',
      title: 'Spark worker DEAD',
    }),
    incidentSignal(2),
  ];
  return {
    id,
    status: 'open',
    severity: 'high',
    title: 'Spark worker 10.0.4.161 lost',
    openedAt: T0,
    updatedAt: T0,
    resolvedAt: null,
    rootCause: {
      entity: 'host:10.0.4.161',
      kind: 'spot_interruption',
      confidence: 0.85,
      title: 'Spark worker 10.0.4.161 lost (spot interruption)',
      evidence: ['worker went DEAD at 02:10:13', '4 executors lost on the host'],
      errorClass: 'spot_interruption',
    },
    entities: [
      'host:10.0.4.161',
      'spark:worker:worker-1-10.0.4.161-7078',
      'airflow:dag:payments_daily',
      ...signals.map((s) => s.entity),
    ].filter((e, i, all) => all.indexOf(e) === i),
    signals,
    version: 1,
    impact: {
      dags: ['payments_daily'],
      tasks: [
        {
          entity: 'airflow:task:payments_daily/scheduled__2026-03-04T02:00:00+00:00/silver_2',
          dagId: 'payments_daily',
          runId: 'scheduled__2026-03-04T02:00:00+00:00',
          taskId: 'silver_2',
          state: 'failed',
        },
      ],
      sparkJobs: 1,
    },
    ...over,
  };
}

/** A firing threshold signal about memory on `host`: one series, one fingerprint per host. */
export function memoryBreach(host: string, time: number): Signal {
  return {
    fingerprint: `fp-${host}`,
    kind: 'metric.threshold',
    entity: `metric:mem{host.name="${host}"}`,
    related: [`host:${host}`],
    status: 'firing',
    time,
    severity: 'high',
    title: `memory on ${host}`,
    evidence: [],
    detector: 'test',
  };
}
