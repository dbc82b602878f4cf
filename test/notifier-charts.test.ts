import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeriesHistory } from '../src/charts/series-history.ts';
import { ManualClock, type Signal } from '../src/core/index.ts';
import { Correlator } from '../src/correlation/correlator.ts';
import { createDynamoIncidentStore } from '../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../src/incidents/embedded-dynamo.ts';
import type { IncidentStore } from '../src/incidents/store.ts';
import { createSlackChannel } from '../src/notify/channels/slack.ts';
import { Notifier } from '../src/notify/notifier.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { createGuardianMetrics } from '../src/telemetry/metrics.ts';
import { startSlackStandIn } from './fakes/slack-api.ts';

const TOKEN = 'xoxb-charts-test';
const T0 = Date.parse('2026-03-02T02:00:00Z');
const SERIES = 'metric:system.memory.utilization{host.name="10.0.3.17"}';
const logger = silentLogger();

function breach(): Signal {
  return {
    fingerprint: `fp_${Math.random().toString(36).slice(2)}`,
    kind: 'metric.threshold',
    status: 'firing',
    entity: SERIES,
    related: ['host:10.0.3.17'],
    time: T0 + 60 * 30_000,
    severity: 'high',
    title: 'Spark worker memory above 90%',
    evidence: [
      { kind: 'value', label: 'observed', value: 0.97, unit: '1' },
      { kind: 'value', label: 'threshold (>)', value: 0.9, unit: '1' },
    ],
    detector: 'metric-threshold',
  };
}

/**
 * A metric incident's chart in its Slack thread: drawn from the series history, uploaded with
 * Slack's external upload (files.getUploadURLExternal, the upload URL, files.completeUploadExternal)
 * to the Slack Web API stand-in, once; an upload that fails never holds up the message.
 */
describe('charts in the thread', () => {
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ port: 0, logger });
    slack = await startSlackStandIn({ token: TOKEN });
  });
  afterAll(async () => {
    await slack?.close();
    await dynamo?.close();
  });

  async function setUp() {
    const clock = new ManualClock(T0 + 61 * 30_000);
    const store: IncidentStore = createDynamoIncidentStore({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tableName: `charts-${Math.random().toString(36).slice(2)}`,
      createTable: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      logger,
    });
    await store.start();
    const history = new SeriesHistory();
    for (let i = 0; i <= 60; i++) history.record(SERIES, T0 + i * 30_000, i < 60 ? 0.5 : 0.97);
    const notifier = new Notifier({
      store,
      channel: createSlackChannel({ token: TOKEN, apiUrl: slack.url, logger }),
      clock,
      logger,
      slackChannel: '#alerts',
      history,
    });
    const correlator = new Correlator({ store, clock, logger, metrics: createGuardianMetrics() });
    const { incident, change } = await correlator.apply(breach());
    const notify = async () => {
      await notifier.handle({ incidentId: incident!.id, version: incident!.version, change });
      await notifier.settled();
    };
    return { store, notify, incident: incident! };
  }

  it('shares the chart of the breaching series in the thread, once', async () => {
    slack.calls.length = 0;
    const { store, notify, incident } = await setUp();
    await notify();
    const post = slack.messages().find((m) => !m.threadTs && m.text.includes('memory'))!;
    const files = slack.files().filter((f) => f.threadTs === post.ts);
    expect(files).toHaveLength(1);
    const file = files[0]!;
    expect(file.channel).toBe(post.channel);
    expect(file.filename).toMatch(/\.png$/);
    expect(file.title).toBe('Spark worker memory above 90%');
    expect(file.bytes!.length).toBe(file.length);
    const image = PNG.sync.read(file.bytes!);
    expect([image.width, image.height]).toEqual([800, 320]);
    expect(slack.calls.map((c) => c.method)).toEqual(
      expect.arrayContaining(['files.getUploadURLExternal', 'files.completeUploadExternal']),
    );
    // Another update of the same incident does not share it again.
    await notify();
    expect(slack.files().filter((f) => f.threadTs === post.ts)).toHaveLength(1);
    const timeline = await store.timeline(incident.id);
    expect(timeline.filter((e) => e.text.startsWith('chart shared'))).toHaveLength(1);
  });

  it('posts the message when the upload fails, and shares the chart on a later update', async () => {
    slack.calls.length = 0;
    slack.failNext('files.completeUploadExternal', { error: 'file_not_found' });
    const { notify } = await setUp();
    await notify();
    const post = slack.messages().findLast((m) => !m.threadTs)!;
    expect(slack.files().filter((f) => f.threadTs === post.ts)).toHaveLength(0);
    await notify();
    expect(slack.files().filter((f) => f.threadTs === post.ts)).toHaveLength(1);
  });
});
