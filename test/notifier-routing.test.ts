import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/index.ts';
import { createDynamoIncidentStore } from '../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../src/incidents/embedded-dynamo.ts';
import type { IncidentStore } from '../src/incidents/store.ts';
import { createSlackChannel } from '../src/notify/channels/slack.ts';
import { Notifier } from '../src/notify/notifier.ts';
import { AirflowClient, type DagInfo, DagInfoCache } from '../src/sources/airflow/client.ts';
import { type AirflowScenario, startAirflowStandIn } from '../src/stand-ins/airflow.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { incidentSignal, spotLossIncident, T0 } from './fakes/incidents.ts';
import { startSlackStandIn } from './fakes/slack-api.ts';

const TOKEN = 'xoxb-routing-test';
const logger = silentLogger();

const scenario: AirflowScenario = {
  dags: [
    { dag_id: 'payments_daily', owners: ['finance-data'], tags: ['gold', 'payments'] },
    { dag_id: 'orders_hourly', owners: ['airflow'], tags: ['silver'] },
  ],
};

/** An incident on one DAG (impact and entity keys name it), never posted. */
let nextSignal = 1;
function incidentOn(id: string, dag: string) {
  const signal = incidentSignal(nextSignal++, {
    entity: `airflow:task:${dag}/scheduled__2026-03-04T02:00:00+00:00/load`,
    related: [`airflow:dag:${dag}`],
  });
  return spotLossIncident(id, {
    signals: [signal],
    entities: [signal.entity, `airflow:dag:${dag}`],
    rootCause: { entity: signal.entity, kind: 'task_failed', confidence: 0.6 },
    impact: { dags: [dag], tasks: [], sparkJobs: 0 },
  });
}

/**
 * Routing by DAG owner and tag through the real notifier path: owners and tags from the Airflow
 * stand-in over HTTP (the real client, cached), the post to the Slack stand-in, the store on dynalite.
 */
