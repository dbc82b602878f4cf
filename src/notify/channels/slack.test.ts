import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandIn } from '../../../test/fakes/slack-api.ts';
import { DependencyError } from '../../core/index.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import { createSlackChannel } from './slack.ts';

const TOKEN = 'xoxb-channel-test-secret';
const message = { text: 'hello', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*hello*' } }] };

async function failure(p: Promise<unknown>): Promise<DependencyError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DependencyError) return err;
    throw err;
  }
  throw new Error('expected a DependencyError');
}

/** The real `@slack/web-api` client, against the Slack Web API stand-in. */
describe('Slack channel', () => {
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  beforeAll(async () => {
    slack = await startSlackStandIn({ token: TOKEN, unknownChannels: ['#gone'] });
  });
  afterAll(() => slack?.close());

  const channel = () => createSlackChannel({ token: TOKEN, apiUrl: slack.url, logger: silentLogger() });

  it('posts, replies in the thread and edits, form-encoded with a bearer token', async () => {
    const c = channel();
    const post = await c.post('#alerts', message);
    const reply = await c.reply('#alerts', post.ts, { text: 'later', blocks: [] });
    await c.update('#alerts', post.ts, { text: 'edited', blocks: message.blocks });
    const stored = slack.messages.get(`#alerts/${post.ts}`)!;
    expect(stored).toMatchObject({ text: 'edited', edits: 1, replies: [{ ts: reply.ts, text: 'later' }] });
    const last = slack.calls.at(-1)!;
    expect(last.contentType).toMatch(/application\/x-www-form-urlencoded/);
    expect(last.authorized).toBe(true);
    expect(last.params.blocks).toEqual(message.blocks);
  });

  it('reports a bad token as a permanent error without the token', async () => {
    const c = createSlackChannel({ token: 'xoxb-wrong-secret', apiUrl: slack.url, logger: silentLogger() });
    const err = await failure(c.post('#alerts', message));
    expect(err).toMatchObject({ code: 'invalid_auth', retryable: false, dependency: 'slack' });
    expect(err.message).not.toContain('xoxb');
  });

  it('turns a 429 into a retryable error carrying Retry-After', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    const err = await failure(channel().post('#alerts', message));
    expect(err).toMatchObject({ code: 'ratelimited', retryable: true, retryAfterMs: 7000 });
  });

  it('reports Slack errors by their Slack code', async () => {
    expect(await failure(channel().post('#gone', message))).toMatchObject({
      code: 'channel_not_found',
      retryable: false,
    });
    expect(await failure(channel().update('#alerts', '1.000000', message))).toMatchObject({
      code: 'message_not_found',
    });
    expect(await failure(channel().reply('#alerts', '1.000000', message))).toMatchObject({
      code: 'thread_not_found',
    });
    expect(
      await failure(
        channel().post('#alerts', {
          text: 'x',
          blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
        }),
      ),
    ).toMatchObject({ code: 'invalid_blocks', retryable: false });
    slack.failNext('chat.update', { error: 'service_unavailable' });
    expect(await failure(channel().update('#alerts', '1.000000', message))).toMatchObject({
      retryable: true,
    });
  });

  it('treats an unreachable Slack as retryable', async () => {
    const c = createSlackChannel({
      token: TOKEN,
      apiUrl: 'http://127.0.0.1:9/api/',
      logger: silentLogger(),
      timeoutMs: 2000,
    });
    expect(await failure(c.post('#alerts', message))).toMatchObject({ retryable: true });
  });
});
