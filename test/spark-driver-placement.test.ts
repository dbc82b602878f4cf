import { describe, expect, it } from 'vitest';
import { ManualClock, type StateObservation } from '../src/core/index.ts';
import { createSparkSource } from '../src/sources/spark/source.ts';
import { type SparkScenario, startSparkStandIn } from '../src/stand-ins/spark.ts';
import { silentLogger } from '../src/telemetry/logger.ts';

const APP = 'app-20260301000000-0000';
const CONNECT = 'sc://spark-connect.internal:15002';

/** A Connect server whose driver runs on `driverHost`, with one executor elsewhere. */
const scenario = (driverHost: string): SparkScenario => ({
  master: { url: 'spark://10.0.0.10:7077', workers: [] },
  connect: { endpoint: CONNECT, up: [['2026-03-01T00:00:00Z', true]] },
  applications: [
    {
      id: APP,
      name: 'Spark Connect server',
      start: '2026-03-01T00:00:00Z',
      end: null,
      jobs: [],
      stages: [],
      executors: [
        { id: 'driver', hostPort: `${driverHost}:42169`, addTime: '2026-03-01T00:00:00Z', totalCores: 0 },
        { id: '1', hostPort: '10.0.3.183:41213', addTime: '2026-03-01T00:00:00Z', totalCores: 4 },
      ],
    },
  ],
});

/**
 * The driver edge: the Spark source reads where the Connect endpoint is served from (the `driver`
 * executor of the application behind the driver UI, as Spark's REST API lists it) and says so once,
 * as a state of the endpoint related to that host, then again only if it moves.
 */
describe('Spark source: where the Connect endpoint is served from', () => {
  it('reports the driver’s host once, as the endpoint’s placement, and not its executors’ hosts', async () => {
    const clock = new ManualClock(Date.parse('2026-03-02T02:00:00Z'));
    const spark = await startSparkStandIn({ scenario: scenario('10.0.1.12'), clock });
    try {
      const source = createSparkSource({
        masterUrl: spark.masterUrl,
        driverUrl: spark.driverUrl,
        connectEndpoint: spark.connectEndpoint,
        connectName: CONNECT,
        clock,
        logger: silentLogger(),
        timeoutMs: 1000,
      });
      const placements = async () =>
        (await source.poll()).filter(
          (o): o is StateObservation => o.type === 'state' && o.entity.startsWith('spark:connect:'),
        );
      const first = await placements();
      expect(first).toHaveLength(1);
      expect(first[0]!.entity).toBe(`spark:connect:${CONNECT}`);
      expect(first[0]!.related).toEqual(['host:10.0.1.12']);
      expect(first[0]!.to).toBe('host:10.0.1.12');
      expect(first[0]!.from).toBeNull();
      await clock.advanceTo(Date.parse('2026-03-02T02:01:00Z'));
      expect(await placements()).toEqual([]);
    } finally {
      await spark.close();
    }
  });

  it('says nothing of a placement when no Connect endpoint is configured', async () => {
    const clock = new ManualClock(Date.parse('2026-03-02T02:00:00Z'));
    const spark = await startSparkStandIn({ scenario: scenario('10.0.1.12'), clock });
    try {
      const source = createSparkSource({
        masterUrl: spark.masterUrl,
        driverUrl: spark.driverUrl,
        clock,
        logger: silentLogger(),
        timeoutMs: 1000,
      });
      const obs = await source.poll();
      expect(obs.some((o) => o.type === 'state' && o.entity.startsWith('spark:connect:'))).toBe(false);
    } finally {
      await spark.close();
    }
  });
});
