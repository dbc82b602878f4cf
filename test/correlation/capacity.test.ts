import { describe, expect, it, vi } from 'vitest';
import { createSparkDetector } from '../../detectors/spark.ts';
import { ManualClock, type Observation } from '../../src/core/index.ts';
import { CORES_HELD_BY } from '../../src/correlation/capacity.ts';
import { createSparkSource } from '../../src/sources/spark/source.ts';
import { type SparkScenario, startSparkStandIn } from '../../src/stand-ins/spark.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { correlate, MIN, RUN, T0, useEmbeddedDynamo } from './support.ts';

vi.setConfig({ testTimeout: 60_000 });

/*
 * Contention for a capacity, end to end: a notebook application is granted every core of the
 * standalone cluster while the Spark Connect application has released its executors; the
 * Connect jobs of several DAGs wait and are cancelled when their tasks time out. The Spark
 * stand-in serves the scenario as the master and the driver would, the real Spark source polls
 * it, the real Spark detector and correlator (with the embedded store) do the rest.
 */

const endpoint = useEmbeddedDynamo();

const CONNECT = 'app-20260301000000-0001';
const NOTEBOOK = 'app-20260302015930-0043';
const at = (minute: number) => new Date(T0 + minute * MIN).toISOString();
const TAG = (session: string) => `SparkConnect_SessionTag_User_airflow_Session_${session}_Tag_`;

/**
 * A night: jobs of `dags` submitted at 02:00 and cancelled at 02:15 without running a task; the
 * notebook holding both workers' cores from 01:59:30 to 02:22:30 unless `notebook` is false;
 * the Connect application's executors killed by the driver at 01:56, except one if `keepOne`.
 */
function night(dags: string[], options: { notebook?: boolean; keepOne?: boolean } = {}): SparkScenario {
  const notebook = options.notebook ?? true;
  return {
    master: {
      url: 'spark://10.0.1.10:7077',
      workers: ['10.0.4.184', '10.0.4.193'].map((host) => ({
        id: `worker-${host}`,
        host,
        cores: 16,
        memory: 65536,
        states: [['2026-03-01T00:00:00Z', 'ALIVE']] as [string, string][],
      })),
    },
    connect: { endpoint: 'sc://spark-connect.internal:15002', up: [['2026-03-01T00:00:00Z', true]] },
    applications: [
      {
        id: CONNECT,
        name: 'Spark Connect server',
        start: '2026-03-01T00:00:00Z',
        end: null,
        jobs: dags.map((dag, i) => ({
          jobId: 100 + i,
          status: 'FAILED',
          submissionTime: at(0.1 + i * 0.01),
          completionTime: at(15 + i * 0.01),
          stageIds: [200 + i],
          jobTags: [
            `${TAG(`s${i}`)}airflow.dag_id=${dag}`,
            `${TAG(`s${i}`)}airflow.task_id=bronze_${dag}`,
            `${TAG(`s${i}`)}airflow.run_id=${RUN}`,
          ],
          numTasks: 64,
          numFailedTasks: 0,
        })),
        stages: dags.map((_, i) => ({
          stageId: 200 + i,
          attemptId: 0,
          status: 'FAILED',
          submissionTime: at(0.1 + i * 0.01),
          completionTime: at(15 + i * 0.01),
          numTasks: 64,
          numCompleteTasks: 0,
          failureReason: `Job ${100 + i} cancelled part of cancelled job tags SparkConnect_OperationTag_User_airflow_Session_s${i}_Operation_${i}`,
        })),
        executors: [
          { id: 'driver', hostPort: '10.0.1.12:42169', addTime: '2026-03-01T00:00:00Z', totalCores: 0 },
          ...[1, 2].map((n) => ({
            id: String(n),
            hostPort: `10.0.4.184:4000${n}`,
            addTime: '2026-03-01T00:00:10Z',
            totalCores: 4,
            ...(options.keepOne && n === 1
              ? {}
              : { removeTime: at(-4), removeReason: 'Executor killed by driver.' }),
          })),
        ],
      },
      ...(notebook
        ? [
            {
              id: NOTEBOOK,
              name: 'jupyter-jdoe',
              start: at(-0.5),
              end: at(22.5),
              jobs: [],
              stages: [],
              executors: ['10.0.4.184', '10.0.4.193'].map((host, n) => ({
                id: String(n),
                hostPort: `${host}:3786${n}`,
                addTime: at(-0.4),
                totalCores: 16,
              })),
            },
          ]
        : []),
    ],
  };
}

