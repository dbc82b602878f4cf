import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../src/core/index.ts';
import { createHttpApp } from '../src/http/app.ts';
import { createDynamoIncidentStore } from '../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../src/incidents/embedded-dynamo.ts';
import type { IncidentStore } from '../src/incidents/store.ts';
import { silentLogger } from '../src/telemetry/logger.ts';

const t0 = Date.parse('2026-03-02T00:00:00Z');

function incident(n: number, status: Incident['status']): Incident {
  const openedAt = t0 + n * 60_000;
  return {
    id: `inc_test_${String(n).padStart(3, '0')}`,
    status,
    severity: 'high',
    title: `incident ${n}`,
    openedAt,
    updatedAt: openedAt,
    resolvedAt: status === 'resolved' ? openedAt + 1000 : null,
    rootCause: null,
    entities: [`host:h${n}`],
    signals: [
      {
        fingerprint: `fp_${n}`,
        kind: 'metric.threshold',
        entity: `host:h${n}`,
        related: [],
        status: status === 'resolved' ? 'resolved' : 'firing',
        severity: 'high',
        title: `signal ${n}`,
        detector: 'metric-threshold',
        firstSeen: openedAt,
        lastSeen: openedAt,
        count: 1,
        evidence: [{ kind: 'value', label: 'observed', value: n }],
      },
    ],
    notifications: [],
    slack: null,
    version: 1,
  };
}

/** The HTTP API through `app.inject()`, on the real DynamoDB store served by embedded dynalite. */
describe('HTTP API', () => {
  let app: FastifyInstance;
  let store: IncidentStore;
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;
  let ready = true;

  beforeAll(async () => {
    const logger = silentLogger();
    dynamo = await startEmbeddedDynamo({ port: 0, logger });
    store = createDynamoIncidentStore({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tableName: `http-api-${Date.now()}`,
      createTable: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      logger,
    });
    await store.start();
    for (let n = 1; n <= 30; n++) {
      const inc = incident(n, n % 3 === 0 ? 'resolved' : 'open');
      // A resolved incident is created open, then resolved: the store's normal life.
      await store.create({ ...inc, status: 'open', resolvedAt: null });
      if (inc.status === 'resolved') await store.update({ ...inc, version: 2 });
    }
    app = await createHttpApp({
      logger,
      store,
      outbox: () => [{ method: 'post', channel: '#c', ts: '1.000001', text: 'hello', blocks: [], at: t0 }],
      health: { checks: { store: () => store.ping(), queue: async () => ready }, isStopping: () => false },
    });
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
    await dynamo?.close();
  });

  it('lists incidents newest first with cursor pagination, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await app.inject({
        url: '/api/v1/incidents',
        query: { limit: '7', ...(cursor ? { cursor } : {}) },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { incidents: { id: string }[]; nextCursor: string | null };
      seen.push(...body.incidents.map((i) => i.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(30);
    expect(seen[0]).toBe('inc_test_030');
    expect(seen.at(-1)).toBe('inc_test_001');
    expect(new Set(seen).size).toBe(30);
  });

  it('filters by status and time range', async () => {
    const res = await app.inject({
      url: '/api/v1/incidents',
      query: {
        status: 'resolved',
        from: new Date(t0 + 10 * 60_000).toISOString(),
        to: new Date(t0 + 20 * 60_000).toISOString(),
      },
    });
    expect(res.statusCode).toBe(200);
    const ids = (res.json() as { incidents: { id: string; status: string }[] }).incidents.map((i) => i.id);
    expect(ids).toEqual(['inc_test_018', 'inc_test_015', 'inc_test_012']);
  });

  it('shows one incident with its signals and times as RFC 3339', async () => {
    const res = await app.inject({ url: '/api/v1/incidents/inc_test_003' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: 'inc_test_003',
      status: 'resolved',
      openedAt: '2026-03-02T00:03:00.000Z',
      resolvedAt: '2026-03-02T00:03:01.000Z',
      signals: [{ fingerprint: 'fp_3', status: 'resolved', evidence: [{ kind: 'value', value: 3 }] }],
    });
  });

  it.each([
    [{ limit: '0' }, /limit/],
    [{ limit: '101' }, /limit/],
    [{ status: 'closed' }, /status/],
    [{ from: 'yesterday' }, /from/],
    [{ colour: 'red' }, /colour|additional/],
  ])('rejects bad query %j with 400 naming the field', async (query, field) => {
    const res = await app.inject({ url: '/api/v1/incidents', query });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, code: 'invalid_request' });
    expect((res.json() as { message: string }).message).toMatch(field);
  });

  it('rejects a cursor it did not issue', async () => {
    const res = await app.inject({ url: '/api/v1/incidents', query: { cursor: 'bm90LWEtY3Vyc29y' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_cursor' });
  });

  it('answers 404 for an unknown incident and an unknown route', async () => {
    expect((await app.inject({ url: '/api/v1/incidents/inc_nope' })).json()).toMatchObject({
      statusCode: 404,
      code: 'not_found',
    });
    expect((await app.inject({ url: '/api/v2/nothing' })).statusCode).toBe(404);
  });

  it('reports liveness, and readiness from its checks', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({
      status: 'ready',
      checks: { store: true, queue: true },
    });
    ready = false;
    const res = await app.inject({ url: '/readyz' });
    ready = true;
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'not_ready', checks: { queue: false } });
  });

  it('serves the local outbox and the OpenAPI document', async () => {
    expect((await app.inject({ url: '/api/v1/messages' })).json()).toMatchObject({
      mode: 'local',
      messages: [{ channel: '#c', text: 'hello', at: '2026-03-02T00:00:00.000Z' }],
    });
    const doc = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/incidents', '/api/v1/incidents/{id}', '/healthz', '/readyz']),
    );
    expect((await app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
  });
});
