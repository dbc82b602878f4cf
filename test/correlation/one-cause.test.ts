import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Signal, StateObservation } from '../../src/core/index.ts';
import { startEmbeddedDynamo } from '../../src/incidents/embedded-dynamo.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { correlate as correlateOn, MIN, successes, T0, task, tryState } from './support.ts';

vi.setConfig({ testTimeout: 60_000 });

/*
 * One incident per cause, end to end: Airflow tries as the source reports them → the real task
 * detector → the real correlator writing to the real store. Failures of several DAGs that share
 * only when and how they failed are one incident; independent failures are not; and two incidents
 * that come to name one root cause become one.
 */

let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo({ port: 0, logger: silentLogger() });
});
afterAll(async () => {
  await dynamo?.close();
});

function traceback(last: string): string {
  return `[2026-03-02T02:05:00.000+0000] {task_runner.py:1084} ERROR - Task failed with exception\nTraceback (most recent call last):\n  File "/opt/airflow/plugins/lakehouse/operators/export.py", line 40, in execute\n    import pandas\n${last}`;
}

const ABI =
  'ValueError: numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, got 88 from PyObject';

const correlate = (observations: StateObservation[], extra: Signal[] = []) =>
  correlateOn(dynamo.endpoint, observations, { extra });

describe('when and how: failures of several DAGs that fail one way at about the same time', () => {
  it('are one incident though they name nothing in common and ran on different workers', async () => {
    const open = await correlate([
      ...successes(1, ['airflow-worker-1', 'airflow-worker-2', 'airflow-worker-3']),
      tryState('sessions_export', 'build', 'up_for_retry', 5, 'airflow-worker-3', { log: [traceback(ABI)] }),
      tryState('tickets_export', 'build', 'up_for_retry', 6, 'airflow-worker-1', { log: [traceback(ABI)] }),
      tryState('leads_export', 'build', 'up_for_retry', 14, 'airflow-worker-2', { log: [traceback(ABI)] }),
    ]);
    expect(open).toHaveLength(1);
    expect(open[0]!.signals.map((s) => s.entity).sort()).toEqual(
      [
        task('leads_export', 'build'),
        task('sessions_export', 'build'),
        task('tickets_export', 'build'),
      ].sort(),
    );
  });

  it('pages retries of several DAGs failing one way the library has no class for, before any fails for good', async () => {
    const open = await correlate([
      tryState('sessions_export', 'build', 'up_for_retry', 5, 'airflow-worker-3', { log: [traceback(ABI)] }),
      tryState('tickets_export', 'build', 'up_for_retry', 6, 'airflow-worker-1', { log: [traceback(ABI)] }),
    ]);
    expect(open).toHaveLength(1);
    expect(open[0]!.quiet).toBe(false);
  });

  it('takes a class unrelated jobs also meet now and then (a timeout) for no common cause: apart, quiet', async () => {
    const timedOut = traceback('java.net.SocketTimeoutException: Read timed out');
    const open = await correlate([
      tryState('referrals', 'silver', 'up_for_retry', 5, 'airflow-worker-3', { log: [timedOut] }),
      tryState('churn', 'gold', 'up_for_retry', 9, 'airflow-worker-1', { log: [timedOut] }),
    ]);
    expect(open).toHaveLength(2);
    for (const i of open) {
      expect(i.signals[0]!.errorClass).toBe('network_timeout');
      expect(i.quiet).toBe(true);
    }
  });

  it('keeps failures that fail different ways apart', async () => {
    const open = await correlate([
      tryState('scrape_fx', 'fetch', 'up_for_retry', 5, 'airflow-worker-2', {
        log: [
          traceback(
            'requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://fx.example.org/api',
          ),
        ],
      }),
      tryState('ops', 'refresh', 'up_for_retry', 6, 'airflow-worker-1', {
        log: [traceback('java.net.SocketTimeoutException: connect timed out')],
      }),
    ]);
    expect(open).toHaveLength(2);
  });

  it('keeps failures one way apart when they did not begin within the burst window', async () => {
    const open = await correlate([
      tryState('sessions_export', 'build', 'up_for_retry', 5, 'airflow-worker-3', { log: [traceback(ABI)] }),
      tryState('tickets_export', 'build', 'up_for_retry', 5 + 16, 'airflow-worker-1', {
        log: [traceback(ABI)],
      }),
    ]);
    expect(open).toHaveLength(2);
  });

  it('takes failures whose text tells nothing for no common way', async () => {
    const open = await correlate([
      tryState('orders', 'dq', 'up_for_retry', 5, 'airflow-worker-1'),
      tryState('claims', 'dq', 'up_for_retry', 6, 'airflow-worker-2'),
    ]);
    expect(open).toHaveLength(2);
  });

  it('takes tries that failed before any worker ran them (no worker, no log) for one way', async () => {
    const notSent = (dag: string, minute: number): StateObservation => {
      const o = tryState(dag, 'dq', 'up_for_retry', minute, '');
      return { ...o, related: o.related.filter((r) => r !== 'host:') };
    };
    const open = await correlate([notSent('orders', 5), notSent('claims', 6), notSent('devices', 8)]);
    expect(open).toHaveLength(1);
    expect(open[0]!.signals).toHaveLength(3);
  });
});

describe('differential diagnosis: work that failed on several machines', () => {
  it('singles out no machine when the tasks failed the same way on other machines too', async () => {
    const open = await correlate([
      ...successes(1, ['airflow-worker-1', 'airflow-worker-2']),
      tryState('sessions_export', 'build', 'up_for_retry', 5, 'airflow-worker-3', { log: [traceback(ABI)] }),
      tryState('tickets_export', 'build', 'up_for_retry', 6, 'airflow-worker-3', { log: [traceback(ABI)] }),
      ...successes(8, ['airflow-worker-1', 'airflow-worker-2']),
      tryState('sessions_export', 'build', 'failed', 11, 'airflow-worker-1', { log: [traceback(ABI)] }),
      tryState('tickets_export', 'build', 'failed', 12, 'airflow-worker-2', { log: [traceback(ABI)] }),
    ]);
    expect(open).toHaveLength(1);
    expect(open[0]!.rootCause?.entity).not.toBe('host:airflow-worker-3');
  });
});

describe('one incident per cause', () => {
  it('merges the incident of a host’s own series with failures later singled out on that host', async () => {
    const series =
      'metric:system.processes.count{host.name="airflow-worker-2",service.name="airflow-worker",status="blocked"}';
    const blocked: Signal = {
      fingerprint: 'fp-blocked',
      kind: 'metric.anomaly',
      entity: series,
      status: 'firing',
      related: [],
      time: T0 + 3 * MIN,
      severity: 'low',
      title: 'system.processes.count of airflow-worker-2 departed',
      evidence: [],
      detector: 'test',
    };
    const open = await correlate(
      [
        ...successes(1, ['airflow-worker-1', 'airflow-worker-3']),
        tryState('leads', 'gold', 'up_for_retry', 9, 'airflow-worker-2'),
        tryState('policies', 'gold', 'up_for_retry', 10, 'airflow-worker-2'),
      ],
      [blocked],
    );
    const holding = open.filter((i) => i.signals.some((s) => s.entity === series));
    expect(holding).toHaveLength(1);
    expect(holding[0]!.rootCause?.entity).toBe('host:airflow-worker-2');
    expect(holding[0]!.signals.map((s) => s.entity)).toEqual(
      expect.arrayContaining([series, task('leads', 'gold'), task('policies', 'gold')]),
    );
  });
});