/** The scenario served by the stand-in, polled by the real source at each minute given. */
async function observe(scenario: SparkScenario, minutes: number[]): Promise<Observation[]> {
  const clock = new ManualClock(T0 + minutes[0]! * MIN);
  const spark = await startSparkStandIn({ scenario, clock });
  try {
    const source = createSparkSource({
      masterUrl: spark.masterUrl,
      driverUrl: spark.driverUrl,
      connectEndpoint: spark.connectEndpoint,
      clock,
      logger: silentLogger(),
      timeoutMs: 2000,
    });
    const out: Observation[] = [];
    for (const m of minutes) {
      await clock.advanceTo(T0 + m * MIN);
      out.push(...(await source.poll()));
    }
    return out;
  } finally {
    await spark.close();
  }
}

const spark = { detectors: [createSparkDetector()] };

describe('the Spark stand-in reports the cores each application was granted', () => {
  it('as the master does: its running executors’ cores, none once it ended', async () => {
    const scenario = night(['orders']);
    const clock = new ManualClock(T0 + 10 * MIN);
    const s = await startSparkStandIn({ scenario, clock });
    try {
      const get = async () =>
        (await (await fetch(`${s.masterUrl}/json/`)).json()) as {
          cores: number;
          coresused: number;
          activeapps: { id: string; cores: number }[];
        };
      const during = await get();
      expect(during.cores).toBe(32);
      expect(during.coresused).toBe(32);
      expect(Object.fromEntries(during.activeapps.map((a) => [a.id, a.cores]))).toEqual({
        [CONNECT]: 0,
        [NOTEBOOK]: 32,
      });
      await clock.advanceTo(T0 + 30 * MIN);
      const after = await get();
      expect(after.coresused).toBe(0);
      expect(after.activeapps.map((a) => a.id)).toEqual([CONNECT]);
    } finally {
      await s.close();
    }
  });
});

describe('an application holding the cores that failed jobs waited for', () => {
  it('is the root of the jobs of several DAGs that waited with no executor, as a hypothesis', async () => {
    const dags = ['orders', 'ledger', 'claims'];
    const observations = await observe(night(dags), [0, 10, 15.5]);
    const open = await correlate(endpoint(), observations, spark);
    const jobs = open.filter((i) => i.signals.some((s) => s.kind === 'spark.job_failed'));
    expect(jobs).toHaveLength(1);
    const [incident] = jobs;
    expect(incident!.signals.filter((s) => s.kind === 'spark.job_failed')).toHaveLength(3);
    expect(incident!.rootCause?.entity).toBe(`spark:app:${NOTEBOOK}`);
    expect(incident!.rootCause!.confidence).toBeLessThan(0.8);
    expect(incident!.rootCause!.chain?.filter((l) => l.edge === 'held_what_it_waited_for')).toHaveLength(3);
    // the failure says what it waited on, and since when the notebook held it
    const evidence = incident!.signals[0]!.evidence.find(
      (e) => e.kind === 'text' && e.label === CORES_HELD_BY,
    );
    expect(evidence?.kind === 'text' && evidence.text).toBe(
      `spark:app:${NOTEBOOK} held 32 of 32 cores since ${at(-0.5)}`,
    );
  });

  it('is not named when the failed jobs’ application still had an executor', async () => {
    const observations = await observe(
      night(['orders', 'ledger', 'claims'], { keepOne: true }),
      [0, 10, 15.5],
    );
    const failed = observations.filter((o) => o.type === 'state' && o.to === 'FAILED');
    expect(failed).toHaveLength(3);
    for (const o of failed) expect(o.type === 'state' && o.details.coresHeldBy).toBeUndefined();
    const open = await correlate(endpoint(), observations, spark);
    for (const i of open) expect(i.rootCause?.entity).not.toBe(`spark:app:${NOTEBOOK}`);
  });

  it('is not named when no other application held cores', async () => {
    const observations = await observe(night(['orders', 'ledger'], { notebook: false }), [0, 10, 15.5]);
    const open = await correlate(endpoint(), observations, spark);
    for (const i of open)
      for (const s of i.signals)
        expect(s.evidence.some((e) => e.kind === 'text' && e.label === CORES_HELD_BY)).toBe(false);
  });

  it('explains nothing from the failure of one DAG alone', async () => {
    const observations = await observe(night(['orders']), [0, 10, 15.5]);
    const open = await correlate(endpoint(), observations, spark);
    for (const i of open) expect(i.rootCause?.entity).not.toBe(`spark:app:${NOTEBOOK}`);
  });
});
