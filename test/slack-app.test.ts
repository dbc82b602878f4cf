import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { ManualClock } from '../src/core/index.ts';
import { createHttpApp } from '../src/http/app.ts';
import { createDynamoIncidentStore } from '../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../src/incidents/embedded-dynamo.ts';
import type { IncidentStore } from '../src/incidents/store.ts';
import { createGuardian } from '../src/main.ts';
import { createSlackChannel } from '../src/notify/channels/slack.ts';
import { Notifier } from '../src/notify/notifier.ts';
import { ACTION_IDS } from '../src/notify/template.ts';
import { createSlackApp, type SlackApp } from '../src/slack-app/plugin.ts';
import { signSlackRequest } from '../src/slack-app/verify.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { startAnthropicStandIn } from './fakes/anthropic-api.ts';
import { incidentSignal, spotLossIncident, T0 } from './fakes/incidents.ts';
import { startSlackStandIn } from './fakes/slack-api.ts';
import { delivered } from './support/delivered.ts';
import { signedSlackPost } from './support/slack-requests.ts';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TOKEN = 'xoxb-slack-app-test';
const logger = silentLogger();
const USER = { id: 'U024BE7LH', username: 'ana', name: 'ana', team_id: 'T0001' };

/**
 * The Slack app on Guardian's fastify port, through `app.inject()`: signed button clicks and
 * slash commands change incidents (recorded with who did it) and the notifier updates the
 * message in the Slack stand-in; bad signatures and stale timestamps get 401.
 */
