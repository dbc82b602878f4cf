import { afterAll, beforeAll } from 'vitest';
import { createAirflowTaskFailureDetector } from '../../detectors/airflow-task-failure.ts';
import {
  type Incident,
  ManualClock,
  type Observation,
  type Signal,
  type StateObservation,
} from '../../src/core/index.ts';
import { Correlator } from '../../src/correlation/correlator.ts';
import type { Detector } from '../../src/detection/engine.ts';
import { createDynamoIncidentStore } from '../../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../../src/incidents/embedded-dynamo.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createGuardianMetrics } from '../../src/telemetry/metrics.ts';
import { detectorHarness } from '../support/detector-harness.ts';

/** The run every try of these tests belongs to, and when the night starts. */
export const T0 = Date.parse('2026-03-02T02:00:00Z');
export const RUN = 'scheduled__2026-03-02T02:00:00+00:00';
export const MIN = 60_000;

export const task = (dag: string, t: string) => `airflow:task:${dag}/${RUN}/${t}`;

/** An Airflow try of `dag.taskId` reaching state `to`, `minute` minutes into the night, on worker `host`. */
export function tryState(
  dag: string,
  taskId: string,
  to: string,
  minute: number,
  host: string,
  extra: Record<string, unknown> = {},
): StateObservation {
  return {
    type: 'state',
    entity: task(dag, taskId),
    related: [`airflow:dagrun:${dag}/${RUN}`, `airflow:dag:${dag}`, `host:${host}`],
    from: null,
    to,
    time: T0 + minute * MIN,
    details: { try_number: 1, max_tries: 1, hostname: host, operator: 'SparkConnectSqlOperator', ...extra },
  };
}

/** Successful tries of other DAGs on these workers at `minute`: the differential evidence. */
/**
 * A filesystem series of `host` (with the other attributes `labels` gives it) departing at
 * `minute`, seen a point later, as a detector sees it.
 */
export function diskDeparted(host: string, minute: number, labels: string, fingerprint: string): Signal {
  return {
    fingerprint,
    kind: 'metric.anomaly',
    entity: `metric:system.filesystem.utilization{host.name="${host}",${labels}}`,
    status: 'firing',
    related: [],
    time: T0 + (minute + 1) * MIN,
    severity: 'low',
    title: `system.filesystem.utilization of ${host} pinned at its limit`,
    evidence: [{ kind: 'text', label: 'departed at', text: new Date(T0 + minute * MIN).toISOString() }],
    detector: 'test',
  };
}

export const successes = (minute: number, hosts: string[]) =>
  hosts.map((h, i) => tryState(`healthy_${i}`, 'load', 'success', minute, h));

/**
 * The observations through the real detectors (the task detector unless given), then every signal
 * (with `extra` ones, in time order) through the real correlator writing to a fresh table of the
 * embedded store at `endpoint`: the incidents not merged away.
 */
export async function correlate(
  endpoint: string,
  observations: Observation[],
  options: { detectors?: Detector[]; extra?: Signal[] } = {},
): Promise<Incident[]> {
  const { correlator, clock } = await startCorrelator(endpoint);
  const h = detectorHarness(options.detectors ?? [createAirflowTaskFailureDetector()], T0);
  h.engine.ingest(observations);
  const signals = [...h.signals, ...(options.extra ?? [])].sort((a, b) => a.time - b.time);
  for (const s of signals) {
    await clock.advanceTo(Math.max(clock.now(), s.time));
    await correlator.apply(s);
  }
  return correlator.active().filter((i) => !i.mergedInto);
}

/** The real correlator on a fresh table of the embedded store at `endpoint`, its clock at `start`. */
export async function startCorrelator(
  endpoint: string,
  start = T0,
): Promise<{ correlator: Correlator; clock: ManualClock }> {
  const logger = silentLogger();
  const store = createDynamoIncidentStore({
    endpoint,
    region: 'us-east-1',
    tableName: `corr-${Math.random().toString(36).slice(2)}`,
    createTable: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    logger,
  });
  await store.start();
  const clock = new ManualClock(start);
  return { correlator: new Correlator({ store, clock, logger, metrics: createGuardianMetrics() }), clock };
}

/**
 * The embedded store for the tests of one file: started before them, closed after. Returns its
 * endpoint (known once the tests run).
 */
export function useEmbeddedDynamo(): () => string {
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>> | undefined;
  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ port: 0, logger: silentLogger() });
  });
  afterAll(async () => {
    await dynamo?.close();
  });
  return () => dynamo!.endpoint;
}
