import { describe, expect, it, vi } from 'vitest';
import type { StateObservation } from '../../src/core/index.ts';
import { ACTOR_MAX_CONFIDENCE, actorsOf, type FailureWrites } from '../../src/correlation/actors.ts';
import {
  correlate as correlateOn,
  MIN,
  RUN,
  successes,
  T0,
  task,
  tryState,
  useEmbeddedDynamo,
} from './support.ts';

vi.setConfig({ testTimeout: 60_000 });

/*
 * The actor as the cause, end to end: Airflow observations as the source reports them (a running
 * try with the tables its log so far shows it writing; a failed try with the tables its statements
 * used) → the real task-failure detector → the real correlator and store.
 */

const endpoint = useEmbeddedDynamo();
const correlate = (observations: StateObservation[]) => correlateOn(endpoint(), observations);

/** A Python traceback ending with `last`, as Airflow logs a failed Spark Connect statement. */
const traceback = (last: string) =>
  `[2026-03-02T02:05:00.000+0000] {task_runner.py:1084} ERROR - Task failed with exception\nTraceback (most recent call last):\n  File "/opt/airflow/plugins/spark_sql.py", line 117, in _run\n    spark.sql(statement).collect()\n${last}`;

const commitConflict = (table: string) =>
  traceback(
    `pyspark.errors.exceptions.connect.SparkConnectGrpcException: (org.apache.iceberg.exceptions.CommitFailedException) Cannot commit glue_catalog.${table} because Glue detected concurrent update\nCaused by: software.amazon.awssdk.services.glue.model.ConcurrentModificationException: Update table failed due to concurrent modifications. (Service: Glue, Status Code: 400, Request ID: f68580f6)`,
  );

/** A try of `dag.taskId` in run `run` (another run than the night's default). */
function runTry(
  dag: string,
  run: string,
  taskId: string,
  to: string,
  minute: number,
  extra: Record<string, unknown>,
): StateObservation {
  const t = tryState(dag, taskId, to, minute, 'airflow-worker-1', extra);
  return {
    ...t,
    entity: `airflow:task:${dag}/${run}/${taskId}`,
    related: [`airflow:dagrun:${dag}/${run}`, `airflow:dag:${dag}`, 'host:airflow-worker-1'],
  };
}

