import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { createGuardian, type Guardian } from '../../src/main.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { startSlackStandIn } from '../fakes/slack-api.ts';
import { eventually } from '../support/eventually.ts';
import { startRedis, type TestRedis } from '../support/redis.ts';
import { faultScale, recordOutcome } from './scale.ts';

const TOKEN = 'xoxb-outage-test-token';
/** How long Redis stays away: 6 s in CI, 60 s with GUARDIAN_FAULTS=long. */
const OUTAGE_MS = faultScale({ ci: 6_000, long: 60_000 });

/** An OTLP/JSON export of one gauge point of one series (the series' name is its host). */
function gauge(host: string, value: number): string {
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'spark-worker' } },
            { key: 'host.name', value: { stringValue: host } },
          ],
        },
        scopeMetrics: [
          {
            metrics: [
              {
                name: `outage.${host}.memory`,
                gauge: {
                  dataPoints: [{ asDouble: value, timeUnixNano: `${BigInt(Date.now()) * 1_000_000n}` }],
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

/**
 * A Redis outage under a running Guardian in BullMQ mode (issue 27): series A breaches before
 * Redis stops, B while it is away (pushed as an OTLP exporter does: retried while refused with
 * 503), C after it is back on the same port. A and C are posted exactly once, B is posted once,
 * a push is never answered 200 for a signal then lost, and `/readyz` says 503 while the pipeline
 * cannot move and 200 once it moves again. Run with Redis keeping its data (AOF) and with Redis
 * coming back empty.
 */
describe.each([
  ['Redis keeps its data (AOF)', true],
  ['Redis comes back empty', false],
] as const)('Redis stopped and restarted under a running Guardian: %s', (_name, persistent) => {
  let redis: TestRedis | undefined;
  let guardian: Guardian | undefined;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>> | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await guardian?.stop();
    await redis?.stop();
    await slack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'posts A and C exactly once, refuses or posts B, and reports readiness truthfully',
    async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'guardian-redis-outage-'));
      const aof = persistent ? path.join(dir, 'redis') : undefined;
      if (aof) (await import('node:fs')).mkdirSync(aof);
      redis = await startRedis(aof ? { appendOnlyDir: aof } : {});
      const port = redis.port;
      slack = await startSlackStandIn({ token: TOKEN });
      const rule = (host: string) => ({
        id: `memory-${host}`,
        metric: `outage.${host}.memory`,
        op: '>' as const,
        value: 0.9,
        severity: 'high' as const,
        title: `Memory of ${host} above 90%`,
      });
      const config = parseConfig({
        port: 0,
        host: '127.0.0.1',
        dataDir: path.join(dir, 'data'),
        queue: { redisUrl: redis.url },
        notify: { groupWait: 0 },
        otlp: { retryAfterSeconds: 1 },
        slack: { token: TOKEN, apiUrl: slack.url, channel: '#alerts' },
        detection: { tick: 200, thresholds: ['host-a', 'host-b', 'host-c'].map(rule) },
      });
      guardian = await createGuardian(config, { logger: silentLogger() });
      const url = await guardian.listen();
      const push = (host: string, value: number) =>
        fetch(`${url}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: gauge(host, value),
          signal: AbortSignal.timeout(5_000),
        }).then((r) => r.status);
      const ready = () =>
        fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status);
      const posts = (host: string) =>
        slack!.calls.filter(
          (c) =>
            c.method === 'chat.postMessage' && !c.params.thread_ts && String(c.params.text).includes(host),
        ).length;

      // A: before the outage.
      await eventually(async () => expect(await ready()).toBe(200), 15_000);
      expect(await push('host-a', 0.95)).toBe(200);
      await eventually(() => expect(posts('host-a')).toBe(1), 15_000);

      // B: while Redis is away, pushed as an exporter does (again after a refusal).
      await redis.stop();
      const statuses: number[] = [];
      const outageEnds = Date.now() + OUTAGE_MS;
      let sawNotReady = false;
      while (Date.now() < outageEnds) {
        statuses.push(await push('host-b', 0.95).catch(() => 0));
        if ((await ready().catch(() => 503)) === 503) sawNotReady = true;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(sawNotReady).toBe(true);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
      redis = await startRedis({ port, ...(aof ? { appendOnlyDir: aof } : {}) });

      // The exporter retries what was refused until it is taken.
      await eventually(async () => expect(await push('host-b', 0.95)).toBe(200), 30_000, 500);
      await eventually(async () => expect(await ready()).toBe(200), 30_000, 250);

      // C: after Redis is back.
      expect(await push('host-c', 0.95)).toBe(200);
      await eventually(() => expect(posts('host-c')).toBe(1), 30_000, 250);
      await eventually(() => expect(posts('host-b')).toBe(1), 30_000, 250);
      // Nothing doubled once everything has settled.
      await new Promise((r) => setTimeout(r, 2_000));
      expect([posts('host-a'), posts('host-b'), posts('host-c')]).toEqual([1, 1, 1]);
      recordOutcome(
        `Redis stopped ${OUTAGE_MS / 1000} s and restarted ${persistent ? 'with its data (AOF)' : 'empty'} (BullMQ); B refused ${statuses.filter((s) => s === 503).length}/${statuses.length} pushes with 503`,
        { faults: 1, incidents: 3, paged: 3, posts: 3, lost: 0, duplicated: 0, signalsLost: 0 },
      );

      // Shutdown is bounded whatever Redis does: stop it first, then Guardian.
      await redis.stop();
      const started = Date.now();
      await guardian.stop();
      guardian = undefined;
      expect(Date.now() - started).toBeLessThan(15_000);
    },
    OUTAGE_MS + 180_000,
  );
});
