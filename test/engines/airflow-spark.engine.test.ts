import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDetectors } from '../../detectors/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { ManualClock, type Signal, systemClock } from '../../src/core/index.ts';
import { DetectionEngine } from '../../src/detection/engine.ts';
import { createAirflowSource } from '../../src/sources/airflow/source.ts';
import { Poller } from '../../src/sources/poller.ts';
import { createSparkSource } from '../../src/sources/spark/source.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { type AirflowUnderTest, airflowStandalone, installAirflow } from './airflow-engine.ts';
import { installSpark, type SparkCluster, startSparkCluster, until } from './spark-engine.ts';

vi.setConfig({ hookTimeout: 900_000, testTimeout: 300_000 });

/**
 * The cross-engine case, on real engines: an Airflow task runs a SQL model through Spark Connect,
 * tagging its session with itself, and the model fails. Guardian must see both failures and the
 * link between them: the Spark job's signal names the Airflow task's entity key.
 */
describe('Airflow task → Spark Connect job, on real Airflow 3 and Spark 4', () => {
  let airflow: AirflowUnderTest;
  let spark: SparkCluster;
  let poller: Poller;
  const signals: Signal[] = [];

  beforeAll(async () => {
    const [airflowBin, sparkBin] = [await installAirflow(), await installSpark()];
    spark = await startSparkCluster(sparkBin);
    airflow = await airflowStandalone(airflowBin, {
      GUARDIAN_SPARK_PYTHON: spark.python,
      GUARDIAN_SPARK_CONNECT: spark.connectEndpoint,
      GUARDIAN_SPARK_SCRIPT: path.join(import.meta.dirname, 'spark', 'failing_sql.py'),
    });
    await airflow.start();
    const engine = new DetectionEngine({
      detectors: createDetectors(parseConfig({})),
      clock: systemClock,
      logger: silentLogger(),
      onSignal: (s) => signals.push(s),
    });
    poller = new Poller({
      sources: [
        createAirflowSource({
          baseUrl: airflow.url,
          username: airflow.username,
          password: airflow.password,
          clock: systemClock,
          logger: silentLogger(),
        }),
        createSparkSource({
          masterUrl: spark.masterUi,
          driverUrl: spark.driverUi,
          connectEndpoint: spark.connectEndpoint,
          clock: systemClock,
          logger: silentLogger(),
        }),
      ],
      clock: new ManualClock(0),
      logger: silentLogger(),
      sink: (obs) => engine.ingest(obs),
    });
  });

  afterAll(async () => {
    await poller?.stop();
    await airflow?.stop();
    await spark?.stopAll();
  });

  it('sees the Airflow task fail and the Spark job it submitted fail, linked by the task’s entity key', async () => {
    const token = (
      (await (
        await fetch(`${airflow.url}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: airflow.username, password: airflow.password }),
        })
      ).json()) as { access_token: string }
    ).access_token;
    const api = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(`${airflow.url}${p}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    await until(
      async () => (await api('GET', '/api/v2/dags/guardian_spark_model')).dag_id === 'guardian_spark_model',
      120_000,
      () => airflow.output(),
      'the Spark model DAG',
    );
    const run = String(
      (await api('POST', '/api/v2/dags/guardian_spark_model/dagRuns', { logical_date: null })).dag_run_id,
    );
    await until(
      async () =>
        (await api('GET', `/api/v2/dags/guardian_spark_model/dagRuns/${encodeURIComponent(run)}`)).state ===
        'failed',
      180_000,
      () => airflow.output(),
      'the model run to fail',
    );

    await poller.pollNow('airflow');
    await poller.pollNow('spark');
    await poller.pollNow('airflow');
    await poller.pollNow('spark');

    const task = `airflow:task:guardian_spark_model/${run}/build_orders_model`;
    const taskFailed = signals.filter((s) => s.kind === 'airflow.task_failed' && s.entity === task);
    expect(taskFailed, JSON.stringify(signals.map((s) => [s.kind, s.entity]))).toHaveLength(1);
    const jobFailed = signals.filter((s) => s.kind === 'spark.job_failed' && s.related.includes(task));
    expect(jobFailed, JSON.stringify(signals.map((s) => [s.kind, s.entity, s.related]))).toHaveLength(1);
    expect(JSON.stringify(jobFailed[0]!.evidence)).toContain('guardian engine test: bad row');
  });
});
