import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/index.ts';
import { createHttpApp } from '../src/http/app.ts';
import { createDynamoIncidentStore } from '../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../src/incidents/embedded-dynamo.ts';
import type { IncidentStore } from '../src/incidents/store.ts';
import { createSlackChannel } from '../src/notify/channels/slack.ts';
import { Notifier } from '../src/notify/notifier.ts';
import { ACTION_IDS } from '../src/notify/template.ts';
import { createSlackApp, type SlackApp } from '../src/slack-app/plugin.ts';
import { SlackAuthorizer, slackGroupMembers } from '../src/slack-app/responders.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { incidentSignal, spotLossIncident, T0 } from './fakes/incidents.ts';
import { startSlackStandIn } from './fakes/slack-api.ts';
import { delivered } from './support/delivered.ts';
import { signedSlackPost } from './support/slack-requests.ts';

const SECRET = 'authz-signing-secret-0123456789ab';
const TOKEN = 'xoxb-slack-authz-test';
const TEAM = 'T0AUTHZ01';
/** A responder by user id, one by group membership, and someone who is neither. */
const LEAD = 'U0LEAD0001';
const ONCALL = 'U0ONCALL01';
const OUTSIDER = 'U0OUTSIDE1';
const GROUP = 'S0ONCALL01';

/**
 * Slack authorization through the real Slack app on Guardian's HTTP port: configured responders
 * (a user id, and a user group whose members come from `usergroups.users.list` on the Slack
 * stand-in) may act; anyone else, or anyone from another workspace, gets a private refusal and
 * nothing changes.
 */
