import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSlackStandIn } from './slack-api.ts';

const TOKEN = 'xoxb-stand-in-secret';

/** The stand-in answers as Slack's Web API does: these keep it honest. */
describe('Slack Web API stand-in', () => {
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  beforeAll(async () => {
    slack = await startSlackStandIn({ token: TOKEN, unknownChannels: ['#gone'] });
  });
  afterAll(() => slack?.close());
  beforeEach(() => {
    slack.calls.length = 0;
  });

  const form = (params: Record<string, unknown>) =>
    new URLSearchParams(
      Object.entries(params).map(([k, v]): [string, string] => [
        k,
        typeof v === 'string' ? v : JSON.stringify(v),
      ]),
    ).toString();

  async function call(
    method: string,
    body: string | Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    const r = await fetch(`${slack.url}${method}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Bearer ${TOKEN}`,
        ...headers,
      },
      body: typeof body === 'string' ? body : form(body),
    });
    return {
      status: r.status,
      body: (await r.json()) as Record<string, unknown>,
      retryAfter: r.headers.get('retry-after'),
    };
  }

  it('checks the bearer token', async () => {
    const body = { channel: '#a', text: 'x' };
    expect((await call('chat.postMessage', body, { authorization: '' })).body).toEqual({
      ok: false,
      error: 'not_authed',
    });
    expect((await call('chat.postMessage', body, { authorization: 'Bearer nope' })).body).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    expect(slack.calls.map((c) => c.authorized)).toEqual([false, false]);
  });

  it('posts with unique, increasing ts and keeps the message', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }];
    const answers = [];
    for (let i = 0; i < 5; i++)
      answers.push((await call('chat.postMessage', { channel: '#a', text: `m${i}`, blocks })).body);
    // Like Slack, it answers with the channel's id, not the name posted to.
    const a0 = slack.channelId('#a');
    expect(a0).toMatch(/^C[A-Z0-9]{10}$/);
    for (const a of answers) expect(a).toMatchObject({ ok: true, channel: a0, message: { blocks } });
    const ts = answers.map((a) => String(a.ts));
    for (const t of ts) expect(t).toMatch(/^\d+\.\d{6}$/);
    expect([...ts].sort()).toEqual(ts);
    expect(new Set(ts).size).toBe(5);
    expect(slack.messages().find((m) => m.ts === ts[0])).toMatchObject({ channel: a0, text: 'm0', blocks });
    expect(slack.calls[0]!.params).toEqual({ channel: '#a', text: 'm0', blocks });
  });

  it('requires a known channel and some text, and well-formed blocks', async () => {
    expect((await call('chat.postMessage', { text: 'x' })).body.error).toBe('channel_not_found');
    expect((await call('chat.postMessage', { channel: '#gone', text: 'x' })).body.error).toBe(
      'channel_not_found',
    );
    expect((await call('chat.postMessage', { channel: '#a' })).body.error).toBe('no_text');
    expect((await call('chat.postMessage', 'channel=%23a&blocks=%5Bnot-json')).body.error).toBe(
      'invalid_blocks_format',
    );
    expect((await call('chat.postMessage', { channel: '#a', blocks: { type: 'divider' } })).body.error).toBe(
      'invalid_blocks_format',
    );
    const invalid = await call('chat.postMessage', {
      channel: '#a',
      text: 'x',
      blocks: [{ type: 'carousel' }],
    });
    expect(invalid.body).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(invalid.body.errors).toEqual([expect.stringContaining('blocks[0].type')]);
  });

  it('replies only in the thread of an existing top-level message', async () => {
    const parent = (await call('chat.postMessage', { channel: '#a', text: 'parent' })).body;
    const reply = await call('chat.postMessage', { channel: '#a', text: 'r', thread_ts: parent.ts });
    expect(reply.body).toMatchObject({ ok: true, message: { thread_ts: parent.ts } });
    expect(
      (await call('chat.postMessage', { channel: '#a', text: 'r', thread_ts: '1.000000' })).body.error,
    ).toBe('thread_not_found');
    expect(
      (await call('chat.postMessage', { channel: '#b', text: 'r', thread_ts: parent.ts })).body.error,
    ).toBe('thread_not_found');
    // A reply's ts is not a thread of its own.
    expect(
      (await call('chat.postMessage', { channel: '#a', text: 'r', thread_ts: reply.body.ts })).body.error,
    ).toBe('thread_not_found');
    expect(slack.messages().find((m) => m.ts === reply.body.ts)).toMatchObject({ threadTs: parent.ts });
  });

  it('edits existing messages in place', async () => {
    const posted = (await call('chat.postMessage', { channel: '#a', text: 'before' })).body;
    const edited = await call('chat.update', { channel: '#a', ts: posted.ts, text: '[RESOLVED] after' });
    expect(edited.body).toMatchObject({
      ok: true,
      channel: slack.channelId('#a'),
      ts: posted.ts,
      text: '[RESOLVED] after',
    });
    expect(slack.messages().find((m) => m.ts === posted.ts)).toMatchObject({
      text: '[RESOLVED] after',
      edits: 1,
    });
    expect((await call('chat.update', { channel: '#a', ts: '1.000000', text: 'x' })).body.error).toBe(
      'message_not_found',
    );
    expect((await call('chat.update', { channel: '#b', ts: posted.ts, text: 'x' })).body.error).toBe(
      'message_not_found',
    );
  });

  it('takes JSON bodies too', async () => {
    const r = await call('chat.postMessage', JSON.stringify({ channel: '#a', text: 'json', blocks: [] }), {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(r.body).toMatchObject({ ok: true, channel: slack.channelId('#a') });
    expect((await call('chat.postMessage', '{nope', { 'content-type': 'application/json' })).body.error).toBe(
      'invalid_json',
    );
  });

  it('fails the next calls as told: 429 with Retry-After, 5xx, platform errors; then recovers', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 3 });
    slack.failNext('chat.postMessage', { error: 'fatal_error' });
    slack.failNext('chat.update', { status: 502 });
    const body = { channel: '#a', text: 'x' };
    expect(await call('chat.postMessage', body)).toMatchObject({
      status: 429,
      retryAfter: '3',
      body: { ok: false, error: 'ratelimited' },
    });
    expect(await call('chat.postMessage', body)).toMatchObject({
      status: 200,
      body: { error: 'fatal_error' },
    });
    expect((await call('chat.update', { channel: '#a', ts: '1.0', text: 'x' })).status).toBe(502);
    expect((await call('chat.postMessage', body)).body.ok).toBe(true);
    expect(slack.calls.map((c) => c.status)).toEqual([429, 200, 502, 200]);
  });

  it('rejects unknown methods and bodies it cannot read', async () => {
    expect((await call('chat.explode', 'a=b')).body.error).toBe('unknown_method');
    expect((await call('chat.postMessage', 'x', { 'content-type': 'text/plain' })).body.error).toBe(
      'invalid_form_data',
    );
  });

  it('keeps message metadata and finds posts again with conversations.history (by channel id only)', async () => {
    const metadata = { event_type: 'guardian_incident', event_payload: { incident_id: 'inc_1' } };
    const before = (await call('chat.postMessage', { channel: '#hist', text: 'plain' })).body;
    const tagged = (await call('chat.postMessage', { channel: '#hist', text: 'tagged', metadata })).body;
    await call('chat.postMessage', { channel: '#hist', text: 'reply', thread_ts: tagged.ts, metadata });
    const id = slack.channelId('#hist');
    expect((await call('conversations.history', { channel: '#hist' })).body.error).toBe('channel_not_found');

    const all = (await call('conversations.history', { channel: id, include_all_metadata: true })).body;
    expect(all.ok).toBe(true);
    const messages = all.messages as { ts: string; text: string; metadata?: unknown }[];
    // Newest first, top-level only.
    expect(messages.map((m) => m.text)).toEqual(['tagged', 'plain']);
    expect(messages[0]!.metadata).toEqual(metadata);

    const without = (await call('conversations.history', { channel: id })).body;
    expect((without.messages as { metadata?: unknown }[])[0]!.metadata).toBeUndefined();
    const since = (await call('conversations.history', { channel: id, oldest: before.ts })).body;
    expect((since.messages as { text: string }[]).map((m) => m.text)).toEqual(['tagged']);

    const paged = (await call('conversations.history', { channel: id, limit: 1 })).body;
    expect(paged).toMatchObject({ has_more: true, messages: [{ text: 'tagged' }] });
    const cursor = (paged.response_metadata as { next_cursor: string }).next_cursor;
    const next = (await call('conversations.history', { channel: id, limit: 1, cursor })).body;
    expect(next).toMatchObject({ has_more: false, messages: [{ text: 'plain' }] });

    expect(
      (await call('chat.postMessage', { channel: '#hist', text: 'x', metadata: { event_type: 'a b' } })).body
        .error,
    ).toBe('invalid_metadata_format');
    const list = (await call('conversations.list', {})).body;
    expect(list.channels).toContainEqual(expect.objectContaining({ id, name: 'hist' }));
  });

  it('answers conversations.replies with the parent first, then replies oldest first', async () => {
    const parent = (await call('chat.postMessage', { channel: '#thread', text: 'parent' })).body;
    const meta = (n: number) => ({
      event_type: 'guardian_incident_reply',
      event_payload: { reply_id: `r${n}` },
    });
    const r1 = (
      await call('chat.postMessage', {
        channel: '#thread',
        text: 'one',
        thread_ts: parent.ts,
        metadata: meta(1),
      })
    ).body;
    await call('chat.postMessage', {
      channel: '#thread',
      text: 'two',
      thread_ts: parent.ts,
      metadata: meta(2),
    });
    await call('chat.postMessage', { channel: '#thread', text: 'elsewhere' });
    const id = slack.channelId('#thread');
    expect((await call('conversations.replies', { channel: '#thread', ts: parent.ts })).body.error).toBe(
      'channel_not_found',
    );
    expect((await call('conversations.replies', { channel: id, ts: '1.000001' })).body.error).toBe(
      'thread_not_found',
    );

    const all = (
      await call('conversations.replies', { channel: id, ts: parent.ts, include_all_metadata: true })
    ).body;
    const messages = all.messages as { text: string; thread_ts: string; metadata?: unknown }[];
    expect(messages.map((m) => m.text)).toEqual(['parent', 'one', 'two']);
    expect(messages.every((m) => m.thread_ts === parent.ts)).toBe(true);
    expect(messages[2]!.metadata).toEqual(meta(2));
    // From a reply's ts too; without include_all_metadata, no metadata.
    const fromReply = (await call('conversations.replies', { channel: id, ts: r1.ts })).body;
    expect(
      (fromReply.messages as { text: string; metadata?: unknown }[]).map((m) => [m.text, m.metadata]),
    ).toEqual([
      ['parent', undefined],
      ['one', undefined],
      ['two', undefined],
    ]);
    const after = (await call('conversations.replies', { channel: id, ts: parent.ts, oldest: r1.ts })).body;
    expect((after.messages as { text: string }[]).map((m) => m.text)).toEqual(['parent', 'two']);
    const paged = (await call('conversations.replies', { channel: id, ts: parent.ts, limit: 2 })).body;
    expect(paged).toMatchObject({ has_more: true });
    const cursor = (paged.response_metadata as { next_cursor: string }).next_cursor;
    const rest = (await call('conversations.replies', { channel: id, ts: parent.ts, limit: 2, cursor })).body;
    expect(rest).toMatchObject({ has_more: false, messages: [{ text: 'two' }] });
  });

  it('can carry out a call and lose its answer', async () => {
    slack.loseNextResponse('chat.postMessage');
    await expect(call('chat.postMessage', { channel: '#lost', text: 'sent anyway' })).rejects.toThrow();
    expect(slack.messages().filter((m) => m.channel === slack.channelId('#lost'))).toHaveLength(1);
    expect((await call('chat.postMessage', { channel: '#lost', text: 'again' })).body.ok).toBe(true);
  });

  it('takes posts to the response_urls it hands out', async () => {
    const r = await fetch(slack.responseUrl('cmd-1'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', text: 'hi' }),
    });
    expect(await r.text()).toBe('ok');
    expect(slack.responses).toContainEqual({ id: 'cmd-1', body: { response_type: 'ephemeral', text: 'hi' } });
  });

  it('never records the token, even one sent in the body', async () => {
    await call('chat.postMessage', { channel: '#a', text: 'x', token: TOKEN });
    await call('chat.postMessage', { channel: '#a', text: 'x' }, { authorization: `Bearer ${TOKEN}-other` });
    expect(slack.calls).toHaveLength(2);
    expect(JSON.stringify(slack.calls)).not.toContain(TOKEN);
    expect(JSON.stringify(slack.messages())).not.toContain(TOKEN);
  });

  it('lists a user group’s members with Slack’s documented errors', async () => {
    slack.setUsergroup('S0GROUP001', ['U0AAA', 'U0BBB']);
    expect((await call('usergroups.users.list', { usergroup: 'S0GROUP001' })).body).toEqual({
      ok: true,
      users: ['U0AAA', 'U0BBB'],
    });
    expect((await call('usergroups.users.list', { usergroup: 'S0NOPE' })).body).toEqual({
      ok: false,
      error: 'no_such_subteam',
    });
    expect((await call('usergroups.users.list', {})).body).toEqual({ ok: false, error: 'invalid_arguments' });
    expect(
      (await call('usergroups.users.list', { usergroup: 'S0GROUP001' }, { authorization: '' })).body,
    ).toEqual({
      ok: false,
      error: 'not_authed',
    });
    const narrow = await startSlackStandIn({
      token: TOKEN,
      scopes: ['chat:write'],
      usergroups: { S1: ['U1'] },
    });
    const free = await startSlackStandIn({ token: TOKEN, freePlan: true, usergroups: { S1: ['U1'] } });
    try {
      const ask = (base: string) =>
        fetch(`${base}usergroups.users.list`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${TOKEN}` },
          body: 'usergroup=S1',
        }).then((r) => r.json());
      expect(await ask(narrow.url)).toEqual({
        ok: false,
        error: 'missing_scope',
        needed: 'usergroups:read',
        provided: 'chat:write',
      });
      expect(await ask(free.url)).toEqual({ ok: false, error: 'plan_upgrade_required' });
    } finally {
      await narrow.close();
      await free.close();
    }
  });
});
