import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type Signal } from '../src/core/index.ts';
import { Correlator } from '../src/correlation/correlator.ts';
import { createDynamoIncidentStore } from '../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../src/incidents/embedded-dynamo.ts';
import type { IncidentStore } from '../src/incidents/store.ts';
import { createSlackChannel } from '../src/notify/channels/slack.ts';
import { Notifier, type NotifyJob } from '../src/notify/notifier.ts';
import { createInProcessQueueBackend } from '../src/queue/in-process.ts';
import type { QueueBackend, WorkQueue } from '../src/queue/queue.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { createGuardianMetrics } from '../src/telemetry/metrics.ts';
import { startSlackStandIn } from './fakes/slack-api.ts';
import { delivered } from './support/delivered.ts';

const TOKEN = 'xoxb-notifier-test';
const t0 = Date.parse('2026-03-02T02:00:00Z');
const logger = silentLogger();
const metrics = createGuardianMetrics();

function signal(over: Partial<Signal> = {}): Signal {
  return {
    fingerprint: `fp_${Math.random().toString(36).slice(2)}`,
    kind: 'metric.threshold',
    status: 'firing',
    entity: 'metric:system.memory.utilization{host.name="10.0.3.17"}',
    related: ['host:10.0.3.17'],
    time: t0,
    severity: 'high',
    title: 'Spark worker memory above 90%',
    evidence: [{ kind: 'value', label: 'observed', value: 0.97 }],
    detector: 'metric-threshold',
    ...over,
  };
}

/**
 * The notifier against the real store (embedded dynalite), the real Slack client and a Slack Web
 * API stand-in, its jobs carried by the in-process queue on a virtual clock.
 */
describe('Notifier', () => {
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let store: IncidentStore;
  let clock: ManualClock;
  let backend: QueueBackend;
  let queue: WorkQueue<NotifyJob>;
  let correlator: Correlator;
  let deadLetters: string[];

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ port: 0, logger });
    slack = await startSlackStandIn({ token: TOKEN });
  });

  afterAll(async () => {
    await slack?.close();
    await dynamo?.close();
  });

  async function setUp(token = TOKEN, concurrency = 1) {
    clock = new ManualClock(t0);
    deadLetters = [];
    store = createDynamoIncidentStore({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tableName: `notifier-${Math.random().toString(36).slice(2)}`,
      createTable: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      logger,
    });
    await store.start();
    backend = createInProcessQueueBackend({ clock, logger, onDeadLetter: (_q, id) => deadLetters.push(id) });
    queue = backend.queue<NotifyJob>(`notify-${Math.random()}`, { attempts: 5, backoffMs: 1000 });
    const notifier = new Notifier({
      store,
      channel: createSlackChannel({ token, apiUrl: slack.url, logger, metrics }),
      clock,
      logger,
      slackChannel: '#alerts',
    });
    queue.process((job) => notifier.handle(job.data), { concurrency });
    correlator = new Correlator({ store, clock, logger, metrics });
  }

  beforeEach(() => {
    slack.calls.length = 0;
  });

  async function open(s: Signal) {
    const { incident, change } = await correlator.apply(s);
    await queue.add(`${incident!.id}@${incident!.version}`, {
      incidentId: incident!.id,
      version: incident!.version,
      change,
    });
    await queue.idle();
    return incident!;
  }

  const posts = () => slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.params.thread_ts);

  it('posts once, and sends nothing when a repeated job finds the message up to date', async () => {
    await setUp();
    const incident = await open(signal());
    expect(posts()).toHaveLength(1);
    await queue.add('again', { incidentId: incident.id, version: incident.version, change: 'opened' });
    await queue.idle();
    expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage']);
    const stored = await delivered(store, incident.id);
    expect(stored!.slack).toMatchObject({ channel: slack.channelId('#alerts') });
    expect(stored!.slack!.ts).not.toBe('');
    expect(stored!.notifications.map((n) => n.kind)).toEqual(['post']);
    await backend.close();
  });

  it('edits the post and replies in its thread when the incident resolves', async () => {
    await setUp();
    const s = signal();
    const incident = await open(s);
    const { incident: resolved, change } = await correlator.apply({
      ...s,
      status: 'resolved',
      time: t0 + 60_000,
    });
    expect(change).toBe('resolved');
    await queue.add('resolved', { incidentId: incident.id, version: resolved!.version, change });
    await queue.idle();
    const postTs = (await delivered(store, incident.id))!.slack!.ts;
    expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update', 'chat.postMessage']);
    expect(slack.calls[1]!.params.ts).toBe(postTs);
    expect(slack.calls[2]!.params.thread_ts).toBe(postTs);
    expect(posts()).toHaveLength(1);
    await backend.close();
  });

  it('honours Slack’s Retry-After on a 429 and still posts exactly once', async () => {
    await setUp();
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 3 });
    const s = signal();
    const { incident, change } = await correlator.apply(s);
    await queue.add('rl', { incidentId: incident!.id, version: incident!.version, change });
    await queue.idle();
    expect(posts()).toHaveLength(1); // the 429'd attempt
    expect((await delivered(store, incident!.id))!.slack).toBeNull(); // its claim was released
    await clock.advanceBy(2_000);
    await queue.idle();
    expect(slack.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    await clock.advanceBy(1_500);
    await queue.idle();
    const calls = slack.calls.filter((c) => c.method === 'chat.postMessage');
    expect(calls).toHaveLength(2);
    expect((await delivered(store, incident!.id))!.slack!.ts).not.toBe('');
    expect(
      (await delivered(store, incident!.id))!.notifications.filter((n) => n.kind === 'post'),
    ).toHaveLength(1);
    await backend.close();
  });

  it('never posts twice when two jobs for a new incident run at once', async () => {
    await setUp(TOKEN, 2);
    const { incident, change } = await correlator.apply(signal());
    await Promise.all([
      queue.add('a', { incidentId: incident!.id, version: incident!.version, change }),
      queue.add('b', { incidentId: incident!.id, version: incident!.version, change }),
    ]);
    await queue.idle();
    for (let i = 0; i < 10 && (await delivered(store, incident!.id))!.slack?.ts === ''; i++) {
      await clock.advanceBy(5_000);
      await queue.idle();
    }
    expect(posts()).toHaveLength(1);
    await backend.close();
  });

  it('does not retry a permanent Slack error (bad token): the job is dead-lettered', async () => {
    await setUp('xoxb-wrong');
    const { incident, change } = await correlator.apply(signal());
    await queue.add('bad-token', { incidentId: incident!.id, version: incident!.version, change });
    await queue.idle();
    await clock.advanceBy(60_000);
    await queue.idle();
    expect(slack.calls).toHaveLength(1);
    expect(deadLetters).toEqual(['bad-token']);
    await backend.close();
  });
});
