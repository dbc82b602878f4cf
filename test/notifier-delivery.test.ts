import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Incident, ManualClock } from '../src/core/index.ts';
import { createDynamoIncidentStore } from '../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../src/incidents/embedded-dynamo.ts';
import type { IncidentStore } from '../src/incidents/store.ts';
import { createSlackChannel } from '../src/notify/channels/slack.ts';
import { Notifier, type NotifierOptions, type NotifyJob } from '../src/notify/notifier.ts';
import { REPLY_EVENT_TYPE } from '../src/notify/reply-once.ts';
import { INCIDENT_EVENT_TYPE } from '../src/notify/template.ts';
import { loadPlaybooks } from '../src/playbooks/load.ts';
import { PlaybookCatalog } from '../src/playbooks/match.ts';
import { createInProcessQueueBackend } from '../src/queue/in-process.ts';
import type { QueueBackend, WorkQueue } from '../src/queue/queue.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { incidentSignal, spotLossIncident, T0 } from './fakes/incidents.ts';
import { startSlackStandIn } from './fakes/slack-api.ts';
import { delivered } from './support/delivered.ts';

const TOKEN = 'xoxb-delivery-test';
const logger = silentLogger();

/**
 * How the notifier delivers: exactly one top-level post even when Slack's answer is lost or the
 * process dies between posting and recording; quiet and silenced incidents not posted; thread
 * replies batched; routing by playbook with a fallback to the default channel. Real store
 * (dynalite), real Slack client, Slack stand-in, in-process queue on a virtual clock.
 */