describe('Slack app', () => {
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let store: IncidentStore;
  let clock: ManualClock;
  let app: FastifyInstance;
  let slackApp: SlackApp;
  let notifier: Notifier;
  let slowStore = 0;
  /** Every URL the Slack app's Bolt fetched (response_url posts, and any Web API call it made). */
  const fetched: string[] = [];
  let fetchedAtConstruction = -1;

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ port: 0, logger });
    slack = await startSlackStandIn({ token: TOKEN });
    clock = new ManualClock(T0 + 120_000);
    store = createDynamoIncidentStore({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tableName: `slack-app-${Date.now()}`,
      createTable: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      logger,
    });
    await store.start();
    notifier = new Notifier({
      store,
      channel: createSlackChannel({ token: TOKEN, apiUrl: slack.url, logger }),
      clock,
      logger,
      slackChannel: '#alerts',
    });
    // A store that can be made slow, to see the app answer Slack before its work is done.
    const maybeSlow: IncidentStore = {
      ...store,
      async update(next) {
        if (slowStore > 0) await new Promise((r) => setTimeout(r, slowStore));
        return store.update(next);
      },
      async list(query) {
        if (slowStore > 0) await new Promise((r) => setTimeout(r, slowStore));
        return store.list(query);
      },
    };
    slackApp = createSlackApp({
      signingSecret: SECRET,
      store: maybeSlow,
      clock,
      logger,
      ackWithinMs: 1000,
      requestUpdate: (incidentId) => notifier.handle({ incidentId, version: 0, change: 'action' }),
      fetch: (url, init) => {
        fetched.push(String(url));
        return fetch(url, init);
      },
    });
    fetchedAtConstruction = fetched.length;
    app = await createHttpApp({
      logger,
      store,
      outbox: undefined,
      health: { checks: {}, isStopping: () => false },
      slackApp,
    });
  });

  afterAll(async () => {
    await app?.close();
    await slack?.close();
    await dynamo?.close();
  });

  beforeEach(() => {
    slack.calls.length = 0;
    slack.responses.length = 0;
    slowStore = 0;
  });

  const nowSeconds = () => String(Math.floor(clock.now() / 1000));

  function signed(body: string, contentType: string, over: { timestamp?: string; signature?: string } = {}) {
    return signedSlackPost(app, {
      secret: SECRET,
      timestamp: over.timestamp ?? nowSeconds(),
      body,
      contentType,
      ...(over.signature ? { signature: over.signature } : {}),
    });
  }

  function click(
    action: { action_id: string; value?: string; selected_option?: { value: string } },
    over?: { timestamp?: string; signature?: string },
    responseUrl = slack.responseUrl('click'),
  ) {
    const payload = {
      type: 'block_actions',
      user: USER,
      api_app_id: 'A0001',
      team: { id: 'T0001', domain: 'hooli' },
      container: { type: 'message', message_ts: '1.000001', channel_id: 'C0001' },
      trigger_id: '123.456.abc',
      response_url: responseUrl,
      actions: [{ block_id: 'guardian_lifecycle', type: 'button', action_ts: '1.2', ...action }],
    };
    return signed(
      new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
      'application/x-www-form-urlencoded',
      over,
    );
  }

  /** A click, and the work it started finished (it may outlive Slack's answer on a busy machine). */
  async function clickDone(...args: Parameters<typeof click>) {
    const res = await click(...args);
    await slackApp.settled();
    return res;
  }

  /** `/guardian <text>`, typed in the channel incidents are posted to unless told otherwise. */
  function command(text: string, over?: { timestamp?: string; signature?: string }, channel = '#alerts') {
    const body = new URLSearchParams({
      token: 'deprecated',
      team_id: 'T0001',
      channel_id: slack.channelId(channel),
      user_id: USER.id,
      user_name: USER.username,
      command: '/guardian',
      text,
      response_url: slack.responseUrl('command'),
      trigger_id: '123.456.def',
    }).toString();
    return signed(body, 'application/x-www-form-urlencoded', over);
  }

  async function posted(id: string, over: Parameters<typeof spotLossIncident>[1] = {}) {
    await store.create(spotLossIncident(id, over));
    await notifier.handle({ incidentId: id, version: 1, change: 'opened' });
    return (await delivered(store, id))!;
  }

  const message = (ts: string) => slack.messages().find((m) => m.ts === ts)!;

  it('acknowledges from the button: timeline names who, the message and its thread say so', async () => {
    const incident = await posted('inc_ack');
    const res = await clickDone({ action_id: ACTION_IDS.acknowledge, value: incident.id });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');

    const stored = (await delivered(store, incident.id))!;
    expect(stored.status).toBe('acknowledged');
    const timeline = await store.timeline(incident.id);
    expect(timeline.at(-1)).toMatchObject({
      type: 'acknowledged',
      actor: { id: USER.id, name: 'ana', via: 'slack' },
    });
    const post = message(stored.slack!.ts);
    expect(post.edits).toBeGreaterThanOrEqual(1);
    const blocks = JSON.stringify(post.blocks);
    expect(blocks).toContain(`*ACKNOWLEDGED* by <@${USER.id}>`);
    expect(blocks).not.toContain(ACTION_IDS.acknowledge);
    expect(blocks).toContain(ACTION_IDS.resolve);
    const replies = slack.messages().filter((m) => m.threadTs === stored.slack!.ts);
    expect(replies).toHaveLength(1);
    expect(JSON.stringify(replies[0]!.blocks)).toContain(`*Acknowledged* by <@${USER.id}>`);

    // A second click changes nothing and says so, privately.
    slack.responses.length = 0;
    await clickDone({ action_id: ACTION_IDS.acknowledge, value: incident.id });
    expect((await store.timeline(incident.id)).filter((e) => e.type === 'acknowledged')).toHaveLength(1);
    expect(slack.responses.at(-1)?.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('already acknowledged'),
    });
  });

  it('resolves and reopens from the buttons, one thread reply each', async () => {
    const incident = await posted('inc_resolve', {
      signals: [incidentSignal(31), incidentSignal(32)],
    });
    await clickDone({ action_id: ACTION_IDS.resolve, value: incident.id });
    let stored = (await delivered(store, incident.id))!;
    expect(stored.status).toBe('resolved');
    expect(JSON.stringify(message(stored.slack!.ts).blocks)).toContain(ACTION_IDS.reopen);
    await clickDone({ action_id: ACTION_IDS.reopen, value: incident.id });
    stored = (await delivered(store, incident.id))!;
    expect(stored.status).toBe('open');
    expect((await store.timeline(incident.id)).map((e) => e.type)).toEqual(['resolved', 'reopened']);
    const replies = slack.messages().filter((m) => m.threadTs === stored.slack!.ts);
    expect(replies.map((r) => r.text)).toEqual([
      expect.stringContaining('resolved'),
      expect.stringContaining('reopened'),
    ]);
  });

  it('silences from the menu: by kind and entity, with an expiry, noted on the message', async () => {
    const incident = await posted('inc_menu', { signals: [incidentSignal(41)] });
    const res = await clickDone({
      action_id: ACTION_IDS.silence,
      selected_option: { value: `${incident.id}|4h` },
    });
    expect(res.statusCode).toBe(200);
    const silences = await store.listSilences(clock.now());
    expect(silences).toEqual([
      expect.objectContaining({
        kind: 'spot_interruption',
        entity: 'host:10.0.4.161',
        expiresAt: clock.now() + 4 * 3_600_000,
        createdBy: { id: USER.id, name: 'ana', via: 'slack' },
        incidentId: incident.id,
      }),
    ]);
    expect((await store.timeline(incident.id)).at(-1)).toMatchObject({
      type: 'silenced',
      actor: { id: USER.id },
    });
    const stored = (await delivered(store, incident.id))!;
    expect(JSON.stringify(message(stored.slack!.ts).blocks)).toContain(':no_bell:');
    for (const s of silences) await store.expireSilence(s.id, clock.now());
  });

  it('answers Slack before slow work is done, and finishes it afterwards', async () => {
    const incident = await posted('inc_slow', { signals: [incidentSignal(51)] });
    slowStore = 3000;
    const started = Date.now();
    const res = await click({ action_id: ACTION_IDS.acknowledge, value: incident.id });
    expect(res.statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(2500);
    await slackApp.settled();
    expect((await store.get(incident.id))!.status).toBe('acknowledged');
  });

  it('refuses bad signatures, stale timestamps and unsigned requests with 401, and changes nothing', async () => {
    const incident = await posted('inc_forged', { signals: [incidentSignal(61)] });
    const bad = await click(
      { action_id: ACTION_IDS.resolve, value: incident.id },
      { signature: `v0=${'0'.repeat(64)}` },
    );
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject({ code: 'bad_signature' });
    const stale = String(Math.floor(clock.now() / 1000) - 6 * 60);
    const old = await click({ action_id: ACTION_IDS.resolve, value: incident.id }, { timestamp: stale });
    expect(old.statusCode).toBe(401);
    expect(old.json()).toMatchObject({ code: 'stale_timestamp' });
    const wrongSecret = new URLSearchParams({ payload: '{}' }).toString();
    const forged = await signed(wrongSecret, 'application/x-www-form-urlencoded', {
      signature: signSlackRequest('not-the-secret', nowSeconds(), wrongSecret),
    });
    expect(forged.statusCode).toBe(401);
    const unsigned = await app.inject({
      method: 'POST',
      url: '/slack/events',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'command=%2Fguardian&text=list',
    });
    expect(unsigned.statusCode).toBe(401);
    const slashForged = await command('silence spot_interruption 2h', { signature: `v0=${'a'.repeat(64)}` });
    expect(slashForged.statusCode).toBe(401);

    expect((await store.get(incident.id))!.status).toBe('open');
    expect(await store.timeline(incident.id)).toEqual([]);
    expect(await store.listSilences(clock.now())).toEqual([]);
  });

  it('/guardian list, show, silence, silences and unsilence', async () => {
    await posted('inc_cmd', {
      signals: [incidentSignal(71)],
      title: 'Spark worker lost for the command test',
    });
    const list = await command('list');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ response_type: 'ephemeral' });
    expect(list.json().text).toContain('`inc_cmd`');

    const show = await command('show inc_cmd');
    expect(JSON.stringify(show.json().blocks)).toContain('Spark worker 10.0.4.161 lost');
    expect((await command('show inc_nope')).json().text).toContain('No incident inc_nope');
    // Typed in another channel, an incident posted elsewhere is not revealed, not even its existence.
    expect((await command('list', undefined, '#random')).json().text).toBe(
      ':white_check_mark: No open incidents in this channel.',
    );
    const elsewhere = (await command('show inc_cmd', undefined, '#random')).json();
    expect(elsewhere.text).toBe('No incident inc_cmd in this channel.');
    expect(elsewhere.blocks).toBeUndefined();

    const silenced = await command('silence host:10.0.9.* 2h');
    expect(silenced.json().text).toContain('Silenced entity host:10.0.9.*');
    const active = await store.listSilences(clock.now());
    expect(active).toEqual([
      expect.objectContaining({
        entity: 'host:10.0.9.*',
        expiresAt: clock.now() + 7_200_000,
        createdBy: expect.objectContaining({ id: USER.id }),
      }),
    ]);
    expect((await command('silences')).json().text).toContain(active[0]!.id);
    // However many there are, the reply reads one page of them and says there are more.
    for (let i = 0; i < 31; i++) await command(`silence backfill_${i} 2h`);
    const listed = (await command('silences')).json().text as string;
    const lines = listed.split('\n').filter((l) => l.startsWith('• '));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(line).toMatch(/ signals suppressed$/); // whole lines only
    expect(listed.length).toBeLessThanOrEqual(2_900);
    for (const extra of await store.listSilences(clock.now()))
      if (extra.id !== active[0]!.id) await command(`unsilence ${extra.id}`);
    expect(listed).toContain('…and more: `GET /api/v1/silences` lists them all.');
    expect((await command('silence spot_interruption forever')).json().text).toContain('is not a duration');

    // A new incident the silence covers is stored, not posted.
    const before = slack.messages().length;
    await store.create(
      spotLossIncident('inc_muted', {
        signals: [incidentSignal(72)],
        rootCause: { entity: 'host:10.0.9.12', kind: 'host_lost', confidence: 0.8 },
        entities: ['host:10.0.9.12'],
      }),
    );
    await expect(notifier.handle({ incidentId: 'inc_muted', version: 1, change: 'opened' })).rejects.toThrow(
      /silenced/,
    );
    expect(slack.messages()).toHaveLength(before);

    const ended = await command(`unsilence ${active[0]!.id}`);
    expect(ended.json().text).toContain('ended');
    expect(await store.listSilences(clock.now())).toEqual([]);
    expect((await command('')).json().text).toContain('/guardian list');
  });

  it('answers the Events API URL check and Slack SSL checks', async () => {
    const body = JSON.stringify({ token: 'x', challenge: 'c-123', type: 'url_verification' });
    const res = await signed(body, 'application/json');
    expect(res.json()).toEqual({ challenge: 'c-123' });
    const ssl = await app.inject({
      method: 'POST',
      url: '/slack/events',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'ssl_check=1&token=x',
    });
    expect(ssl.statusCode).toBe(200);
  });

  it('answers malformed requests with 400 or 415 naming what is wrong, and other payloads with a bare 200', async () => {
    const form = 'application/x-www-form-urlencoded';
    const noUser = await signed(
      new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', actions: [] }) }).toString(),
      form,
    );
    expect(noUser.statusCode).toBe(400);
    expect(noUser.json()).toMatchObject({ code: 'invalid_request', message: 'no user' });
    const notJson = await signed(new URLSearchParams({ payload: '{oops' }).toString(), form);
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toMatchObject({ message: 'payload is not JSON' });
    const nothing = await signed('a=b', form);
    expect(nothing.json()).toMatchObject({ statusCode: 400, message: 'not a Slack payload' });
    const xml = await signed('<x/>', 'application/xml');
    expect(xml.statusCode).toBe(415);
    // A modal submission or another app's command has no listener here: acknowledged, nothing done.
    const view = await signed(
      new URLSearchParams({
        payload: JSON.stringify({
          type: 'view_submission',
          user: USER,
          team: { id: 'T0001', domain: 'hooli' },
          view: { id: 'V0001', type: 'modal', callback_id: 'other', state: { values: {} } },
        }),
      }).toString(),
      form,
    );
    expect(view.statusCode).toBe(200);
    expect(view.body).toBe('');
    const other = await signed(
      new URLSearchParams({ command: '/other', text: 'x', user_id: USER.id, team_id: 'T0001' }).toString(),
      form,
    );
    expect(other.statusCode).toBe(200);
    expect(other.body).toBe('');
    expect(nothing.statusCode).toBe(400);
  });

  it('answers an action it does not know privately, and a runbook link click with nothing', async () => {
    const incident = await posted('inc_unknown', { signals: [incidentSignal(81)] });
    const res = await clickDone({ action_id: 'guardian_retired_button', value: incident.id });
    expect(res.statusCode).toBe(200);
    expect(slack.responses).toEqual([
      {
        id: 'click',
        body: expect.objectContaining({
          response_type: 'ephemeral',
          replace_original: false,
          text: 'Guardian does not know the action guardian_retired_button.',
        }),
      },
    ]);
    slack.responses.length = 0;
    const link = await clickDone({ action_id: `${ACTION_IDS.runbook}_0`, value: 'spot-loss' });
    expect(link.statusCode).toBe(200);
    expect(link.body).toBe('');
    expect(slack.responses).toEqual([]);
    expect(await store.timeline(incident.id)).toEqual([]);
  });

  it('answers a slow /guardian with "Working on it…", then through response_url', async () => {
    await posted('inc_slow_cmd', { signals: [incidentSignal(91)] });
    slowStore = 1500;
    const started = Date.now();
    const res = await command('list');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ response_type: 'ephemeral', text: 'Working on it…' });
    expect(slack.responses).toEqual([]);
    await slackApp.settled();
    expect(slack.responses).toEqual([
      {
        id: 'command',
        body: expect.objectContaining({
          response_type: 'ephemeral',
          replace_original: false,
          text: expect.stringContaining('`inc_slow_cmd`'),
        }),
      },
    ]);
  });

  it('makes no Slack API call of its own: Bolt fetches only response_urls, and nothing at construction', async () => {
    expect(fetchedAtConstruction).toBe(0);
    const before = fetched.length;
    await clickDone({ action_id: 'guardian_retired_button', value: 'inc_none' });
    expect(fetched.length).toBe(before + 1);
    for (const url of fetched) expect(url.startsWith(slack.responseUrl(''))).toBe(true);
    expect(slack.calls).toEqual([]);
  });

  it("routes Bolt's warnings to Guardian's logger and never logs the signing secret", async () => {
    const lines: string[] = [];
    const capture = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    const quiet = createSlackApp({
      signingSecret: SECRET,
      store,
      clock,
      logger: capture,
      requestUpdate: async () => {},
    });
    const server = Fastify();
    await server.register(quiet.plugin);
    try {
      const send = (body: string, signature?: string) => {
        const timestamp = nowSeconds();
        return server.inject({
          method: 'POST',
          url: '/slack/events',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-slack-request-timestamp': timestamp,
            'x-slack-signature': signature ?? signSlackRequest(SECRET, timestamp, body),
          },
          payload: body,
        });
      };
      // A payload of a type Bolt does not know: Bolt warns and calls no listener.
      const odd = await send(
        new URLSearchParams({ payload: JSON.stringify({ type: 'odd', user: USER }) }).toString(),
      );
      expect(odd.statusCode).toBe(200);
      expect((await send('command=%2Fguardian', `v0=${'1'.repeat(64)}`)).statusCode).toBe(401);
      await quiet.settled();
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged).toContainEqual(
        expect.objectContaining({
          level: 40,
          bolt: true,
          component: 'slack-app',
          msg: expect.stringContaining('Could not determine the type'),
        }),
      );
      expect(logged).toContainEqual(expect.objectContaining({ level: 40, reason: 'bad_signature' }));
      // Bolt's debug and info lines are dropped even though Guardian's logger takes everything.
      expect(logged.filter((l) => l.bolt === true && (l.level as number) < 40)).toEqual([]);
      expect(lines.join('\n')).not.toContain(SECRET);
    } finally {
      await server.close();
    }
  });

  it('leaves the JSON body parsing of the rest of the API alone', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/incidents?limit=5' });
    expect(res.statusCode).toBe(200);
    expect(res.json().incidents.length).toBeGreaterThan(0);
  });
});