describe('an actor that was changing what failures of other DAGs used', () => {
  it('roots commit conflicts of several DAGs at the maintenance DAG whose tasks were rewriting their tables, as a hypothesis', async () => {
    const tables = ['claims', 'ledger', 'orders'];
    const open = await correlate([
      ...successes(0, ['airflow-worker-1', 'airflow-worker-2']),
      // the maintenance run's three tasks, each seen running with the table it rewrites
      ...tables.map((t) =>
        tryState('lakehouse_compaction', `rewrite_${t}`, 'running', 0, 'airflow-worker-5', {
          writes: [`silver.${t}`],
        }),
      ),
      // each DAG's own writer fails committing the table it merges into
      ...tables.map((t, i) =>
        tryState(`${t}_daily`, `silver_${t}`, 'up_for_retry', 3 + i, `airflow-worker-${i + 1}`, {
          log: [commitConflict(`silver.${t}`)],
          tables: [`silver.${t}`, `silver.${t}_updates`],
        }),
      ),
    ]);
    expect(open).toHaveLength(1);
    const root = open[0]!.rootCause!;
    expect(root).toMatchObject({ entity: 'airflow:dag:lakehouse_compaction', kind: 'contending_write' });
    expect((root.chain ?? []).filter((l) => l.edge === 'contended_by')).toHaveLength(3);
    // inferred from lineage alone: a hypothesis, below the confidence that says "right as a rule"
    expect(root.confidence).toBeLessThanOrEqual(ACTOR_MAX_CONFIDENCE);
    expect(root.evidence?.[0]).toMatch(
      /was changing silver\.\w+, silver\.\w+, silver\.\w+ while tasks of 3 other DAGs/,
    );
  });

  it('judges a failure reported after the writer ended at its own time: the writer was still running then', async () => {
    const location = (dag: string) =>
      traceback(
        `pyspark.errors.exceptions.connect.SparkException: Job aborted due to stage failure: Lost task 133.0 in stage 16185.0 (10.0.4.26 executor 20): org.apache.iceberg.exceptions.NotFoundException: Location does not exist: s3://lake-prod/warehouse/silver/assets/data/day=2026-03-01/00178-${dag}.parquet`,
      );
    const expire = task('lakehouse_maintenance', 'expire_assets_snapshots');
    const open = await correlate([
      // an earlier writer of the table, done well before
      tryState('assets_daily', 'silver_assets', 'success', 2, 'airflow-worker-3', {
        writes: ['silver.assets'],
      }),
      tryState('lakehouse_maintenance', 'expire_assets_snapshots', 'running', 10, 'airflow-worker-3', {
        writes: ['silver.assets'],
      }),
      // the poll that reports the expiry's success comes before the one reporting the failures
      tryState('lakehouse_maintenance', 'expire_assets_snapshots', 'success', 12, 'airflow-worker-3', {
        writes: ['silver.assets'],
      }),
      ...['invoices', 'shipments', 'payments'].map((dag, i) =>
        tryState(dag, `gold_${dag}`, 'up_for_retry', 10.5 + i * 0.4, `airflow-worker-${i + 1}`, {
          // they began reading before the expiry began, after the silver task had begun its write
          start_date: new Date(T0 + (4 + i * 0.5) * MIN).toISOString(),
          log: [location(dag)],
          tables: [`gold.${dag}`],
        }),
      ),
    ]);
    expect(open).toHaveLength(1);
    const root = open[0]!.rootCause!;
    // the work that changed the table while they read it, not the write they began with
    expect(root).toMatchObject({ entity: expire, kind: 'contending_write' });
    expect((root.chain ?? []).map((l) => l.edge)).toContain('contended_by');
    expect(root.confidence).toBeLessThanOrEqual(ACTOR_MAX_CONFIDENCE);
  });

  it('keeps a change made before the readers began as the cause, over a writer already running when they began', async () => {
    const missing = (dag: string) =>
      traceback(
        `java.io.FileNotFoundException: No such file or directory: s3a://lake/warehouse/silver.db/quotes/data/dt=2026-03-01/0-${dag}.parquet`,
      );
    const cleanup = task('table_maintenance', 'remove_orphan_files_quotes');
    const open = await correlate([
      tryState('table_maintenance', 'remove_orphan_files_quotes', 'success', 0.2, 'airflow-worker-3', {
        writes: ['silver.quotes'],
      }),
      // the table's own nightly writer, running before the readers began and while they failed
      tryState('quotes_daily', 'silver_quotes', 'running', 6, 'airflow-worker-3', {
        writes: ['silver.quotes'],
      }),
      ...['customers', 'sessions'].map((dag, i) =>
        tryState(dag, `gold_${dag}`, 'up_for_retry', 7.7 + i * 0.4, `airflow-worker-${i + 1}`, {
          start_date: new Date(T0 + (7.3 + i * 0.4) * MIN).toISOString(),
          log: [missing(dag)],
        }),
      ),
    ]);
    expect(open).toHaveLength(1);
    expect(open[0]!.rootCause?.entity).toBe(cleanup);
  });

  it("roots timeouts of DAGs reading a table at the DAG whose every run commits to it, whichever run's write each saw", async () => {
    const microbatch = (minute: number) =>
      `scheduled__2026-03-02T02:${String(minute).padStart(2, '0')}:00+00:00`;
    const runs = [0, 5, 10, 15, 20, 25, 30, 35].flatMap((m) => [
      runTry('telemetry_microbatch', microbatch(m), 'append_telemetry', 'running', m, {
        writes: ['silver.telemetry'],
      }),
      runTry('telemetry_microbatch', microbatch(m), 'append_telemetry', 'success', m + 1.2, {
        writes: ['silver.telemetry'],
      }),
    ]);
    const timeouts = ['devices', 'products', 'subscriptions'].map((dag, i) =>
      tryState(dag, `gold_${dag}_daily`, 'up_for_retry', 31 + i * 2.5, `airflow-worker-${i + 1}`, {
        log: [traceback('airflow.exceptions.AirflowTaskTimeout: Timeout, PID: 7426')],
        tables: [`gold.${dag}_daily`, `silver.${dag}`, 'silver.telemetry'],
      }),
    );
    const open = await correlate([...runs, ...timeouts].sort((a, b) => a.time - b.time));
    const withTimeouts = open.filter((i) => i.signals.some((s) => s.kind === 'airflow.task_retry'));
    const roots = withTimeouts.map((i) => i.rootCause?.entity);
    expect(roots).toContain('airflow:dag:telemetry_microbatch');
    const root = withTimeouts.find((i) => i.rootCause?.entity === 'airflow:dag:telemetry_microbatch')!
      .rootCause!;
    expect(root.confidence).toBeLessThanOrEqual(ACTOR_MAX_CONFIDENCE);
  });
});

