import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { createGuardian, type Guardian } from '../src/main.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { startSlackStandIn } from './fakes/slack-api.ts';
import { eventually } from './support/eventually.ts';
import { startRedis } from './support/redis.ts';

const TOKEN = 'xoxb-e2e-secret-token';

/**
 * The whole pipeline, as users run it: the real OpenTelemetry exporter pushes a series to the
 * OTLP receiver, the threshold detector fires, the correlator opens an incident in the (embedded
 * dynalite) store, and the notifier posts one Slack message to a Slack Web API stand-in, edits it
 * and replies in its thread as the incident changes. Run with each queue implementation.
 */
describe.each(['in-process', 'bullmq'] as const)('Guardian end to end (%s queue)', (queueKind) => {
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
  let guardian: Guardian;
  let url: string;
  let dataDir: string;
  let value = 0.5;
  let provider: MeterProvider;
  let reader: PeriodicExportingMetricReader;

  beforeAll(async () => {
    slack = await startSlackStandIn({ token: TOKEN });
    if (queueKind === 'bullmq') redis = await startRedis();
    dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-e2e-'));
    const config = parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      queue: redis ? { redisUrl: redis.url } : {},
      notify: { groupWait: 0 },
      slack: { token: TOKEN, apiUrl: slack.url, channel: '#data-platform-alerts' },
      detection: {
        tick: 200,
        thresholds: [
          {
            id: 'worker-memory',
            metric: 'system.memory.utilization',
            match: { 'service.name': 'spark-worker' },
            op: '>',
            value: 0.9,
            severity: 'high',
            title: 'Spark worker memory above 90%',
          },
        ],
      },
    });
    guardian = await createGuardian(config, { logger: silentLogger() });
    url = await guardian.listen();

    reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: `${url}/v1/metrics` }),
      exportIntervalMillis: 3_600_000,
    });
    provider = new MeterProvider({
      readers: [reader],
      resource: (await import('@opentelemetry/resources')).resourceFromAttributes({
        'service.name': 'spark-worker',
        'host.name': '10.0.3.17',
      }),
    });
    provider
      .getMeter('e2e')
      .createObservableGauge('system.memory.utilization', { unit: '1' })
      .addCallback((result) => result.observe(value, { state: 'used' }));
  });

  afterAll(async () => {
    await provider?.shutdown();
    await guardian?.stop();
    await redis?.stop();
    await slack?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function push(v: number) {
    value = v;
    await reader.forceFlush();
    await guardian.idle();
  }

  async function incidents() {
    const res = await fetch(`${url}/api/v1/incidents`);
    expect(res.status).toBe(200);
    return (await res.json()) as {
      incidents: { id: string; status: string; title: string; slack: unknown }[];
    };
  }

  const topLevelPosts = () =>
    slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.params.thread_ts);

  it('opens one incident and posts one Slack message when the series breaches', async () => {
    await push(0.5);
    expect((await incidents()).incidents).toEqual([]);
    await push(0.95);
    const list = await eventually(async () => {
      const l = await incidents();
      expect(l.incidents).toHaveLength(1);
      expect(l.incidents[0]!.slack).not.toBeNull();
      return l;
    });
    expect(list.incidents[0]).toMatchObject({ status: 'open', title: 'Spark worker memory above 90%' });
    expect(topLevelPosts()).toHaveLength(1);
    const post = topLevelPosts()[0]!;
    expect(post.params.channel).toBe('#data-platform-alerts');
    expect(String(post.params.text)).toContain('Spark worker memory above 90%');
    expect(JSON.stringify(slack.calls)).not.toContain(TOKEN);
  });

  it('adds no second top-level post while the series keeps breaching', async () => {
    await push(0.97);
    await push(0.99);
    expect((await incidents()).incidents).toHaveLength(1);
    expect(topLevelPosts()).toHaveLength(1);
  });

  it('resolves the incident and updates the Slack message when the series recovers', async () => {
    await push(0.4);
    const [incident] = await eventually(async () => {
      const l = await incidents();
      expect(l.incidents[0]!.status).toBe('resolved');
      return l.incidents;
    });
    const postTs = (incident!.slack as { ts: string }).ts;
    await eventually(() => {
      const updates = slack.calls.filter((c) => c.method === 'chat.update' && c.params.ts === postTs);
      expect(updates.length).toBeGreaterThanOrEqual(1);
      expect(String(updates.at(-1)!.params.text)).toMatch(/resolved/i);
    });
    expect(topLevelPosts()).toHaveLength(1);

    const detail = (await (await fetch(`${url}/api/v1/incidents/${incident!.id}`)).json()) as {
      timeline: { type: string; text: string }[];
      notifications: { kind: string }[];
      signals: { status: string }[];
    };
    expect(detail.timeline.filter((e) => e.type !== 'notified').map((e) => e.type)).toEqual([
      'opened',
      'signal_resolved',
      'resolved',
    ]);
    // The details (signals, evidence) went to the thread after the first post, and the series'
    // chart once; the timeline says so.
    expect(
      detail.timeline
        .filter((e) => e.type === 'notified')
        .map((e) => e.text)
        .sort(),
    ).toEqual(['chart shared in the thread: Spark worker memory above 90%', 'details told in the thread']);
    expect(slack.files().filter((f) => f.threadTs === postTs)).toHaveLength(1);
    expect(detail.signals.map((s) => s.status)).toEqual(['resolved']);
    expect(detail.notifications.map((n) => n.kind)).toContain('post');
    expect(detail.notifications.filter((n) => n.kind === 'post')).toHaveLength(1);
    expect(detail.notifications.map((n) => n.kind)).toContain('update');
  });
});
