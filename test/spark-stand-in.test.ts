import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/index.ts';
import { createSparkSource } from '../src/sources/spark/source.ts';
import { type SparkScenario, startSparkStandIn } from '../src/stand-ins/spark.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { type Shape, shapeDifferences, shapeOf } from './support/shape.ts';

const APP = 'app-20260301000000-0000';
const TAG = 'SparkConnect_SessionTag_User_airflow_Session_5f0c_Tag_';
const scenario: SparkScenario = {
  master: {
    url: 'spark://10.0.0.10:7077',
    workers: [
      {
        id: 'worker-1',
        host: '10.0.3.17',
        cores: 16,
        memory: 65536,
        states: [
          ['2026-03-01T00:00:00Z', 'ALIVE'],
          ['2026-03-02T02:11:05Z', 'DEAD'],
        ],
      },
    ],
  },
  connect: {
    endpoint: 'sc://spark-connect.internal:15002',
    up: [
      ['2026-03-01T00:00:00Z', true],
      ['2026-03-02T02:30:00Z', false],
    ],
  },
  applications: [
    {
      id: APP,
      name: 'Spark Connect server',
      start: '2026-03-01T00:00:00Z',
      end: null,
      jobs: [
        {
          jobId: 1412,
          name: 'Spark Connect - session_id: 5f0c',
          jobGroup: null,
          status: 'FAILED',
          stageIds: [2101, 2102],
          numTasks: 400,
          numFailedTasks: 12,
          submissionTime: '2026-03-02T02:05:00Z',
          completionTime: '2026-03-02T02:11:40Z',
          jobTags: [
            `${TAG}airflow.dag_id=silver_orders`,
            `${TAG}airflow.task_id=transform_orders`,
            `${TAG}airflow.run_id=scheduled__2026-03-02T02:00:00+00:00`,
          ],
        },
      ],
      stages: [
        {
          stageId: 2102,
          attemptId: 0,
          status: 'FAILED',
          submissionTime: '2026-03-02T02:06:00Z',
          completionTime: '2026-03-02T02:11:40Z',
          failureReason:
            'Job aborted due to stage failure: ExecutorLostFailure (executor 37 exited caused by one of the running tasks) Reason: worker lost',
          numTasks: 200,
          numFailedTasks: 12,
        },
      ],
      executors: [
        // the Connect server's driver: where the endpoint is served from
        { id: 'driver', hostPort: '10.0.0.38:38613', addTime: '2026-03-01T00:00:00Z', totalCores: 0 },
        {
          id: '37',
          hostPort: '10.0.3.17:40123',
          addTime: '2026-03-02T01:00:00Z',
          removeTime: '2026-03-02T02:11:06Z',
          removeReason: 'worker lost: 10.0.3.17:7078 got disassociated',
          totalCores: 4,
          maxMemory: 8589934592,
          failedTasks: 12,
        },
      ],
    },
  ],
};

/** The Spark stand-ins serve a scenario as Spark's REST APIs would have at each virtual instant. */
describe('Spark stand-in', () => {
  const clock = new ManualClock(Date.parse('2026-03-02T02:08:00Z'));
  let spark: Awaited<ReturnType<typeof startSparkStandIn>>;
  beforeAll(async () => {
    spark = await startSparkStandIn({ scenario, clock });
  });
  afterAll(() => spark?.close());

  it('answers in the shapes the real Spark 4 answered in (recorded by the engine tests)', async () => {
    await clock.advanceTo(Date.parse('2026-03-02T02:20:00Z'));
    const get = async (u: string) => (await fetch(u)).json();
    const app = `${spark.driverUrl}/api/v1/applications/${APP}`;
    const answers: Record<string, unknown> = {
      master: await get(`${spark.masterUrl}/json/`),
      applications: await get(`${spark.driverUrl}/api/v1/applications`),
      jobs: await get(`${app}/jobs`),
      failedStages: await get(`${app}/stages?status=failed`),
      allexecutors: await get(`${app}/allexecutors`),
    };
    const recorded = JSON.parse(
      readFileSync(path.join(import.meta.dirname, 'engines', 'recordings', 'spark-shapes.json'), 'utf8'),
    ) as Record<string, Shape>;
    for (const [k, shape] of Object.entries(recorded))
      expect(shapeDifferences(shape, shapeOf(answers[k])), k).toEqual([]);
  });

  it('reveals nothing from the future, and Guardian’s Spark source reads it like real Spark', async () => {
    const c = new ManualClock(Date.parse('2026-03-02T02:08:00Z'));
    const s = await startSparkStandIn({ scenario, clock: c });
    try {
      const source = createSparkSource({
        masterUrl: s.masterUrl,
        driverUrl: s.driverUrl,
        connectEndpoint: s.connectEndpoint,
        clock: c,
        logger: silentLogger(),
        timeoutMs: 1000,
      });
      const seen = async () =>
        (await source.poll()).map(
          (o) =>
            `${'entity' in o ? o.entity : ''}=${o.type === 'state' ? o.to : o.type === 'health' ? o.healthy : ''}`,
        );
      expect(await seen()).toEqual([
        'spark:worker:worker-1=ALIVE',
        `spark:connect:${s.connectEndpoint}=true`,
        `spark:job:${APP}/1412=RUNNING`,
        `spark:connect:${s.connectEndpoint}=host:10.0.0.38`,
      ]);
      await c.advanceTo(Date.parse('2026-03-02T02:12:00Z'));
      const later = await source.poll();
      expect(
        later.map(
          (o) =>
            `${'entity' in o ? o.entity : ''}=${o.type === 'state' ? o.to : o.type === 'health' ? o.healthy : ''}`,
        ),
      ).toEqual([
        'spark:worker:worker-1=DEAD',
        `spark:connect:${s.connectEndpoint}=true`,
        `spark:job:${APP}/1412=FAILED`,
        `spark:executor:${APP}/37=removed`,
      ]);
      const job = later[2]!;
      expect(job.type === 'state' && job.related).toContain(
        'airflow:task:silver_orders/scheduled__2026-03-02T02:00:00+00:00/transform_orders',
      );
      expect(job.type === 'state' && job.details.failureReason).toMatch(/ExecutorLostFailure/);
      await c.advanceTo(Date.parse('2026-03-02T02:31:00Z'));
      expect(await seen()).toEqual([`spark:connect:${s.connectEndpoint}=false`]);
    } finally {
      await s.close();
    }
  });
});
