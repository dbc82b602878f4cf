import { App, ReceiverMultipleAckError } from '@slack/bolt';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/index.ts';
import { boltLogger } from './bolt-logger.ts';
import { FastifyReceiver } from './receiver.ts';
import { signSlackRequest } from './verify.ts';

const SECRET = 'receiver-test-secret';
const USER = { id: 'U024BE7LH', username: 'ana', name: 'ana', team_id: 'T0001' };
const FORM = 'application/x-www-form-urlencoded';

/**
 * The receiver's contract with Bolt, on a bare Bolt app: what a listener receives for each kind of
 * request, and how its `ack` becomes the HTTP answer.
 */
describe('FastifyReceiver', () => {
  let clock: ManualClock;
  let lines: Record<string, unknown>[];
  let receiver: FastifyReceiver;
  let bolt: App;
  let server: FastifyInstance;

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 10, 25, 8, 0));
    lines = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    receiver = new FastifyReceiver({ signingSecret: SECRET, clock, logger, ackLimitMs: 300 });
    bolt = new App({
      receiver,
      authorize: async () => ({}),
      ignoreSelf: false,
      convoStore: false,
      logger: boltLogger(logger),
    });
    server = Fastify();
    await server.register(receiver.plugin);
  });

  afterEach(async () => {
    await receiver.stop();
    await server.close();
  });

  function post(body: string, contentType: string, headers: Record<string, string> = {}) {
    const timestamp = String(Math.floor(clock.now() / 1000));
    return server.inject({
      method: 'POST',
      url: '/slack/events',
      headers: {
        'content-type': contentType,
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': signSlackRequest(SECRET, timestamp, body),
        ...headers,
      },
      payload: body,
    });
  }

  const click = (actionId: string) =>
    new URLSearchParams({
      payload: JSON.stringify({
        type: 'block_actions',
        user: USER,
        team: { id: 'T0001' },
        response_url: 'https://hooks.slack.com/actions/T0001/1/x',
        actions: [{ action_id: actionId, block_id: 'b', type: 'button', value: 'inc_1' }],
      }),
    }).toString();

  it('gives a slash command the form fields, and answers with what it acknowledges with', async () => {
    let seen: unknown;
    bolt.command('/guardian', async ({ ack, command }) => {
      seen = command;
      await ack({ response_type: 'ephemeral', text: `got ${command.text}` });
    });
    const res = await post(
      new URLSearchParams({
        command: '/guardian',
        text: 'list',
        user_id: USER.id,
        team_id: 'T0001',
      }).toString(),
      FORM,
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ response_type: 'ephemeral', text: 'got list' });
    expect(seen).toEqual({ command: '/guardian', text: 'list', user_id: USER.id, team_id: 'T0001' });

    bolt.command('/plain', async ({ ack }) => ack('plain text'));
    const plain = await post(new URLSearchParams({ command: '/plain', user_id: USER.id }).toString(), FORM);
    expect(plain.body).toBe('plain text');
    expect(plain.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('gives an interaction the JSON in its payload field, with its first action and respond()', async () => {
    let seen: { action?: unknown; body?: unknown; respond?: unknown; requestId?: unknown } = {};
    bolt.action('guardian_ack', async ({ ack, action, body, respond, context }) => {
      seen = { action, body, respond, requestId: context.requestId };
      await ack();
    });
    const res = await post(click('guardian_ack'), FORM);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(seen.action).toMatchObject({ action_id: 'guardian_ack', value: 'inc_1' });
    expect(seen.body).toMatchObject({ type: 'block_actions', user: USER });
    expect(typeof seen.respond).toBe('function');
    expect(seen.requestId).toEqual(expect.any(String));
  });

  it("hands Events API callbacks to Bolt with Slack's retry headers, and Bolt acknowledges them", async () => {
    let context: Record<string, unknown> = {};
    let event: unknown;
    bolt.event('app_mention', async (args) => {
      context = args.context;
      event = args.event;
    });
    const body = JSON.stringify({
      type: 'event_callback',
      team_id: 'T0001',
      api_app_id: 'A0001',
      event: { type: 'app_mention', user: USER.id, text: 'hi', ts: '1.2', channel: 'C0001', event_ts: '1.2' },
      event_id: 'Ev01',
      event_time: 1,
    });
    const res = await post(body, 'application/json', {
      'x-slack-retry-num': '2',
      'x-slack-retry-reason': 'http_timeout',
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    await receiver.settled();
    expect(event).toMatchObject({ type: 'app_mention', text: 'hi' });
    expect(context).toMatchObject({
      retryNum: 2,
      retryReason: 'http_timeout',
      requestId: expect.any(String),
    });
  });

  it('answers at once what no listener takes, and at the deadline what a listener never acknowledges', async () => {
    const nobody = await post(click('guardian_unknown'), FORM);
    expect(nobody.statusCode).toBe(200);
    expect(nobody.body).toBe('');

    let release: () => void = () => {};
    bolt.action('guardian_stuck', () => new Promise<void>((r) => (release = r)));
    const started = Date.now();
    const stuck = await post(click('guardian_stuck'), FORM);
    expect(stuck.statusCode).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 40, msg: expect.stringContaining('not acknowledged') }),
    );
    release();
  });

  it('refuses a second ack, and answers 500 when processing fails before any ack', async () => {
    let second: unknown;
    bolt.action('guardian_twice', async ({ ack }) => {
      await ack();
      second = await ack().catch((err: unknown) => err);
    });
    expect((await post(click('guardian_twice'), FORM)).statusCode).toBe(200);
    await receiver.settled();
    expect(second).toBeInstanceOf(ReceiverMultipleAckError);

    bolt.action('guardian_throws', async () => {
      throw new Error('listener broke');
    });
    const failed = await post(click('guardian_throws'), FORM);
    expect(failed.statusCode).toBe(500);
    expect(failed.json()).toMatchObject({ code: 'slack_event_failed' });
    // Bolt's own error line reaches Guardian's logger.
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 50, msg: expect.stringContaining('listener broke') }),
    );
  });

  it('waits on stop for work a listener goes on with after its ack', async () => {
    let finished = false;
    bolt.action('guardian_slow', async ({ ack }) => {
      await ack();
      await new Promise((r) => setTimeout(r, 200));
      finished = true;
    });
    const res = await post(click('guardian_slow'), FORM);
    expect(res.statusCode).toBe(200);
    expect(finished).toBe(false);
    await receiver.stop();
    expect(finished).toBe(true);
  });

  it('never lets a request past the signature check without a valid signature', async () => {
    let called = false;
    bolt.action(/.*/, async ({ ack }) => {
      called = true;
      await ack();
    });
    const body = click('guardian_ack');
    const timestamp = String(Math.floor(clock.now() / 1000));
    const forged = await server.inject({
      method: 'POST',
      url: '/slack/events',
      headers: {
        'content-type': FORM,
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': signSlackRequest('another-secret', timestamp, body),
      },
      payload: body,
    });
    expect(forged.statusCode).toBe(401);
    // The SSL check is unsigned, and nothing smuggled into it reaches Bolt.
    const ssl = await server.inject({
      method: 'POST',
      url: '/slack/events',
      headers: { 'content-type': FORM },
      payload: `ssl_check=1&${body}`,
    });
    expect(ssl.statusCode).toBe(200);
    expect(called).toBe(false);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });
});
