import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAirflowTaskFailureDetector } from '../../detectors/airflow-task-failure.ts';
import { createSparkDetector } from '../../detectors/spark.ts';
import type { Observation, StateObservation } from '../../src/core/index.ts';
import { startEmbeddedDynamo } from '../../src/incidents/embedded-dynamo.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { correlate as correlateOn, MIN, successes, T0, task, tryState } from './support.ts';

vi.setConfig({ testTimeout: 60_000 });

/*
 * Differential diagnosis and table lineage, end to end: Airflow and Spark observations as the
 * sources report them → the real detectors → the real correlator writing to the real store (whose
 * caps cut long log lines, so what the correlator reasons on must survive them).
 */

const APP = 'app-20260301000000-0000';
let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo({ port: 0, logger: silentLogger() });
});
afterAll(async () => {
  await dynamo?.close();
});

/** A Python traceback as Airflow logs it: one entry, far longer than the store keeps of a line. */
function traceback(last: string): string {
  const frames = Array.from(
    { length: 12 },
    (_, i) =>
      `  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/frame_${i}.py", line ${100 + i}, in run\n    result = _execute_task(context=context, ti=ti, log=log)`,
  ).join('\n');
  return `[2026-03-02T02:05:00.000+0000] {task_runner.py:1084} ERROR - Task failed with exception\nTraceback (most recent call last):\n${frames}\n${last}`;
}

const EXPIRED =
  'botocore.exceptions.ClientError: An error occurred (ExpiredToken) when calling the GetObject operation: The provided token has expired.';

/** Detectors (Airflow tasks, Spark) → correlator: the open incidents the observations make. */
const correlate = (observations: Observation[]) =>
  correlateOn(dynamo.endpoint, observations, {
    detectors: [createAirflowTaskFailureDetector(), createSparkDetector()],
  });

describe('differential diagnosis: one machine among several', () => {
  it('roots failures of several DAGs on one worker at the worker while tries succeed on others, whatever the text', async () => {
    const open = await correlate([
      ...successes(1, ['airflow-worker-1', 'airflow-worker-2']),
      ...['leads', 'invoices', 'quotes'].map((dag, i) =>
        tryState(dag, 'silver', 'failed', 5 + i, 'airflow-worker-3', { log: [traceback(EXPIRED)] }),
      ),
    ]);
    expect(open).toHaveLength(1);
    expect(open[0]!.rootCause).toMatchObject({ entity: 'host:airflow-worker-3', kind: 'machine_failing' });
    expect((open[0]!.rootCause!.chain ?? []).map((l) => l.edge)).toContain('ran_on');
    expect(open[0]!.quiet).toBe(false);
  });

  it('singles out no machine without evidence that the same work succeeds elsewhere', async () => {
    const open = await correlate(
      ['leads', 'invoices', 'quotes'].map((dag, i) =>
        tryState(dag, 'silver', 'failed', 5 + i, 'airflow-worker-3', { log: [traceback(EXPIRED)] }),
      ),
    );
    for (const i of open) expect(i.rootCause?.entity).not.toBe('host:airflow-worker-3');
  });

  it('keeps two unrelated failures that happened to share a worker apart', async () => {
    const open = await correlate([
      ...successes(1, ['airflow-worker-1', 'airflow-worker-3']),
      tryState('scrape_fx', 'fetch', 'up_for_retry', 5, 'airflow-worker-2', {
        log: [
          traceback(
            'requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://fx.example.org/api',
          ),
        ],
      }),
      tryState('ops', 'refresh', 'up_for_retry', 8, 'airflow-worker-2', {
        log: [traceback('java.net.SocketTimeoutException: connect timed out')],
      }),
    ]);
    expect(open).toHaveLength(2);
    for (const i of open) expect(i.rootCause?.entity).not.toBe('host:airflow-worker-2');
  });

  it('singles out no machine for failures of a shared outage class: they point at the resource they name', async () => {
    const refused = (dag: string) =>
      traceback(
        `psycopg2.OperationalError: connection to server at "psp-db.c7b3.eu-west-1.rds.amazonaws.com" (10.0.9.4), port 5432 failed: FATAL:  password authentication failed for user "etl_reader" (${dag})`,
      );
    const open = await correlate([
      ...successes(1, ['airflow-worker-1', 'airflow-worker-2']),
      ...['refunds', 'payments', 'returns'].map((dag, i) =>
        tryState(dag, 'bronze', 'up_for_retry', 5 + i, 'airflow-worker-4', { log: [refused(dag)] }),
      ),
    ]);
    expect(open).toHaveLength(1);
    expect(open[0]!.rootCause?.entity).toBe('host:psp-db.c7b3.eu-west-1.rds.amazonaws.com');
    expect(open[0]!.quiet).toBe(false);
  });

  it('roots Spark jobs of several DAGs whose tasks were lost on one host at that host, with the Airflow tasks that ran them', async () => {
    const job = (
      id: number,
      dag: string,
      minute: number,
      host: string,
      status: string,
    ): StateObservation => ({
      type: 'state',
      entity: `spark:job:${APP}/${id}`,
      related: [`spark:app:${APP}`, task(dag, 'gold'), `spark:stage:${APP}/${id * 2}`],
      from: 'RUNNING',
      to: status,
      time: T0 + minute * MIN,
      details: {
        failureReason:
          status === 'FAILED'
            ? `Job aborted due to stage failure: Task 88 in stage ${id * 2}.0 failed 1 times, most recent failure: Lost task 88.0 in stage ${id * 2}.0 (TID 12) (${host} executor 16): org.apache.iceberg.exceptions.RuntimeIOException: Failed to open s3://lake/warehouse/silver.db/orders/metadata/snap-1.avro\nDriver stacktrace:`
            : null,
        airflowTask: task(dag, 'gold'),
      },
    });
    const open = await correlate([
      job(1, 'other', 1, '', 'SUCCEEDED'),
      job(2, 'other2', 2, '', 'SUCCEEDED'),
      job(10, 'ledger', 5, '10.0.7.130', 'FAILED'),
      job(11, 'claims', 6, '10.0.7.130', 'FAILED'),
      job(12, 'sessions', 7, '10.0.7.130', 'FAILED'),
    ]);
    expect(open).toHaveLength(1);
    expect(open[0]!.rootCause).toMatchObject({ entity: 'host:10.0.7.130', kind: 'machine_failing' });
  });
});

