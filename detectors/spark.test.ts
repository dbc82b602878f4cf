import { describe, expect, it } from 'vitest';
import type { Observation } from '../src/core/index.ts';
import { airflowTaskOfJob, parseSparkTime } from '../src/sources/spark/source.ts';
import { detectorHarness } from '../test/support/detector-harness.ts';
import { classifyExecutorRemoval, createSparkDetector } from './spark.ts';

const APP = 'app-20260301000000-0000';

describe('executor removal reasons', () => {
  it.each([
    ['worker lost: 10.0.3.17:38363 got disassociated', 'host_lost'],
    ['The executor with id 7 was deleted by a user or the framework.', 'host_lost'],
    ['Executor decommission: spot instance interruption', 'decommission'],
    ['Executor heartbeat timed out after 130023 ms', 'heartbeat_timeout'],
    ['The executor with id 13 exited with exit code 137(SIGKILL, possible container OOM).', 'oom_killed'],
    [
      'Container killed by YARN for exceeding memory limits. 9.1 GB of 9 GB physical memory used.',
      'oom_killed',
    ],
    ['Command exited with code 137', 'oom_killed'],
    ['Command exited with code 52', 'oom_killed'],
    ['The executor with id 4 exited with exit code 52(JVM OOM).', 'oom_killed'],
    ['Container marked as failed: container_01 on host: ip-10-0-1-7. Exit status: 143.', 'other'],
    ['removed by driver', 'killed_by_driver'],
    ['something new', 'other'],
    [undefined, 'other'],
  ] as const)('%s → %s', (reason, cause) => expect(classifyExecutorRemoval(reason)).toBe(cause));
});

describe('Spark REST details', () => {
  it('parses Spark’s GMT-suffixed times and ignores the 1969 "no end" placeholder', () => {
    expect(parseSparkTime('2026-03-02T02:11:05.120GMT')).toBe(Date.parse('2026-03-02T02:11:05.120Z'));
    expect(parseSparkTime('1969-12-31T23:59:59.999GMT')).toBeUndefined();
    expect(parseSparkTime(undefined)).toBeUndefined();
  });

  it('finds the Airflow task in Spark Connect session tags (the user part may be empty)', () => {
    const tags = [
      'SparkConnect_OperationTag_User__Session_be5a_Operation_03e3',
      'SparkConnect_SessionTag_User__Session_be5a_Tag_airflow.dag_id=silver_orders',
      'SparkConnect_SessionTag_User__Session_be5a_Tag_airflow.run_id=scheduled__2026-03-02T02:00:00+00:00',
      'SparkConnect_SessionTag_User_airflow_Session_be5a_Tag_airflow.task_id=transform_orders',
    ];
    expect(airflowTaskOfJob(tags)).toBe(
      'airflow:task:silver_orders/scheduled__2026-03-02T02:00:00+00:00/transform_orders',
    );
    expect(airflowTaskOfJob(tags.slice(0, 2))).toBeUndefined();
    expect(airflowTaskOfJob(undefined)).toBeUndefined();
  });
});

describe('spark detector', () => {
  const t0 = Date.parse('2026-03-02T02:11:05Z');
  const state = (
    entity: string,
    to: string,
    details: Record<string, unknown> = {},
    related: string[] = [],
  ): Observation => ({
    type: 'state',
    entity,
    related,
    from: null,
    to,
    time: t0,
    details,
  });

  it('fires once per failed job, lost executor and dead worker; a routine scale-down says nothing', () => {
    const h = detectorHarness([createSparkDetector()]);
    h.engine.ingest([
      state(`spark:job:${APP}/1412`, 'RUNNING'),
      state(`spark:job:${APP}/1412`, 'FAILED', {
        failureReason: 'Job aborted due to stage failure: ExecutorLostFailure',
      }),
      state(`spark:job:${APP}/1412`, 'FAILED', { failureReason: 'again' }),
      state(
        `spark:executor:${APP}/37`,
        'removed',
        { removeReason: 'worker lost: 10.0.3.17:1 got disassociated', host: '10.0.3.17' },
        ['host:10.0.3.17'],
      ),
      state(`spark:executor:${APP}/38`, 'removed', { removeReason: 'removed by driver', host: '10.0.3.18' }),
      state('spark:worker:worker-1', 'DEAD', { host: '10.0.3.17' }, ['host:10.0.3.17']),
      state('spark:worker:worker-1', 'ALIVE', { host: '10.0.3.17' }, ['host:10.0.3.17']),
    ]);
    expect(h.signals.map((s) => [s.kind, s.status, s.entity])).toEqual([
      ['spark.job_failed', 'firing', `spark:job:${APP}/1412`],
      ['spark.executor_lost', 'firing', `spark:executor:${APP}/37`],
      ['spark.worker_dead', 'firing', 'spark:worker:worker-1'],
      ['spark.worker_dead', 'resolved', 'spark:worker:worker-1'],
    ]);
    expect(h.signals[0]!.evidence).toEqual([
      {
        kind: 'log',
        label: 'failed stage reason',
        lines: ['Job aborted due to stage failure: ExecutorLostFailure'],
      },
    ]);
  });

  it('Spark Connect unreachable, then reachable again', () => {
    const h = detectorHarness([createSparkDetector()]);
    const health = (healthy: boolean): Observation => ({
      type: 'health',
      entity: 'spark:connect:sc://c:15002',
      time: t0,
      healthy,
      reason: 'x',
    });
    h.engine.ingest([health(true), health(false), health(false), health(true)]);
    expect(h.signals.map((s) => [s.kind, s.status, s.severity])).toEqual([
      ['spark.connect_unreachable', 'firing', 'critical'],
      ['spark.connect_unreachable', 'resolved', 'critical'],
    ]);
  });
});