describe('no actor where the work did not touch what failed, or failed itself', () => {
  it('a heavy maintenance night with no failure opens nothing', async () => {
    const open = await correlate([
      ...['claims', 'ledger', 'orders'].flatMap((t) => [
        tryState('lakehouse_compaction', `rewrite_${t}`, 'running', 0, 'airflow-worker-5', {
          writes: [`silver.${t}`],
        }),
        tryState('lakehouse_compaction', `rewrite_${t}`, 'success', 30, 'airflow-worker-5', {
          writes: [`silver.${t}`],
        }),
      ]),
      ...['claims', 'ledger', 'orders'].map((t, i) =>
        tryState(`${t}_daily`, `silver_${t}`, 'success', 5 + i, 'airflow-worker-1', {
          writes: [`silver.${t}`],
        }),
      ),
    ]);
    expect(open).toHaveLength(0);
  });

  it('is not named when the failures used tables it was not writing', async () => {
    const open = await correlate([
      ...successes(0, ['airflow-worker-1', 'airflow-worker-2']),
      tryState('lakehouse_compaction', 'rewrite_claims', 'running', 0, 'airflow-worker-5', {
        writes: ['silver.claims'],
      }),
      ...['ledger', 'orders', 'refunds'].map((t, i) =>
        tryState(`${t}_daily`, `silver_${t}`, 'up_for_retry', 3 + i, `airflow-worker-${i + 1}`, {
          log: [commitConflict(`silver.${t}`)],
          tables: [`silver.${t}`],
        }),
      ),
    ]);
    for (const i of open) {
      expect(i.rootCause?.entity).not.toBe('airflow:dag:lakehouse_compaction');
      expect(i.rootCause?.entity).not.toBe(task('lakehouse_compaction', 'rewrite_claims'));
    }
  });

  it('is not named for failures of a single other DAG', async () => {
    const open = await correlate([
      tryState('lakehouse_compaction', 'rewrite_claims', 'running', 0, 'airflow-worker-5', {
        writes: ['silver.claims'],
      }),
      tryState('lakehouse_compaction', 'rewrite_orders', 'running', 0, 'airflow-worker-5', {
        writes: ['silver.orders'],
      }),
      tryState('claims_daily', 'silver_claims', 'up_for_retry', 3, 'airflow-worker-1', {
        log: [commitConflict('silver.claims')],
        tables: ['silver.claims'],
      }),
      tryState('claims_daily', 'silver_orders', 'up_for_retry', 4, 'airflow-worker-2', {
        log: [commitConflict('silver.orders')],
        tables: ['silver.orders'],
      }),
    ]);
    for (const i of open) expect(i.rootCause?.entity).not.toBe('airflow:dag:lakehouse_compaction');
  });
});

describe('actorsOf', () => {
  const w = (dag: string, taskId: string, at: number, running = true) => ({
    task: `airflow:task:${dag}/${RUN}/${taskId}`,
    at: T0 + at * MIN,
    table: 'silver.t',
    running,
    under: running,
  });
  const f = (dag: string, ...writers: ReturnType<typeof w>[]): FailureWrites => ({
    entity: `airflow:task:${dag}/${RUN}/gold`,
    dag,
    writers,
  });

  it('names one task when one task did the work, its DAG when several did', () => {
    const one = actorsOf([f('a', w('m', 'x', 0)), f('b', w('m', 'x', 0))], 2);
    expect(one).toMatchObject([{ entity: `airflow:task:m/${RUN}/x`, byDag: false, dags: 2 }]);
    const several = actorsOf([f('a', w('m', 'x', 0)), f('b', w('m', 'y', 1, false))], 2);
    expect(several).toMatchObject([
      { entity: 'airflow:dag:m', byDag: true, kind: 'contending_write', first: T0 },
    ]);
  });

  it("counts only other DAGs' failures, and never work whose own DAG is failing", () => {
    // the writer's own DAG failing with the one other: not enough other DAGs
    expect(actorsOf([f('m', w('m', 'x', 0)), f('b', w('m', 'x', 0))], 2)).toEqual([]);
    // a writer that fails itself is a failure, not an actor
    expect(actorsOf([f('a', w('m', 'x', 0)), f('b', w('m', 'x', 0)), f('m')], 2)).toEqual([]);
    expect(actorsOf([f('a', w('m', 'x', 0, false)), f('b', w('m', 'x', 0, false))], 2)[0]?.kind).toBe(
      'upstream_write',
    );
  });
});