describe('table lineage: a failure naming a table points at the task that last wrote it', () => {
  const relation = (dag: string) =>
    traceback(
      "pyspark.errors.exceptions.connect.AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column `d`.`segment` cannot be resolved. SQLSTATE: 42703;\n'Join LeftOuter\n+- SubqueryAlias d\n   +- RelationV2[merchant_id#202L, segment_code#898] lakehouse.silver.dim_merchants",
    ).replace('frame_0', `frame_${dag}`);

  it('roots readers of several DAGs failing after a write at the writer, though it succeeded', async () => {
    const open = await correlate([
      tryState('dim_refresh', 'rebuild_dim_merchants', 'success', 3, 'airflow-worker-2', {
        writes: ['silver.dim_merchants'],
      }),
      ...['orders', 'ledger', 'reviews'].map((dag, i) =>
        tryState(dag, 'gold', 'failed', 6 + i, `airflow-worker-${(i % 3) + 1}`, { log: [relation(dag)] }),
      ),
    ]);
    expect(open).toHaveLength(1);
    expect(open[0]!.rootCause).toMatchObject({
      entity: task('dim_refresh', 'rebuild_dim_merchants'),
      kind: 'upstream_write',
    });
    expect((open[0]!.rootCause!.chain ?? []).filter((l) => l.edge === 'read_what_it_wrote')).toHaveLength(3);
  });

  it('ties no failure to a write long before it', async () => {
    const open = await correlate([
      tryState('dim_refresh', 'rebuild_dim_merchants', 'success', -120, 'airflow-worker-2', {
        writes: ['silver.dim_merchants'],
      }),
      ...['orders', 'ledger'].map((dag, i) =>
        tryState(dag, 'gold', 'failed', 6 + i, 'airflow-worker-1', { log: [relation(dag)] }),
      ),
    ]);
    for (const i of open) {
      expect(i.rootCause?.entity).not.toBe(task('dim_refresh', 'rebuild_dim_merchants'));
      expect(i.signals.flatMap((s) => s.related)).not.toContain(task('dim_refresh', 'rebuild_dim_merchants'));
    }
  });
});