describe('Routing by DAG owner and tag', () => {
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let airflow: Awaited<ReturnType<typeof startAirflowStandIn>>;
  let store: IncidentStore;
  let clock: ManualClock;

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ port: 0, logger });
    slack = await startSlackStandIn({ token: TOKEN });
    clock = new ManualClock(T0 + 60_000);
    airflow = await startAirflowStandIn({ scenario, clock, username: 'guardian', password: 'pw' });
  });
  afterAll(async () => {
    await airflow?.close();
    await slack?.close();
    await dynamo?.close();
  });
  beforeEach(async () => {
    store = createDynamoIncidentStore({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tableName: `routing-${Math.random().toString(36).slice(2)}`,
      createTable: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      logger,
    });
    await store.start();
  });

  function client(baseUrl = airflow.url) {
    return new AirflowClient({ baseUrl, username: 'guardian', password: 'pw', timeoutMs: 2000 });
  }

  /** A notifier routing by owner and tag through a DAG cache; `lookups` counts Airflow requests. */
  function notifier(baseUrl = airflow.url, log = logger) {
    const lookups: string[] = [];
    const c = client(baseUrl);
    const dags = new DagInfoCache({
      lookup: (dagId) => {
        lookups.push(dagId);
        return c.dag(dagId);
      },
      clock,
      ttlMs: 600_000,
    });
    const n = new Notifier({
      store,
      channel: createSlackChannel({ token: TOKEN, apiUrl: slack.url, logger }),
      clock,
      logger: log,
      slackChannel: '#alerts',
      routing: {
        dags: [],
        owners: { 'finance-data': '#finance-data' },
        tags: { silver: '#silver-models' },
        dagInfo: (dagId) => dags.get(dagId),
      },
    });
    return { notifier: n, lookups };
  }

  const postedTo = (incidentId: string) =>
    slack
      .messages()
      .filter(
        (m) =>
          !m.threadTs &&
          (m.metadata?.event_payload as { incident_id?: string } | undefined)?.incident_id === incidentId,
      )
      .map((m) => m.channel);

  it('reads owners and tags with the real client, and knows an unknown DAG from a missing route', async () => {
    expect(await client().dag('payments_daily')).toEqual({
      owners: ['finance-data'],
      tags: ['gold', 'payments'],
    });
    expect(await client().dag('no_such_dag')).toBeNull();
    // Airflow 3's own 404 body for an unknown DAG.
    const token = (
      (await (
        await fetch(`${airflow.url}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'guardian', password: 'pw' }),
        })
      ).json()) as { access_token: string }
    ).access_token;
    const res = await fetch(`${airflow.url}/api/v2/dags/no_such_dag`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: 'The Dag with ID: `no_such_dag` was not found' });
    const found = (await (
      await fetch(`${airflow.url}/api/v2/dags/payments_daily`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { tags: unknown; owners: unknown; file_token: unknown };
    expect(found.tags).toEqual([
      { name: 'gold', dag_id: 'payments_daily', dag_display_name: 'payments_daily' },
      { name: 'payments', dag_id: 'payments_daily', dag_display_name: 'payments_daily' },
    ]);
    expect(typeof found.file_token).toBe('string');
  });

  it('takes a bare 404 (a route the server does not have) for an error, not for an unknown DAG', async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/auth/token' ? 201 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/auth/token' ? { access_token: 't' } : { detail: 'Not Found' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await expect(client(url).dag('payments_daily')).rejects.toThrow(/HTTP 404: Not Found/);
    } finally {
      server.close();
    }
  });

  it('posts an incident on a DAG owned by finance-data to its channel, asking Airflow once', async () => {
    const { notifier: n, lookups } = notifier();
    await store.create(incidentOn('inc_owner', 'payments_daily'));
    await n.handle({ incidentId: 'inc_owner', version: 1, change: 'opened' });
    expect(postedTo('inc_owner')).toEqual([slack.channelId('#finance-data')]);

    // A second incident on the same DAG is routed from the cache.
    await store.create(incidentOn('inc_owner_2', 'payments_daily'));
    await n.handle({ incidentId: 'inc_owner_2', version: 1, change: 'opened' });
    expect(postedTo('inc_owner_2')).toEqual([slack.channelId('#finance-data')]);
    expect(lookups).toEqual(['payments_daily']);

    // By tag when no owner maps; by default for a DAG Airflow does not know.
    await store.create(incidentOn('inc_tag', 'orders_hourly'));
    await n.handle({ incidentId: 'inc_tag', version: 1, change: 'opened' });
    expect(postedTo('inc_tag')).toEqual([slack.channelId('#silver-models')]);
    await store.create(incidentOn('inc_unknown_dag', 'ghost_dag'));
    await n.handle({ incidentId: 'inc_unknown_dag', version: 1, change: 'opened' });
    expect(postedTo('inc_unknown_dag')).toEqual([slack.channelId('#alerts')]);
  });

  it('with Airflow down, posts to the default channel and says why in the log', async () => {
    const down = await startAirflowStandIn({ scenario, clock, username: 'guardian', password: 'pw' });
    const url = down.url;
    await down.close();
    const lines: { msg?: string; route?: string; level?: number }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const { notifier: n, lookups } = notifier(url, log);

    await store.create(incidentOn('inc_down', 'payments_daily'));
    await n.handle({ incidentId: 'inc_down', version: 1, change: 'opened' });
    expect(postedTo('inc_down')).toEqual([slack.channelId('#alerts')]);
    const posted = lines.find((l) => l.msg === 'incident posted');
    expect(posted?.route).toMatch(
      /^default \(owner\/tag rules skipped, DAG lookup failed: payments_daily: airflow: .*cannot connect/,
    );
    expect(lines.some((l) => l.msg === 'routed to the default channel')).toBe(true);

    // The next incident does not wait on the Airflow that just failed.
    await store.create(incidentOn('inc_down_2', 'orders_hourly'));
    await n.handle({ incidentId: 'inc_down_2', version: 1, change: 'opened' });
    expect(postedTo('inc_down_2')).toEqual([slack.channelId('#alerts')]);
    expect(lookups).toEqual(['payments_daily']);
  });
});

describe('DAG info cache', () => {
  const info = (owner: string): DagInfo => ({ owners: [owner], tags: [] });

  it('asks again after the TTL, forgets the least recently used beyond its size, shares one request', async () => {
    const clock = new ManualClock(0);
    const asked: string[] = [];
    let owner = 'a';
    const cache = new DagInfoCache({
      lookup: async (dag) => {
        asked.push(dag);
        return dag === 'ghost' ? null : info(`${owner}-${dag}`);
      },
      clock,
      ttlMs: 1000,
      maxEntries: 2,
    });
    const [x, y] = await Promise.all([cache.get('d1'), cache.get('d1')]);
    expect(x).toEqual(info('a-d1'));
    expect(y).toBe(x);
    expect(asked).toEqual(['d1']);
    expect(await cache.get('ghost')).toBeNull();
    expect(await cache.get('ghost')).toBeNull();
    expect(asked).toEqual(['d1', 'ghost']);

    await cache.get('d1'); // d1 is now the most recently used: d2 pushes ghost out
    await cache.get('d2');
    expect(cache.size).toBe(2);
    await cache.get('d1');
    await cache.get('ghost');
    expect(asked).toEqual(['d1', 'ghost', 'd2', 'ghost']);

    owner = 'b';
    await clock.advanceBy(1000);
    expect(await cache.get('d1')).toEqual(info('b-d1'));
  });

  it('fails fast for a while after Airflow failed, and keeps using an answer it already had', async () => {
    const clock = new ManualClock(0);
    let up = true;
    let calls = 0;
    const cache = new DagInfoCache({
      lookup: async (dag) => {
        calls++;
        if (!up) throw new Error('airflow: cannot connect (ECONNREFUSED)');
        return info(dag);
      },
      clock,
      ttlMs: 1000,
      retryAfterFailureMs: 30_000,
    });
    expect(await cache.get('known')).toEqual(info('known'));
    up = false;
    await clock.advanceBy(5000);
    // Expired, Airflow down: the old answer serves.
    expect(await cache.get('known')).toEqual(info('known'));
    expect(calls).toBe(2);
    await expect(cache.get('new')).rejects.toThrow(/ECONNREFUSED/);
    expect(calls).toBe(2);
    up = true;
    await clock.advanceBy(30_000);
    expect(await cache.get('new')).toEqual(info('new'));
    expect(calls).toBe(3);
  });
});
