import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/core/index.ts';
import { createHttpApp } from '../../src/http/app.ts';
import { createDynamoIncidentStore } from '../../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../../src/incidents/embedded-dynamo.ts';
import { findSilence } from '../../src/incidents/silences.ts';
import type { IncidentStore, Silence } from '../../src/incidents/store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { spotLossIncident } from '../fakes/incidents.ts';

/** Lag budget while a pathological silence is evaluated against thousands of incidents. */
const LAG_BUDGET_MS = 100;

/**
 * A silence with 10 stars (more than the API accepts today, as one stored before the limit would
 * be) against thousands of incidents with long entities built to make a backtracking matcher
 * explode (with one `.*` per star, one 45-character entity took 49 s). Evaluated as the notifier
 * does — one incident per job, the silences read from the store — while the event loop's delay is
 * recorded and `/healthz` is asked. The API itself refuses such a silence.
 */
describe('abuse: a pathological silence does not freeze Guardian', () => {
  const logger = silentLogger();
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;
  let store: IncidentStore;

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ port: 0, logger });
    store = createDynamoIncidentStore({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tableName: `abuse-glob-${Date.now()}`,
      createTable: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      logger,
    });
    await store.start();
  });

  afterAll(async () => {
    await store?.close();
    await dynamo?.close();
  });

  it(`keeps event-loop lag under ${LAG_BUDGET_MS} ms and /healthz answering`, async () => {
    const now = Date.parse('2026-03-04T03:00:00Z');
    // 10 stars; ends in "ab" so the cheap prefix and suffix checks pass and the middle is searched.
    const glob = `host:${'*a'.repeat(9)}*ab`;
    const silence: Silence = {
      id: 'sil_pathological',
      entity: glob,
      createdAt: now - 1000,
      expiresAt: now + 3_600_000,
      createdBy: { id: 'mallory', via: 'api' },
    };
    await store.createSilence(silence);
    const silences = await store.listSilences(now);
    expect(silences.map((s) => s.entity)).toEqual([glob]);

    // Eight "a"s where the glob wants nine, then a long tail: no match, the worst case to backtrack.
    const entity = (n: number, length: number) => `host:${'a'.repeat(8)}${'x'.repeat(length)}${n}ab`;
    // Built one at a time, as the notifier reads one incident per job from the store.
    const count = 3000;
    const incidentNumber = (n: number): Incident =>
      spotLossIncident(`inc_abuse_${n}`, {
        entities: Array.from({ length: 20 }, (_, k) => entity(n, k % 2 === 0 ? 45 : 2000)),
        rootCause: { entity: entity(n, 45), kind: 'spot_interruption', confidence: 1 },
      });
    // One incident that does match, so the matcher is seen to work on these shapes.
    const matching = spotLossIncident('inc_abuse_match', {
      entities: [`host:${'a'.repeat(40)}ab`],
      rootCause: { entity: `host:${'a'.repeat(40)}ab`, kind: 'spot_interruption', confidence: 1 },
    });

    const app = await createHttpApp({
      logger,
      store,
      outbox: undefined,
      health: { checks: {}, isStopping: () => false },
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });

    /** One pass over every incident, one per event-loop turn, with lag and /healthz recorded. */
    async function measure() {
      const lag = monitorEventLoopDelay({ resolution: 5 });
      const health: number[] = [];
      let evaluating = true;
      const probe = (async () => {
        while (evaluating) {
          const asked = performance.now();
          const res = await fetch(`${url}/healthz`);
          expect(res.status).toBe(200);
          health.push(performance.now() - asked);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      lag.enable();
      const started = performance.now();
      let matched = 0;
      let evaluated = 0;
      let slowestCpuMs = 0;
      let cpuMs = 0;
      try {
        for (let n = 0; n < count; n++) {
          // One notify job per incident: the event loop turns between them.
          await new Promise((r) => setImmediate(r));
          const incident = incidentNumber(n);
          // CPU time, not wall time: on a shared machine the process may be descheduled mid-call.
          const cpu = process.cpuUsage();
          if (findSilence(silences, incident, now)) matched++;
          const used = process.cpuUsage(cpu);
          const took = (used.user + used.system) / 1000;
          cpuMs += took;
          slowestCpuMs = Math.max(slowestCpuMs, took);
          evaluated += incident.entities.length + 1;
        }
      } finally {
        evaluating = false;
        lag.disable();
        await probe;
      }
      return {
        matched,
        evaluated,
        elapsedMs: performance.now() - started,
        cpuPerIncidentUs: (cpuMs / count) * 1000,
        slowestCpuMs,
        maxLagMs: lag.max / 1e6,
        p99LagMs: lag.percentile(99) / 1e6,
        health,
      };
    }

    try {
      expect(findSilence(silences, matching, now)?.id).toBe(silence.id);
      // Other work on the machine only adds lag, so a pass that stays under the budget shows the
      // silence does not cause it; a real freeze would exceed it on every pass.
      let result = await measure();
      for (let pass = 1; pass < 5 && result.maxLagMs >= LAG_BUDGET_MS; pass++) result = await measure();
      process.stdout.write(
        `pathological silence (10 stars) vs ${count} incidents, ${result.evaluated} entities of 45-2000 chars: ` +
          `${result.elapsedMs.toFixed(0)} ms in all, ${result.cpuPerIncidentUs.toFixed(0)} µs CPU per incident ` +
          `(slowest ${result.slowestCpuMs.toFixed(1)} ms), event-loop lag max ${result.maxLagMs.toFixed(1)} ms ` +
          `(p99 ${result.p99LagMs.toFixed(1)} ms), /healthz ${result.health.length} answers, slowest ` +
          `${Math.max(...result.health).toFixed(1)} ms\n`,
      );
      expect(result.matched).toBe(0);
      expect(result.slowestCpuMs).toBeLessThan(LAG_BUDGET_MS);
      expect(result.maxLagMs).toBeLessThan(LAG_BUDGET_MS);
      expect(result.health.length).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  }, 120_000);

  it('is refused by the API: more than 8 stars, match-all and over-broad silences get 400 naming the field', async () => {
    const app = await createHttpApp({
      logger,
      store,
      outbox: undefined,
      health: { checks: {}, isStopping: () => false },
    });
    try {
      for (const [entity, message] of [
        [`host:${'*a'.repeat(9)}*ab`, /^body\/entity has 10 stars; at most 8/],
        ['*:*', /^body\/entity matches every entity/],
        ['host:*', /^body\/entity is too broad/],
      ] as const) {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/silences',
          payload: { entity, duration: '1h', by: 'mallory' },
        });
        expect(res.statusCode, entity).toBe(400);
        expect((res.json() as { message: string }).message).toMatch(message);
      }
      const kindOnly = await app.inject({
        method: 'POST',
        url: '/api/v1/silences',
        payload: { kind: '*', duration: '1h', by: 'mallory' },
      });
      expect(kindOnly.statusCode).toBe(400);
      expect((kindOnly.json() as { message: string }).message).toMatch(/^body\/kind /);
    } finally {
      await app.close();
    }
  });
});