describe('Notifier delivery', () => {
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let store: IncidentStore;
  let clock: ManualClock;
  let backend: QueueBackend;
  let queue: WorkQueue<NotifyJob>;
  let deadLetters: string[];

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ port: 0, logger });
    slack = await startSlackStandIn({ token: TOKEN, unknownChannels: ['#data-platform-oncall'] });
  });
  afterAll(async () => {
    await slack?.close();
    await dynamo?.close();
  });
  beforeEach(async () => {
    slack.calls.length = 0;
    clock = new ManualClock(T0 + 60_000);
    deadLetters = [];
    store = createDynamoIncidentStore({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tableName: `delivery-${Math.random().toString(36).slice(2)}`,
      createTable: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      logger,
    });
    await store.start();
    backend = createInProcessQueueBackend({ clock, logger, onDeadLetter: (_q, id) => deadLetters.push(id) });
    queue = backend.queue<NotifyJob>(`notify-${Math.random()}`, { attempts: 6, backoffMs: 1000 });
  });

  function notifier(over: Partial<NotifierOptions> = {}): Notifier {
    return new Notifier({
      store,
      channel: createSlackChannel({ token: TOKEN, apiUrl: slack.url, logger }),
      clock,
      logger,
      slackChannel: '#alerts',
      replyBatchMs: 30_000,
      ...over,
    });
  }

  function run(n: Notifier) {
    queue.process((job) => n.handle(job.data), { concurrency: 1 });
  }

  const topLevel = (id?: string) =>
    slack
      .messages()
      .filter(
        (m) =>
          !m.threadTs && (!id || (m.metadata?.event_payload as { incident_id?: string })?.incident_id === id),
      );
  const postCalls = () => slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.params.thread_ts);
  const replies = (ts: string) => slack.messages().filter((m) => m.threadTs === ts);

  async function create(incident: Incident) {
    await store.create(incident);
    return incident;
  }

  async function mutate(id: string, change: (i: Incident) => Partial<Incident>) {
    const current = (await store.get(id))!;
    const next = await store.update({ ...current, ...change(current), version: current.version + 1 });
    await queue.add(`${id}@${next.version}`, {
      incidentId: id,
      version: next.version,
      change: 'signal_added',
    });
    return next;
  }

  it('tags the post with the incident id in its metadata', async () => {
    run(notifier());
    const incident = await create(spotLossIncident('inc_meta'));
    await queue.add('a', { incidentId: incident.id, version: 1, change: 'opened' });
    await queue.idle();
    expect(topLevel()).toHaveLength(1);
    expect(topLevel()[0]!.metadata).toEqual({
      event_type: INCIDENT_EVENT_TYPE,
      event_payload: { incident_id: 'inc_meta' },
    });
    backend.close();
  });

  it('posts once when the process dies between posting and recording: the retry adopts the post', async () => {
    const incident = await create(spotLossIncident('inc_crash'));
    // The first process: Slack accepts the post, then the process dies before writing the ts.
    let crashed = false;
    const dying: IncidentStore = {
      ...store,
      async recordSent(id, record) {
        if (record.kind === 'post' && !crashed) {
          crashed = true;
          throw new Error('process killed (SIGKILL) while recording the post');
        }
        return store.recordSent(id, record);
      },
    };
    await expect(
      notifier({ store: dying }).handle({ incidentId: incident.id, version: 1, change: 'opened' }),
    ).rejects.toThrow(/SIGKILL/);
    expect(postCalls()).toHaveLength(1);
    const claimed = (await delivered(store, incident.id))!;
    expect(claimed.slack).toMatchObject({ ts: '' });

    // A new process picks the job up again (at-least-once delivery).
    await notifier().handle({ incidentId: incident.id, version: 1, change: 'opened' });
    expect(postCalls()).toHaveLength(1);
    expect(slack.calls.map((c) => c.method)).toContain('conversations.history');
    const stored = (await delivered(store, incident.id))!;
    expect(stored.slack!.ts).toBe(topLevel('inc_crash')[0]!.ts);
    expect(stored.notifications.filter((n) => n.kind === 'post')).toHaveLength(1);
    // And a later job neither posts nor adopts again.
    await notifier().handle({ incidentId: incident.id, version: 1, change: 'opened' });
    expect(postCalls()).toHaveLength(1);
    expect(topLevel('inc_crash')).toHaveLength(1);
  });

  /** Posts the incident, then acknowledges it in the store: the thread has a status change to hear. */
  async function postedThenAcknowledged(id: string) {
    const incident = await create(spotLossIncident(id));
    await notifier().handle({ incidentId: id, version: 1, change: 'opened' });
    const posted = (await store.get(id))!;
    await store.update({ ...posted, status: 'acknowledged', version: posted.version + 1 });
    return { incident, ts: (await delivered(store, id))!.slack!.ts };
  }
  const action: (id: string) => NotifyJob = (id) => ({ incidentId: id, version: 0, change: 'action' });
  const threadRecords = async (id: string) =>
    (await delivered(store, id))!.notifications.filter((n) => n.kind === 'thread');

  it('replies once when the process dies between sending a thread reply and recording it', async () => {
    const { incident, ts } = await postedThenAcknowledged('inc_reply_crash');
    let crashed = false;
    const dying: IncidentStore = {
      ...store,
      async recordSent(id, record) {
        if (!crashed && record.kind === 'thread') {
          crashed = true;
          throw new Error('process killed (SIGKILL) while recording the reply');
        }
        return store.recordSent(id, record);
      },
    };
    await expect(notifier({ store: dying }).handle(action(incident.id))).rejects.toThrow(/SIGKILL/);
    expect(replies(ts)).toHaveLength(1);
    const pending = (await store.getNotificationState(incident.id))!.pendingReply!;
    expect(pending).toMatchObject({ toldStatus: 'acknowledged' });
    expect(replies(ts)[0]!.metadata).toEqual({
      event_type: REPLY_EVENT_TYPE,
      event_payload: { incident_id: incident.id, reply_id: pending.id },
    });

    // A new process runs the job again: it finds the reply in the thread and records it.
    slack.calls.length = 0;
    await notifier().handle(action(incident.id));
    expect(replies(ts)).toHaveLength(1);
    expect(slack.calls.map((c) => c.method)).toContain('conversations.replies');
    expect((await threadRecords(incident.id)).map((n) => n.ts)).toEqual([replies(ts)[0]!.ts]);
    const state = (await store.getNotificationState(incident.id))!;
    expect(state.pendingReply).toBeUndefined();
    expect(state.toldStatus).toBe('acknowledged');
    // Later jobs have nothing more to say.
    await notifier().handle(action(incident.id));
    expect(replies(ts)).toHaveLength(1);
    expect(await threadRecords(incident.id)).toHaveLength(1);
  });

  it('replies once when the process dies after recording the reply but before ending its claim', async () => {
    const { incident, ts } = await postedThenAcknowledged('inc_reply_crash_2');
    let crashed = false;
    const dying: IncidentStore = {
      ...store,
      async putNotificationState(next) {
        const current = await store.getNotificationState(next.incidentId);
        if (!crashed && current?.pendingReply && !next.pendingReply) {
          crashed = true;
          throw new Error('process killed (SIGKILL) before ending the reply claim');
        }
        return store.putNotificationState(next);
      },
    };
    await expect(notifier({ store: dying }).handle(action(incident.id))).rejects.toThrow(/SIGKILL/);
    expect(await threadRecords(incident.id)).toHaveLength(1);
    await notifier().handle(action(incident.id));
    expect(replies(ts)).toHaveLength(1);
    expect(await threadRecords(incident.id)).toHaveLength(1);
    expect((await store.getNotificationState(incident.id))!.pendingReply).toBeUndefined();
  });

  it('replies once when Slack takes a thread reply but its answer is lost', async () => {
    const { incident, ts } = await postedThenAcknowledged('inc_reply_lost');
    run(notifier());
    slack.loseNextResponse('chat.postMessage');
    await queue.add('reply-lost', action(incident.id));
    await queue.idle();
    expect(replies(ts)).toHaveLength(1);
    await clock.advanceBy(2_000);
    await queue.idle();
    expect(replies(ts)).toHaveLength(1);
    expect((await threadRecords(incident.id)).map((n) => n.ts)).toEqual([replies(ts)[0]!.ts]);
    expect((await store.getNotificationState(incident.id))!.pendingReply).toBeUndefined();
    expect(deadLetters).toEqual([]);
    backend.close();
  });

  it('waits on a fresh reply claim that sent nothing, then sends once when it goes stale', async () => {
    const { incident, ts } = await postedThenAcknowledged('inc_reply_claimed');
    // What a process that died after claiming the reply, before sending it, leaves behind.
    const state = (await store.getNotificationState(incident.id))!;
    await store.putNotificationState({
      ...state,
      pendingReply: {
        id: 'rpl_never_sent',
        at: clock.now(),
        claimedAt: clock.now(),
        version: 2,
        told: state.told,
        toldSeverity: 'high',
        toldStatus: 'acknowledged',
      },
      version: state.version + 1,
    });
    await expect(notifier().handle(action(incident.id))).rejects.toMatchObject({ code: 'reply_in_progress' });
    expect(replies(ts)).toHaveLength(0);
    await clock.advanceBy(60_001);
    await notifier().handle(action(incident.id));
    expect(replies(ts)).toHaveLength(1);
    expect(JSON.stringify(replies(ts)[0]!.blocks)).toContain('*Acknowledged*');
    await notifier().handle(action(incident.id));
    expect(replies(ts)).toHaveLength(1);
  });

  it('posts once when Slack posts the message but its answer is lost', async () => {
    run(notifier());
    const incident = await create(spotLossIncident('inc_lost'));
    slack.loseNextResponse('chat.postMessage');
    await queue.add('lost', { incidentId: incident.id, version: 1, change: 'opened' });
    await queue.idle();
    expect(postCalls()).toHaveLength(1);
    expect((await delivered(store, incident.id))!.slack!.ts).toBe('');
    await clock.advanceBy(2_000);
    await queue.idle();
    expect(postCalls()).toHaveLength(1);
    expect(topLevel('inc_lost')).toHaveLength(1);
    const stored = (await delivered(store, incident.id))!;
    expect(stored.slack!.ts).toBe(topLevel('inc_lost')[0]!.ts);
    expect(deadLetters).toEqual([]);
    backend.close();
  });

  it('retries a post after a Slack 5xx without posting twice', async () => {
    run(notifier());
    const incident = await create(spotLossIncident('inc_5xx'));
    slack.failNext('chat.postMessage', { status: 503 });
    await queue.add('5xx', { incidentId: incident.id, version: 1, change: 'opened' });
    await queue.idle();
    await clock.advanceBy(2_000);
    await queue.idle();
    expect(topLevel('inc_5xx')).toHaveLength(1);
    expect(
      (await delivered(store, incident.id))!.notifications.filter((n) => n.kind === 'post'),
    ).toHaveLength(1);
    backend.close();
  });

  it('never posts a quiet incident, and posts it once it stops being quiet', async () => {
    run(notifier());
    const incident = await create(spotLossIncident('inc_quiet', { quiet: true }));
    await queue.add('q1', { incidentId: incident.id, version: 1, change: 'opened' });
    await queue.idle();
    expect(slack.calls).toEqual([]);
    await mutate(incident.id, () => ({ quiet: false }));
    await queue.idle();
    expect(topLevel('inc_quiet')).toHaveLength(1);
    backend.close();
  });

  it('does not post new incidents a silence covers until it expires, but stores them', async () => {
    run(notifier());
    await store.createSilence({
      id: 'sil_spot',
      kind: 'spot_interruption',
      createdAt: clock.now(),
      expiresAt: clock.now() + 3_600_000,
      createdBy: { id: 'U024BE7LH', name: 'ana', via: 'slack' },
    });
    const silenced = await create(spotLossIncident('inc_silenced'));
    const other = await create(
      spotLossIncident('inc_other', {
        signals: [
          incidentSignal(7, { kind: 'spark.connect_unreachable', entity: 'spark:connect:sc://spark:15002' }),
        ],
        rootCause: { entity: 'spark:connect:sc://spark:15002', kind: 'connect_unavailable', confidence: 0.9 },
      }),
    );
    await queue.add('s1', { incidentId: silenced.id, version: 1, change: 'opened' });
    await queue.add('o1', { incidentId: other.id, version: 1, change: 'opened' });
    await queue.idle();
    expect(topLevel('inc_silenced')).toHaveLength(0);
    expect(topLevel('inc_other')).toHaveLength(1);
    expect(await store.get('inc_silenced')).not.toBeNull();
    const timeline = await store.timeline('inc_silenced');
    expect(timeline.map((e) => e.type)).toEqual(['silenced']);
    expect(timeline[0]!.text).toContain('kind spot_interruption is silenced until');

    await clock.advanceBy(3_600_000);
    await queue.idle();
    expect(topLevel('inc_silenced')).toHaveLength(1);
    backend.close();
  });

  it('batches new signals into one thread reply, and tells a resolution at once', async () => {
    run(notifier());
    const incident = await create(spotLossIncident('inc_batch'));
    await queue.add('b1', { incidentId: incident.id, version: 1, change: 'opened' });
    await queue.idle();
    const ts = (await delivered(store, incident.id))!.slack!.ts;

    for (const n of [3, 4, 5]) {
      await mutate(incident.id, (i) => ({
        signals: [...i.signals, incidentSignal(n)],
        updatedAt: T0 + n * 1000,
      }));
      await queue.idle();
      await clock.advanceBy(1_000);
    }
    // Edited in place at once, but no reply inside the batch window.
    expect(replies(ts)).toHaveLength(0);
    expect(topLevel('inc_batch')[0]!.edits).toBeGreaterThanOrEqual(1);
    await clock.advanceBy(30_000);
    await queue.idle();
    expect(replies(ts)).toHaveLength(1);
    expect(JSON.stringify(replies(ts)[0]!.blocks)).toContain('*3 new signals*');

    await mutate(incident.id, (i) => ({
      status: 'resolved',
      resolvedAt: clock.now(),
      signals: i.signals.map((s) => ({ ...s, status: 'resolved' as const })),
    }));
    await queue.idle();
    expect(replies(ts)).toHaveLength(2);
    expect(JSON.stringify(replies(ts)[1]!.blocks)).toContain('*Resolved*');
    expect(String(topLevel('inc_batch')[0]!.text)).toMatch(/^\[RESOLVED\]/);
    expect(topLevel('inc_batch')).toHaveLength(1);
    backend.close();
  });

  it('routes by the matching playbook, and to the default channel when that channel does not exist', async () => {
    const catalog = new PlaybookCatalog(loadPlaybooks('playbooks'));
    run(notifier({ playbooks: catalog }));
    const incident = await create(spotLossIncident('inc_route'));
    await queue.add('r1', { incidentId: incident.id, version: 1, change: 'opened' });
    await queue.idle();
    const attempts = postCalls().map((c) => c.params.channel);
    // spot-loss routes to #data-platform-oncall, which this workspace does not have.
    expect(attempts).toEqual(['#data-platform-oncall', '#alerts']);
    expect(topLevel('inc_route')).toHaveLength(1);
    expect(topLevel('inc_route')[0]!.channel).toBe(slack.channelId('#alerts'));
    const blocks = JSON.stringify(topLevel('inc_route')[0]!.blocks);
    expect(blocks).toContain('Next steps');
    expect(deadLetters).toEqual([]);
    backend.close();
  });

  it('rate limited (429): waits Retry-After, then posts once', async () => {
    run(notifier());
    const incident = await create(spotLossIncident('inc_429'));
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 5 });
    await queue.add('rl', { incidentId: incident.id, version: 1, change: 'opened' });
    await queue.idle();
    expect(topLevel('inc_429')).toHaveLength(0);
    expect((await delivered(store, incident.id))!.slack).toBeNull();
    await clock.advanceBy(4_000);
    await queue.idle();
    expect(postCalls()).toHaveLength(1);
    await clock.advanceBy(1_500);
    await queue.idle();
    expect(topLevel('inc_429')).toHaveLength(1);
    backend.close();
  });

  it('a permanently failing Slack (bad auth) dead-letters the job without posting', async () => {
    run(notifier({ channel: createSlackChannel({ token: 'xoxb-wrong', apiUrl: slack.url, logger }) }));
    const incident = await create(spotLossIncident('inc_auth'));
    await queue.add('auth', { incidentId: incident.id, version: 1, change: 'opened' });
    await queue.idle();
    expect(deadLetters).toEqual(['auth']);
    expect(topLevel('inc_auth')).toHaveLength(0);
    expect((await delivered(store, incident.id))!.slack).toBeNull();
    backend.close();
  });
});