describe('Slack authorization', () => {
  const logger = silentLogger();
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let store: IncidentStore;
  let notifier: Notifier;
  let app: FastifyInstance;
  let slackApp: SlackApp;
  const clock = new ManualClock(T0 + 120_000);

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ port: 0, logger });
    slack = await startSlackStandIn({ token: TOKEN, usergroups: { [GROUP]: [ONCALL] } });
    store = createDynamoIncidentStore({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tableName: `slack-authz-${Date.now()}`,
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
    slackApp = createSlackApp({
      signingSecret: SECRET,
      store,
      clock,
      logger,
      requestUpdate: (incidentId) => notifier.handle({ incidentId, version: 0, change: 'action' }),
      authorizer: new SlackAuthorizer({
        responders: [LEAD, GROUP],
        teams: [TEAM],
        clock,
        logger,
        groupMembersTtlMs: 60_000,
        groupMembers: slackGroupMembers({ token: TOKEN, apiUrl: slack.url, logger }),
      }),
    });
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
    await store?.close();
    await dynamo?.close();
  });

  beforeEach(() => {
    slack.calls.length = 0;
    slack.responses.length = 0;
  });

  const signed = (body: string) =>
    signedSlackPost(app, {
      secret: SECRET,
      timestamp: String(Math.floor(clock.now() / 1000)),
      body,
      contentType: 'application/x-www-form-urlencoded',
    });

  async function click(
    user: string,
    action: { action_id: string; value?: string; selected_option?: { value: string } },
    team = TEAM,
  ) {
    const payload = {
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase(), team_id: team },
      api_app_id: 'A0001',
      team: { id: team, domain: 'hooli' },
      container: { type: 'message', message_ts: '1.000001', channel_id: slack.channelId('#alerts') },
      trigger_id: '1.2.3',
      response_url: slack.responseUrl('click'),
      actions: [{ block_id: 'guardian_lifecycle', type: 'button', action_ts: '1.2', ...action }],
    };
    const res = await signed(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    await slackApp.settled();
    return res;
  }

  function command(user: string, text: string, team = TEAM) {
    return signed(
      new URLSearchParams({
        team_id: team,
        channel_id: slack.channelId('#alerts'),
        user_id: user,
        user_name: user.toLowerCase(),
        command: '/guardian',
        text,
        response_url: slack.responseUrl('command'),
        trigger_id: '1.2.4',
      }).toString(),
    );
  }

  async function posted(id: string, n: number) {
    await store.create(spotLossIncident(id, { signals: [incidentSignal(n)] }));
    await notifier.handle({ incidentId: id, version: 1, change: 'opened' });
    return (await delivered(store, id))!;
  }

  const refusals = () => slack.responses.map((r) => String(r.body.text));

  it('refuses someone who is not a responder, privately, and changes nothing', async () => {
    const incident = await posted('inc_authz_out', 501);
    const edits = slack.messages().find((m) => m.ts === incident.slack!.ts)!.edits;
    const res = await click(OUTSIDER, { action_id: ACTION_IDS.resolve, value: incident.id });
    expect(res.statusCode).toBe(200);
    expect(refusals()).toEqual([
      expect.stringMatching(/^Only Guardian responders can do that; nothing was changed/),
    ]);
    expect(slack.responses[0]!.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect((await store.get(incident.id))!.status).toBe('open');
    expect((await store.timeline(incident.id)).filter((e) => e.actor)).toEqual([]);
    expect(slack.messages().find((m) => m.ts === incident.slack!.ts)!.edits).toBe(edits);

    const silence = await command(OUTSIDER, 'silence host:10.0.4.* 1h');
    expect(silence.json().text).toMatch(/^Only Guardian responders/);
    expect(await store.listSilences(clock.now())).toEqual([]);
  });

  it('lets a listed responder act, recorded with their Slack user id', async () => {
    const incident = await posted('inc_authz_lead', 502);
    await click(LEAD, { action_id: ACTION_IDS.acknowledge, value: incident.id });
    expect(refusals()).toEqual([]);
    expect((await store.get(incident.id))!.status).toBe('acknowledged');
    expect((await store.timeline(incident.id)).at(-1)).toMatchObject({
      type: 'acknowledged',
      actor: { id: LEAD, via: 'slack' },
    });
    // Silenced from its menu and unsilenced with the command: both in its timeline, with who.
    await click(LEAD, { action_id: ACTION_IDS.silence, selected_option: { value: `${incident.id}|1h` } });
    const [silence] = await store.listSilences(clock.now());
    expect(silence).toMatchObject({ incidentId: incident.id, createdBy: { id: LEAD } });
    expect((await command(LEAD, `unsilence ${silence!.id}`)).json().text).toMatch(/ended/);
    const timeline = await store.timeline(incident.id);
    expect(timeline.filter((e) => e.type === 'silenced' || e.type === 'unsilenced')).toEqual([
      expect.objectContaining({
        type: 'silenced',
        actor: expect.objectContaining({ id: LEAD, via: 'slack' }),
      }),
      expect.objectContaining({
        type: 'unsilenced',
        actor: expect.objectContaining({ id: LEAD, via: 'slack' }),
      }),
    ]);
  });

  it('lets a member of a responder group act, looking the group up once and then from its cache', async () => {
    const first = await posted('inc_authz_group', 503);
    const second = await posted('inc_authz_group2', 504);
    // Whatever an earlier test cached is stale by now.
    await clock.advanceBy(61_000);
    await click(ONCALL, { action_id: ACTION_IDS.acknowledge, value: first.id });
    await click(ONCALL, { action_id: ACTION_IDS.resolve, value: second.id });
    expect(refusals()).toEqual([]);
    expect((await store.get(first.id))!.status).toBe('acknowledged');
    expect((await store.get(second.id))!.status).toBe('resolved');
    const lookups = slack.calls.filter((c) => c.method === 'usergroups.users.list');
    expect(lookups).toHaveLength(1);
    expect(lookups[0]).toMatchObject({
      params: { usergroup: GROUP },
      authorized: true,
      response: { ok: true },
    });

    // Removed from the group: refused once the cached members are older than their TTL.
    slack.setUsergroup(GROUP, []);
    const third = await posted('inc_authz_group3', 505);
    await clock.advanceBy(61_000);
    await click(ONCALL, { action_id: ACTION_IDS.acknowledge, value: third.id });
    expect(refusals()).toEqual([expect.stringMatching(/^Only Guardian responders/)]);
    expect((await store.get(third.id))!.status).toBe('open');
    slack.setUsergroup(GROUP, [ONCALL]);
  });

  it('refuses when group membership cannot be checked and nothing is known (never fails open)', async () => {
    const incident = await posted('inc_authz_down', 506);
    await clock.advanceBy(61_000);
    await click(ONCALL, { action_id: ACTION_IDS.acknowledge, value: incident.id });
    expect((await store.get(incident.id))!.status).toBe('acknowledged');
    await clock.advanceBy(61_000);
    slack.failNext('usergroups.users.list', { status: 503 });
    await click(ONCALL, { action_id: ACTION_IDS.resolve, value: incident.id });
    // The last known members are used: ONCALL was a member a minute ago.
    expect((await store.get(incident.id))!.status).toBe('resolved');

    // A fresh authorizer knows nobody yet: Slack failing means a refusal.
    const fresh = new SlackAuthorizer({
      responders: [GROUP],
      teams: [],
      clock,
      logger,
      groupMembers: slackGroupMembers({ token: TOKEN, apiUrl: slack.url, logger }),
    });
    slack.failNext('usergroups.users.list', { error: 'missing_scope' });
    expect(await fresh.responder({ userId: ONCALL })).toMatch(/cannot check right now/);
    expect(await fresh.responder({ userId: ONCALL })).toBeUndefined();
  });

  it('refuses requests from another workspace, whoever sends them, reads included', async () => {
    const incident = await posted('inc_authz_team', 507);
    await click(LEAD, { action_id: ACTION_IDS.resolve, value: incident.id }, 'T0ELSEWHERE');
    expect(refusals()).toEqual(['Guardian does not take requests from this workspace.']);
    expect((await store.get(incident.id))!.status).toBe('open');
    const list = await command(LEAD, 'list', 'T0ELSEWHERE');
    expect(list.json().text).toBe('Guardian does not take requests from this workspace.');
  });

  it('refuses match-all and over-broad silences from a responder, privately, and stores nothing', async () => {
    for (const matcher of ['*:*', '*', 'host:*', `host:${'a*'.repeat(9)}`]) {
      const res = await command(LEAD, `silence ${matcher} 30d`);
      expect(res.json()).toMatchObject({ response_type: 'ephemeral' });
      expect(res.json().text, matcher).toMatch(/^Not silenced: the (entity|kind) /);
    }
    expect(await store.listSilences(clock.now())).toEqual([]);
    const ok = await command(LEAD, 'silence host:10.0.4.* 2h');
    expect(ok.json().text).toMatch(/Silenced entity host:10\.0\.4\.\*/);
    const listed = await command(LEAD, 'silences');
    expect(listed.json().text).toMatch(
      new RegExp(`by ${LEAD.toLowerCase()} \\(<@${LEAD}>\\) · 0 signals suppressed`),
    );
  });
});