/** The composition root wires it: Slack app on the service port, playbooks, LLM drafter, notifier. */
describe('Guardian with Slack and the LLM configured', () => {
  it('posts a drafted message with buttons, and a click acknowledges it', async () => {
    const slack = await startSlackStandIn({ token: TOKEN });
    const model = await startAnthropicStandIn({ apiKey: 'sk-ant-wiring' });
    const dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-slack-app-'));
    model.fallback = {
      kind: 'tool_use',
      input: {
        title: 'Spot loss of 10.0.4.161 failed payments_daily',
        summary: 'Worker 10.0.4.161 was reclaimed at 02:10 UTC.',
        probable_cause: { text: 'A spot interruption.', confidence: 0.8 },
        impact: 'payments_daily is late.',
        next_steps: ['Clear the failed tasks once the worker is back.'],
        runbook_ids: ['spot-loss'],
      },
    };
    const config = parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      slack: { token: TOKEN, apiUrl: slack.url, channel: '#alerts', signingSecret: SECRET },
      llm: { apiKey: 'sk-ant-wiring', baseUrl: model.url, budget: '3s' },
      links: { airflowUrl: 'https://airflow.example.com' },
      notify: { groupWait: 0 },
    });
    const guardian = await createGuardian(config, { logger });
    try {
      await guardian.store.create(spotLossIncident('inc_wired'));
      await guardian.queues.notify.add('inc_wired@1', {
        incidentId: 'inc_wired',
        version: 1,
        change: 'opened',
      });
      await guardian.idle();
      const posted = slack.messages().find((m) => !m.threadTs)!;
      expect(posted.text).toContain('Spot loss of 10.0.4.161 failed payments_daily');
      const blocks = JSON.stringify(posted.blocks);
      expect(blocks).toContain(ACTION_IDS.acknowledge);
      expect(blocks).toContain('https://airflow.example.com/dags/payments_daily/runs/');

      const body = new URLSearchParams({
        payload: JSON.stringify({
          type: 'block_actions',
          user: USER,
          actions: [{ action_id: ACTION_IDS.acknowledge, value: 'inc_wired', type: 'button' }],
        }),
      }).toString();
      const timestamp = String(Math.floor(Date.now() / 1000));
      const res = await guardian.app.inject({
        method: 'POST',
        url: '/slack/events',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': timestamp,
          'x-slack-signature': signSlackRequest(SECRET, timestamp, body),
        },
        payload: body,
      });
      expect(res.statusCode).toBe(200);
      await guardian.idle();
      expect((await guardian.store.get('inc_wired'))!.status).toBe('acknowledged');
      const edited = slack.messages().find((m) => m.ts === posted.ts)!;
      expect(JSON.stringify(edited.blocks)).toContain(`*ACKNOWLEDGED* by <@${USER.id}>`);
      // API answers stay JSON next to the Slack route's raw-body parser.
      const detail = await guardian.app.inject({ method: 'GET', url: '/api/v1/incidents/inc_wired' });
      expect(detail.json().timeline).toContainEqual(
        expect.objectContaining({ type: 'acknowledged', actor: { id: USER.id, name: 'ana', via: 'slack' } }),
      );
    } finally {
      await guardian.stop();
      await model.close();
      await slack.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
