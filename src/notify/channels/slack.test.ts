import type { Attributes } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSlackStandIn } from '../../../test/fakes/slack-api.ts';
import { DependencyError } from '../../core/index.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import { createSlackChannel, type SlackChannelOptions } from './slack.ts';

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

/** The real `@slack/web-api` client against the Slack Web API stand-in. */
describe('Slack channel', () => {
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let counted: Attributes[];
  const metrics: SlackChannelOptions['metrics'] = {
    slackCalls: { add: (_n: number, attributes?: Attributes) => void counted.push(attributes ?? {}) },
  };

  beforeAll(async () => {
    slack = await startSlackStandIn({ token: TOKEN, unknownChannels: ['#gone'] });
  });
  afterAll(() => slack?.close());
  beforeEach(() => {
    counted = [];
    slack.calls.length = 0;
  });

  const channel = (token = TOKEN) =>
    createSlackChannel({ token, apiUrl: slack.url, logger: silentLogger(), metrics });

  it('posts, replies in the thread and edits, form-encoded with a bearer token', async () => {
    const c = channel();
    expect(c.kind).toBe('slack');
    const post = await c.post('#alerts', message);
    // Slack answers with the channel's id; replies and edits use it.
    expect(post.channel).toBe(slack.channelId('#alerts'));
    expect(post.ts).toMatch(/^\d+\.\d{6}$/);
    const reply = await c.reply('#alerts', post.ts, { text: 'later', blocks: [] });
    expect(Number(reply.ts)).toBeGreaterThan(Number(post.ts));
    const updated = await c.update('#alerts', post.ts, { text: 'edited', blocks: message.blocks });
    expect(updated).toEqual(post);

    const stored = slack.messages().filter((m) => m.channel === slack.channelId('#alerts'));
    expect(stored.find((m) => m.ts === post.ts)).toMatchObject({ text: 'edited', edits: 1 });
    expect(stored.find((m) => m.ts === reply.ts)).toMatchObject({ threadTs: post.ts, text: 'later' });

    expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.postMessage', 'chat.update']);
    expect(slack.calls.every((c) => c.authorized && /x-www-form-urlencoded/.test(c.contentType))).toBe(true);
    expect(slack.calls[0]!.params.blocks).toEqual(message.blocks);
    expect(slack.calls[1]!.params.thread_ts).toBe(post.ts);
    expect(slack.calls[2]!.params).toMatchObject({ channel: '#alerts', ts: post.ts, text: 'edited' });
    expect(counted).toEqual([
      { method: 'chat.postMessage', outcome: 'ok' },
      { method: 'chat.postMessage', outcome: 'ok' },
      { method: 'chat.update', outcome: 'ok' },
    ]);
  });

  it('reports a bad token as a permanent invalid_auth, without the token', async () => {
    const wrong = 'xoxb-wrong-secret';
    const err = await failure(channel(wrong).post('#alerts', message));
    expect(err).toMatchObject({ code: 'invalid_auth', retryable: false, dependency: 'slack' });
    expect(err.message).not.toContain(wrong);
    expect(JSON.stringify(err)).not.toContain(wrong);
    expect(slack.calls[0]!.authorized).toBe(false);
    expect(counted).toEqual([{ method: 'chat.postMessage', outcome: 'invalid_auth' }]);
  });

  it('turns a 429 into a retryable error carrying Retry-After, without retrying itself', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    const err = await failure(channel().post('#alerts', message));
    expect(err).toMatchObject({ code: 'ratelimited', retryable: true, retryAfterMs: 7000 });
    expect(slack.calls).toHaveLength(1);
  });

  it('treats HTTP 5xx and retryable platform errors as retryable', async () => {
    slack.failNext('chat.postMessage', { status: 503 });
    expect(await failure(channel().post('#alerts', message))).toMatchObject({
      code: 'http_503',
      retryable: true,
    });
    for (const code of [
      'internal_error',
      'fatal_error',
      'service_unavailable',
      'request_timeout',
      'ratelimited',
    ]) {
      slack.failNext('chat.update', { error: code });
      expect(await failure(channel().update('#alerts', '1.000000', message))).toMatchObject({
        code,
        retryable: true,
      });
    }
    expect(slack.calls).toHaveLength(6);
  });

  it('reports permanent Slack errors by their Slack code', async () => {
    expect(await failure(channel().post('#gone', message))).toMatchObject({
      code: 'channel_not_found',
      retryable: false,
    });
    expect(await failure(channel().update('#alerts', '1.000000', message))).toMatchObject({
      code: 'message_not_found',
      retryable: false,
    });
    expect(await failure(channel().reply('#alerts', '1.000000', message))).toMatchObject({
      code: 'thread_not_found',
      retryable: false,
    });
  });

  it('rejects invalid blocks as a permanent invalid_blocks that says which block', async () => {
    const err = await failure(
      channel().post('#alerts', {
        text: 'x',
        blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
      }),
    );
    expect(err).toMatchObject({ code: 'invalid_blocks', retryable: false });
    expect(err.message).toContain('blocks[0].text');
  });

  it('treats an unreachable Slack as retryable', async () => {
    const c = createSlackChannel({
      token: TOKEN,
      apiUrl: 'http://127.0.0.1:9/api/',
      logger: silentLogger(),
      timeoutMs: 2000,
    });
    const err = await failure(c.post('#alerts', message));
    expect(err).toMatchObject({ code: 'request_failed', retryable: true });
    expect(err.message).not.toContain(TOKEN);
  });
});
