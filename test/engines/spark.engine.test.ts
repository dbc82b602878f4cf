import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDetectors } from '../../detectors/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { ManualClock, type Observation, type Signal, systemClock } from '../../src/core/index.ts';
import { DetectionEngine } from '../../src/detection/engine.ts';
import { Poller } from '../../src/sources/poller.ts';
import { createSparkSource } from '../../src/sources/spark/source.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { type Shape, shapeDifferences, shapeOf } from '../support/shape.ts';
import { installSpark, type SparkCluster, startSparkCluster, until } from './spark-engine.ts';

vi.setConfig({ hookTimeout: 900_000, testTimeout: 300_000 });
const run = promisify(execFile);
const scripts = path.join(import.meta.dirname, 'spark');

/**
 * Guardian's Spark source and detectors against a real Spark 4 standalone cluster with a Spark
 * Connect server: a tagged SQL model that fails, a worker lost mid-job, the Connect server gone,
 * the master gone and back.
 */
describe('Spark source against real Spark 4', () => {
  let spark: SparkCluster;
  const signals: Signal[] = [];
  const observations: Observation[] = [];
  let poller: Poller;

  beforeAll(async () => {
    spark = await startSparkCluster(await installSpark());
    const engine = new DetectionEngine({
      detectors: createDetectors(parseConfig({})),
      clock: systemClock,
      logger: silentLogger(),
      onSignal: (s) => signals.push(s),
    });
    poller = new Poller({
      sources: [
        createSparkSource({
          masterUrl: spark.masterUi,
          driverUrl: spark.driverUi,
          connectEndpoint: spark.connectEndpoint,
          clock: systemClock,
          logger: silentLogger(),
          timeoutMs: 5000,
        }),
      ],
      clock: new ManualClock(0),
      logger: silentLogger(),
      sink: (obs) => {
        observations.push(...obs);
        engine.ingest(obs);
      },
    });
    await poller.pollNow('spark');
  });

  afterAll(async () => {
    await poller?.stop();
    await spark?.stopAll();
  });

  const firing = (kind: string) => signals.filter((s) => s.kind === kind && s.status === 'firing');

  it('a healthy cluster produces no signal', () => {
    expect(signals).toEqual([]);
    expect(
      observations.some(
        (o) => o.type === 'state' && o.entity.startsWith('spark:worker:') && o.to === 'ALIVE',
      ),
    ).toBe(true);
  });

  it('a failing SQL model: spark.job_failed, related to the Airflow task that submitted it, with the stage’s reason', async () => {
    const { stdout } = await run(
      spark.python,
      [path.join(scripts, 'failing_sql.py'), spark.connectEndpoint],
      { timeout: 120_000 },
    );
    expect(stdout).toContain('FAILED');
    await poller.pollNow('spark');
    const [failed] = firing('spark.job_failed');
    expect(failed, JSON.stringify(signals)).toBeDefined();
    expect(failed!.entity).toMatch(/^spark:job:app-\d+-\d+\/\d+$/);
    expect(failed!.related).toContain(
      'airflow:task:silver_orders/manual__2026-03-02T02-00-00/transform_orders',
    );
    expect(failed!.related.some((r) => r.startsWith('spark:stage:'))).toBe(true);
    expect(JSON.stringify(failed!.evidence)).toContain('guardian engine test: bad row');
  });

  it('answers in the shapes recorded for the stand-in (RECORD_ENGINES=1 records them anew)', async () => {
    const get = async (u: string) => (await fetch(u)).json();
    const apps = (await get(`${spark.driverUi}/api/v1/applications`)) as { id: string }[];
    const app = `${spark.driverUi}/api/v1/applications/${apps[0]!.id}`;
    const answers: Record<string, unknown> = {
      master: await get(`${spark.masterUi}/json/`),
      applications: apps,
      jobs: await get(`${app}/jobs`),
      failedStages: await get(`${app}/stages?status=failed`),
      allexecutors: await get(`${app}/allexecutors`),
    };
    const file = path.join(import.meta.dirname, 'recordings', 'spark-shapes.json');
    const shapes = Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, shapeOf(v)]));
    if (process.env.RECORD_ENGINES === '1') writeFileSync(file, `${JSON.stringify(shapes, null, 2)}\n`);
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Shape>;
    // Spark leaves out an `Option` that is still empty: an executor has no peak memory metrics
    // until its first heartbeat reports them, which a loaded machine can delay past this test.
    const notYet = new Set(['$[].peakMemoryMetrics: missing']);
    for (const [k, shape] of Object.entries(recorded))
      expect(
        shapeDifferences(shape, shapes[k]!).filter((d) => !(k === 'allexecutors' && notYet.has(d))),
        k,
      ).toEqual([]);
  });

  it('a worker lost mid-job: its executors are lost (host lost) and the worker is dead', async () => {
    const client = spawn(spark.python, [path.join(scripts, 'long_job.py'), spark.connectEndpoint], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    client.stdout.on('data', (d) => (out += d));
    try {
      await until(
        async () => {
          const apps = (await (await fetch(`${spark.driverUi}/api/v1/applications`)).json()) as {
            id: string;
          }[];
          const jobs = (await (
            await fetch(`${spark.driverUi}/api/v1/applications/${apps[0]!.id}/jobs?status=running`)
          ).json()) as unknown[];
          return jobs.length > 0;
        },
        120_000,
        () => out,
        'the long job to run',
      );
      await spark.worker.kill();
      await until(
        async () => {
          await poller.pollNow('spark');
          return firing('spark.executor_lost').length > 0 && firing('spark.worker_dead').length > 0;
        },
        60_000,
        () => JSON.stringify(signals),
        'executor and worker loss',
      );
    } finally {
      client.kill('SIGKILL');
    }
    const lost = firing('spark.executor_lost');
    expect(lost[0]!.related).toContain('host:127.0.0.1');
    expect(JSON.stringify(lost[0]!.evidence)).toContain('host_lost');
    expect(firing('spark.worker_dead')[0]!.related).toContain('host:127.0.0.1');
  });

  it('the Spark Connect server gone: spark.connect_unreachable', async () => {
    await spark.connect.kill();
    await poller.pollNow('spark');
    expect(firing('spark.connect_unreachable')).toHaveLength(1);
    expect(firing('spark.connect_unreachable')[0]!.entity).toBe(`spark:connect:${spark.connectEndpoint}`);
  });

  it('the master gone: source.down, and back when it returns, repeating nothing already reported', async () => {
    const key = (o: Observation) => (o.type === 'state' ? `${o.entity}=${o.to}` : '');
    const before = new Set(observations.map(key).filter(Boolean));
    const count = observations.length;
    await spark.master.kill();
    await poller.pollNow('spark');
    expect(firing('source.down').map((s) => s.entity)).toEqual(['source:spark']);
    spark.master.start();
    await until(
      async () => {
        await poller.pollNow('spark');
        return signals.some((s) => s.kind === 'source.down' && s.status === 'resolved');
      },
      90_000,
      () => spark.master.output(),
      'the master to answer again',
    );
    await poller.pollNow('spark');
    const repeated = observations
      .slice(count)
      .map(key)
      .filter((k) => k && before.has(k));
    expect(repeated).toEqual([]);
  });
});
