import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Incident, ManualClock } from '../src/core/index.ts';
import { createHttpApp } from '../src/http/app.ts';
import { createDynamoIncidentStore } from '../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../src/incidents/embedded-dynamo.ts';
import type { IncidentStore } from '../src/incidents/store.ts';
import { createSlackChannel } from '../src/notify/channels/slack.ts';
import { Notifier, type NotifyJob } from '../src/notify/notifier.ts';
import { createInProcessQueueBackend } from '../src/queue/in-process.ts';
import type { QueueBackend, WorkQueue } from '../src/queue/queue.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { incidentSignal, spotLossIncident } from './fakes/incidents.ts';
import { startSlackStandIn } from './fakes/slack-api.ts';
import { delivered } from './support/delivered.ts';

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
    version: 1,
  };
}

/** The HTTP API through `app.inject()`, on the real DynamoDB store served by embedded dynalite. */
describe('HTTP API', () => {
  let app: FastifyInstance;
  let store: IncidentStore;
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let backend: QueueBackend;
  let notify: WorkQueue<NotifyJob>;
  let notifier: Notifier;
  const clock = new ManualClock(Date.parse('2026-03-04T03:00:00Z'));
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
    // Actions update the Slack message the way the Slack app's buttons do: a notify job.
    slack = await startSlackStandIn({ token: 'xoxb-http-api' });
    notifier = new Notifier({
      store,
      channel: createSlackChannel({ token: 'xoxb-http-api', apiUrl: slack.url, logger }),
      clock,
      logger,
      slackChannel: '#alerts',
    });
    backend = createInProcessQueueBackend({ clock, logger });
    notify = backend.queue<NotifyJob>('notify', { attempts: 3, backoffMs: 1000 });
    notify.process((job) => notifier.handle(job.data), { concurrency: 1 });
    app = await createHttpApp({
      logger,
      store,
      clock,
      requestUpdate: (incidentId) =>
        notify.add(`${incidentId}@action@${clock.now()}`, { incidentId, version: 0, change: 'action' }),
      outbox: () => [{ method: 'post', channel: '#c', ts: '1.000001', text: 'hello', blocks: [], at: t0 }],
      health: { checks: { store: () => store.ping(), queue: async () => ready }, isStopping: () => false },
    });
  });

  afterAll(async () => {
    await app?.close();
    await backend?.close();
    await slack?.close();
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

  it('shows the root cause with its evidence and the impact in DAG terms', async () => {
    const inc = spotLossIncident('inc_test_impact', {
      quiet: false,
      signals: [incidentSignal(901, { fingerprint: 'fp_impact' })],
    });
    await store.create(inc);
    const res = await app.inject({ url: '/api/v1/incidents/inc_test_impact' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      rootCause: {
        entity: 'host:10.0.4.161',
        kind: 'spot_interruption',
        confidence: 0.85,
        evidence: ['worker went DEAD at 02:10:13', '4 executors lost on the host'],
      },
      impact: {
        dags: ['payments_daily'],
        tasks: [{ dagId: 'payments_daily', taskId: 'silver_2', state: 'failed' }],
        sparkJobs: 1,
      },
      quiet: false,
    });
    const list = await app.inject({ url: '/api/v1/incidents', query: { limit: '100' } });
    const summary = (list.json() as { incidents: { id: string; impact?: unknown }[] }).incidents.find(
      (i) => i.id === 'inc_test_impact',
    );
    expect(summary?.impact).toMatchObject({ dags: ['payments_daily'], sparkJobs: 1 });
  });

  it.each([
    [{ limit: '0' }, /limit/],
    [{ limit: '101' }, /limit/],
    [{ status: 'closed' }, /status/],
    [{ from: 'yesterday' }, /from/],
    [{ colour: 'red' }, /querystring must NOT have additional properties \(colour\)/],
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

  describe('silences', () => {
    const post = (payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/api/v1/silences', payload });

    it('creates, lists and ends a silence', async () => {
      const created = await post({
        kind: 'spot_interruption',
        entity: 'host:10.0.4.*',
        duration: '2h',
        by: 'ana',
        reason: 'spot capacity rebalancing tonight',
      });
      expect(created.statusCode).toBe(201);
      const silence = created.json() as { id: string; expiresAt: string };
      expect(created.json()).toMatchObject({
        kind: 'spot_interruption',
        entity: 'host:10.0.4.*',
        createdAt: '2026-03-04T03:00:00.000Z',
        expiresAt: '2026-03-04T05:00:00.000Z',
        createdBy: { id: 'ana', via: 'api' },
        reason: 'spot capacity rebalancing tonight',
        active: true,
      });
      const until = await post({ entity: 'spark:connect:*', until: '2026-03-05T03:00:00Z', by: 'bo' });
      expect(until.statusCode).toBe(201);
      expect(until.json()).toMatchObject({ expiresAt: '2026-03-05T03:00:00.000Z', active: true });
      expect(until.json()).not.toHaveProperty('kind');

      const listed = (await app.inject({ url: '/api/v1/silences' })).json() as { silences: { id: string }[] };
      // In id order, the same on every read.
      expect(listed.silences.map((s) => s.id)).toEqual(
        [silence.id, (until.json() as { id: string }).id].sort(),
      );

      await clock.advanceBy(60_000);
      const ended = await app.inject({
        method: 'DELETE',
        url: `/api/v1/silences/${silence.id}`,
        query: { by: 'ana' },
      });
      expect(ended.statusCode).toBe(200);
      expect(ended.json()).toMatchObject({
        id: silence.id,
        expiresAt: '2026-03-04T03:01:00.000Z',
        active: false,
      });
      const after = (await app.inject({ url: '/api/v1/silences' })).json() as { silences: { id: string }[] };
      expect(after.silences.map((s) => s.id)).toEqual([(until.json() as { id: string }).id]);
      // Ending it again keeps its end where it was.
      await clock.advanceBy(60_000);
      const again = await app.inject({ method: 'DELETE', url: `/api/v1/silences/${silence.id}` });
      expect(again.json()).toMatchObject({ expiresAt: '2026-03-04T03:01:00.000Z', active: false });
      const unknown = await app.inject({ method: 'DELETE', url: '/api/v1/silences/sil_nope' });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toMatchObject({ code: 'not_found', message: 'no silence sil_nope' });
      await app.inject({ method: 'DELETE', url: `/api/v1/silences/${(until.json() as { id: string }).id}` });
    });

    it('lists active silences a page at a time: every one once, expired ones left out, bad pages named', async () => {
      const made: string[] = [];
      for (let n = 0; n < 23; n++) {
        const res = await post({
          entity: `host:10.7.0.${n}`,
          duration: n % 4 === 0 ? '1m' : '2h',
          by: 'ana',
        });
        if (n % 4 !== 0) made.push((res.json() as { id: string }).id);
      }
      // The one-minute silences end: they stay stored (TTL deletes them later) and are skipped.
      await clock.advanceBy(2 * 60_000);
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await app.inject({
          url: '/api/v1/silences',
          query: { limit: '5', ...(cursor ? { cursor } : {}) },
        });
        expect(res.statusCode).toBe(200);
        const body = res.json() as { silences: { id: string; active: boolean }[]; nextCursor: string | null };
        sizes.push(body.silences.length);
        seen.push(...body.silences.map((s) => s.id));
        expect(body.silences.every((s) => s.active)).toBe(true);
        cursor = body.nextCursor;
      } while (cursor);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(5);
      expect(sizes.length).toBeGreaterThanOrEqual(4);
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual([...made].sort());

      for (const [query, field] of [
        [{ limit: '0' }, /limit/],
        [{ limit: '101' }, /limit/],
        [{ cursor: 'bm90LWEtY3Vyc29y' }, /cursor/],
        // A cursor of the incidents list is not one of silences.
        [
          { cursor: Buffer.from(JSON.stringify({ PK: 'INCIDENT#x', SK: 'META' })).toString('base64url') },
          /cursor/,
        ],
      ] as const) {
        const res = await app.inject({ url: '/api/v1/silences', query });
        expect(res.statusCode).toBe(400);
        expect((res.json() as { message: string }).message).toMatch(field);
      }
      for (const id of made) await app.inject({ method: 'DELETE', url: `/api/v1/silences/${id}` });
    });

    it('mutes new matching incidents: stored, not posted', async () => {
      const created = (await post({ kind: 'spot_interruption', duration: '1h', by: 'ana' })).json() as {
        id: string;
      };
      const muted = spotLossIncident('inc_api_muted', {
        signals: [incidentSignal(201), incidentSignal(202)],
      });
      await store.create(muted);
      await notify.add('muted', { incidentId: muted.id, version: 1, change: 'opened' });
      await notify.idle();
      expect(slack.messages()).toEqual([]);
      expect((await store.timeline(muted.id)).map((e) => e.type)).toEqual(['silenced']);
      await app.inject({ method: 'DELETE', url: `/api/v1/silences/${created.id}` });
      await store.update({ ...muted, status: 'resolved', resolvedAt: clock.now(), version: 2 });
    });

    it.each([
      [{ kind: 'k', duration: '1h' }, /by/],
      [{ duration: '1h', by: 'ana' }, /kind or entity/],
      [{ kind: 'k', by: 'ana' }, /duration or until/],
      [
        { kind: 'k', duration: '1h', until: '2026-03-04T05:00:00Z', by: 'ana' },
        /duration or until, not both/,
      ],
      [{ kind: 'k', duration: 'soon', by: 'ana' }, /^body\/duration "soon" is not a duration/],
      [{ kind: 'k', duration: '31d', by: 'ana' }, /^body\/duration must be between 1m and 30d/],
      [{ kind: 'k', duration: '10s', by: 'ana' }, /^body\/duration/],
      [{ kind: 'k', until: '2026-03-01T00:00:00Z', by: 'ana' }, /^body\/until must be between/],
      [{ kind: 'k', until: 'tomorrow', by: 'ana' }, /until/],
      [{ entity: '*', duration: '1h', by: 'ana' }, /^body\/entity matches every entity/],
      [{ kind: '', duration: '1h', by: 'ana' }, /kind/],
      [{ kind: 'k', duration: '1h', by: '   ' }, /^body\/by/],
      [{ kind: 'k', duration: '1h', by: 'ana', colour: 'red' }, /additional properties \(colour\)/],
    ])('rejects %j with 400 naming the field', async (payload, field) => {
      const res = await post(payload);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ statusCode: 400, code: 'invalid_request' });
      expect((res.json() as { message: string }).message).toMatch(field);
    });
  });

  describe('incident actions', () => {
    const act = (id: string, payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: `/api/v1/incidents/${id}/actions`, payload });

    it('acknowledges, resolves and reopens with who did it, in the timeline and in Slack', async () => {
      const incident = spotLossIncident('inc_api_act', {
        signals: [incidentSignal(301), incidentSignal(302)],
      });
      await store.create(incident);
      await notify.add('act-post', { incidentId: incident.id, version: 1, change: 'opened' });
      await notify.idle();
      const ts = (await delivered(store, incident.id))!.slack!.ts;
      expect(ts).not.toBe('');
      const thread = () => slack.messages().filter((m) => m.threadTs === ts);
      const top = () => slack.messages().find((m) => m.ts === ts)!;

      const ack = await act(incident.id, { action: 'acknowledge', by: 'ana' });
      expect(ack.statusCode).toBe(200);
      expect(ack.json()).toMatchObject({
        changed: true,
        incident: { id: incident.id, status: 'acknowledged' },
      });
      await notify.idle();
      expect(top().edits).toBeGreaterThanOrEqual(1);
      expect(thread()).toHaveLength(1);
      expect(JSON.stringify(thread()[0]!.blocks)).toContain('*Acknowledged* by ana');

      const twice = await act(incident.id, { action: 'acknowledge', by: 'ana' });
      expect(twice.json()).toMatchObject({
        changed: false,
        message: `${incident.id} is already acknowledged`,
      });
      await notify.idle();
      expect(thread()).toHaveLength(1);

      await clock.advanceBy(1000);
      expect((await act(incident.id, { action: 'resolve', by: 'bo' })).json()).toMatchObject({
        changed: true,
        incident: { status: 'resolved' },
      });
      await notify.idle();
      expect(String(top().text)).toMatch(/^\[RESOLVED\]/);
      await clock.advanceBy(1000);
      expect((await act(incident.id, { action: 'reopen', by: 'cy' })).json()).toMatchObject({
        changed: true,
        incident: { status: 'open' },
      });
      await notify.idle();
      expect(thread().map((m) => JSON.stringify(m.blocks))).toEqual([
        expect.stringContaining('Acknowledged* by ana'),
        expect.stringContaining('Resolved'),
        expect.stringContaining('Reopened* by cy'),
      ]);

      const detail = (await app.inject({ url: `/api/v1/incidents/${incident.id}` })).json() as {
        timeline: { type: string; text: string; actor?: { id: string; via: string } }[];
      };
      expect(detail.timeline.filter((e) => e.actor)).toEqual([
        expect.objectContaining({
          type: 'acknowledged',
          text: 'acknowledged by ana',
          actor: { id: 'ana', via: 'api' },
        }),
        expect.objectContaining({
          type: 'resolved',
          text: 'resolved by bo',
          actor: { id: 'bo', via: 'api' },
        }),
        expect.objectContaining({
          type: 'reopened',
          text: 'reopened by cy',
          actor: { id: 'cy', via: 'api' },
        }),
      ]);
    });

    it('answers 404 for an unknown incident and 400 naming the field for a bad action', async () => {
      const unknown = await act('inc_nope', { action: 'resolve', by: 'ana' });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toMatchObject({ code: 'not_found', message: 'no incident inc_nope' });
      for (const [payload, field] of [
        [{ action: 'close', by: 'ana' }, /action/],
        [{ action: 'resolve' }, /by/],
        [{ action: 'resolve', by: ' ' }, /^body\/by/],
        [{ by: 'ana' }, /action/],
      ] as const) {
        const res = await act('inc_test_001', payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect((res.json() as { message: string }).message).toMatch(field);
      }
      expect((await store.get('inc_test_001'))!.status).toBe('open');
    });

    it('lists the new routes in the OpenAPI document', async () => {
      const doc = (await app.inject({ url: '/docs/json' })).json() as {
        paths: Record<string, Record<string, unknown>>;
      };
      expect(Object.keys(doc.paths['/api/v1/silences']!)).toEqual(expect.arrayContaining(['get', 'post']));
      expect(Object.keys(doc.paths['/api/v1/silences/{id}']!)).toEqual(['delete']);
      expect(Object.keys(doc.paths['/api/v1/incidents/{id}/actions']!)).toEqual(['post']);
    });
  });
});
