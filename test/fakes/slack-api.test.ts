import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandIn } from './slack-api.ts';

/** The stand-in itself answers as Slack's Web API does: these keep it honest. */
describe('Slack Web API stand-in', () => {
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  beforeAll(async () => {
    slack = await startSlackStandIn({ token: 'xoxb-t' });
  });
  afterAll(() => slack?.close());

  const call = (method: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${slack.url}${method}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'Bearer xoxb-t',
        ...headers,
      },
      body,
    }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as Record<string, unknown>,
      retryAfter: r.headers.get('retry-after'),
    }));

  it('checks the token', async () => {
    expect((await call('chat.postMessage', 'channel=%23a&text=x', { authorization: '' })).body).toEqual({
      ok: false,
      error: 'not_authed',
    });
    expect(
      (await call('chat.postMessage', 'channel=%23a&text=x', { authorization: 'Bearer nope' })).body,
    ).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
  });

  it('requires a channel and some text, and parses JSON-encoded blocks', async () => {
    expect((await call('chat.postMessage', 'text=x')).body.error).toBe('channel_not_found');
    expect((await call('chat.postMessage', 'channel=%23a')).body.error).toBe('no_text');
    expect((await call('chat.postMessage', 'channel=%23a&blocks=%5Bnot-json')).body.error).toBe(
      'invalid_blocks_format',
    );
    const ok = await call(
      'chat.postMessage',
      `channel=%23a&text=x&blocks=${encodeURIComponent('[{"type":"divider"}]')}`,
    );
    expect(ok.body).toMatchObject({ ok: true, channel: '#a' });
    expect(ok.body.ts).toMatch(/^\d+\.\d{6}$/);
  });

  it('answers 429 with Retry-After when told to, then recovers', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 3 });
    const limited = await call('chat.postMessage', 'channel=%23a&text=x');
    expect(limited).toMatchObject({
      status: 429,
      retryAfter: '3',
      body: { ok: false, error: 'ratelimited' },
    });
    expect((await call('chat.postMessage', 'channel=%23a&text=x')).body.ok).toBe(true);
  });

  it('rejects unknown methods and non-form bodies', async () => {
    expect((await call('chat.explode', 'a=b')).body.error).toBe('unknown_method');
    expect((await call('chat.postMessage', 'x', { 'content-type': 'text/plain' })).body.error).toBe(
      'invalid_form_data',
    );
  });

  it('never records the token', () => {
    expect(JSON.stringify(slack.calls)).not.toContain('xoxb-t');
  });
});
