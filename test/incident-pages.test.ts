import type { FastifyInstance } from 'fastify';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeriesHistory } from '../src/charts/series-history.ts';
import { type Incident, ManualClock } from '../src/core/index.ts';
import { createHttpApp } from '../src/http/app.ts';
import { LinkSigner } from '../src/http/signed-links.ts';
import type { IncidentStore } from '../src/incidents/store.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { spotLossIncident } from './fakes/incidents.ts';
import { startEmbeddedStore } from './support/embedded-store.ts';

const T0 = Date.parse('2026-09-14T02:00:00Z');
const SERIES = 'metric:system.memory.utilization{host.name="10.0.6.44",service.name="spark-worker"}';

/** A metric incident whose text tries to become markup. */
const metricIncident: Incident = {
  id: 'inc_metric_1',
  status: 'open',
  severity: 'high',
  title: 'Memory <script>alert(1)</script> above 90%',
  openedAt: T0 + 45 * 60_000,
  updatedAt: T0 + 45 * 60_000,
  resolvedAt: null,
  rootCause: {
    entity: SERIES,
    kind: 'metric.threshold',
    confidence: 0.6,
    title: 'Spark worker 10.0.6.44 memory above 90%',
    evidence: ['observed 0.95 > 0.9 since 02:45 <b>'],
  },
  entities: [SERIES, 'host:10.0.6.44'],
  signals: [
    {
      fingerprint: 'thr_1',
      kind: 'metric.threshold',
      entity: SERIES,
      related: ['host:10.0.6.44'],
      status: 'firing',
      severity: 'high',
      title: 'system.memory.utilization > 0.9 on spark-worker 10.0.6.44',
      detector: 'metric-threshold',
      firstSeen: T0 + 45 * 60_000,
      lastSeen: T0 + 45 * 60_000,
      count: 1,
      evidence: [
        { kind: 'value', label: 'observed', value: 0.95, unit: '1' },
        { kind: 'value', label: 'threshold (>)', value: 0.9, unit: '1' },
      ],
    },
  ],
  version: 1,
};

/** The pages through `app.inject()`, on the real DynamoDB store served by embedded dynalite. */
describe('incident pages', () => {
  let app: FastifyInstance;
  let store: IncidentStore;
  let embedded: Awaited<ReturnType<typeof startEmbeddedStore>>;
  const clock = new ManualClock(T0 + 60 * 60_000);
  const signer = new LinkSigner('a-secret-of-at-least-thirty-two-characters', 3_600_000);
  const history = new SeriesHistory();

  beforeAll(async () => {
    const logger = silentLogger();
    embedded = await startEmbeddedStore('pages');
    store = embedded.store;
    await store.create(metricIncident);
    // Posted: the delivery ledger says where, which the page links to.
    await store.putDelivery({
      incidentId: metricIncident.id,
      version: 1,
      thread: { channel: 'C0123456789', ts: '1789.000100', claimedAt: T0, digest: 'x' },
    });
    await store.create(spotLossIncident('inc_spot_1'));
    for (let i = 0; i < 120; i++) history.record(SERIES, T0 + i * 30_000, i < 90 ? 0.4 : 0.95);
    app = await createHttpApp({
      logger,
      store,
      clock,
      outbox: undefined,
      health: { checks: {}, isStopping: () => false },
      pages: { history, signer },
    });
  });

  afterAll(async () => {
    await app?.close();
    await embedded?.close();
  });

  it('links / to the incident list, and the list to each incident', async () => {
    const root = await app.inject('/');
    expect(root.statusCode).toBe(200);
    expect(root.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(root.body).toContain('href="/incidents"');
    const list = await app.inject('/incidents');
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain('href="/incidents/inc_metric_1"');
    expect(list.body).toContain(`href="/incidents/${spotLossIncident('inc_spot_1').id}"`);
  });

  it('shows cause, impact by DAG and task, and the timeline, with every text escaped', async () => {
    const res = await app.inject(`/incidents/${spotLossIncident('inc_spot_1').id}`);
    expect(res.statusCode).toBe(200);
    const incident = spotLossIncident('inc_spot_1');
    expect(res.body).toContain('Probable cause');
    expect(res.body).toContain(incident.rootCause!.entity);
    for (const dag of incident.impact?.dags ?? []) expect(res.body).toContain(dag);
    const metric = await app.inject('/incidents/inc_metric_1');
    expect(metric.body).not.toContain('<script>alert(1)</script>');
    expect(metric.body).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(metric.body).not.toContain('<b>');
    expect(metric.headers['content-security-policy']).toContain("default-src 'none'");
    expect(metric.body).toContain('https://slack.com/app_redirect?channel=C0123456789');
  });

  it('draws the chart of a metric incident from the series history', async () => {
    const res = await app.inject('/incidents/inc_metric_1');
    expect(res.body).toContain('src="/incidents/inc_metric_1/charts/0.png"');
    const png = await app.inject('/incidents/inc_metric_1/charts/0.png');
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    const image = PNG.sync.read(png.rawPayload);
    expect([image.width, image.height]).toEqual([800, 320]);
    expect((await app.inject('/incidents/inc_metric_1/charts/1.png')).statusCode).toBe(404);
    expect((await app.inject('/incidents/nope/charts/0.png')).statusCode).toBe(404);
  });

  it('keeps a valid signature on the links to its charts, and drops a forged or expired one', async () => {
    const query = signer.sign('inc_metric_1', clock.now());
    const signed = await app.inject(`/incidents/inc_metric_1?${query}`);
    expect(signed.body).toContain(`/charts/0.png?${query.replace('&', '&#38;')}`);
    const forged = await app.inject(
      `/incidents/inc_metric_1?${query.replace(/sig=(.)/, (_, c) => `sig=${c === 'A' ? 'B' : 'A'}`)}`,
    );
    expect(forged.body).toContain('src="/incidents/inc_metric_1/charts/0.png"');
    const { exp, sig } = Object.fromEntries(new URLSearchParams(query));
    expect(signer.verify('inc_metric_1', exp, sig, clock.now())).toBe(true);
    expect(signer.verify('inc_other', exp, sig, clock.now())).toBe(false);
    const later = clock.now() + 3_600_001;
    expect(signer.verify('inc_metric_1', exp, sig, later)).toBe(false);
  });

  it('answers an unknown incident with a 404 page', async () => {
    const res = await app.inject('/incidents/inc_none');
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('Not found');
  });
});
