import Anthropic, {
  AuthenticationError,
  BadRequestError,
  OverloadedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicStandIn } from './anthropic-api.ts';

const KEY = 'sk-ant-stand-in-test';

/** The stand-in answers as the Messages API does: these keep it honest. */
describe('Anthropic Messages API stand-in', () => {
  let api: Awaited<ReturnType<typeof startAnthropicStandIn>>;
  beforeAll(async () => {
    api = await startAnthropicStandIn({ apiKey: KEY, minCacheTokens: 10 });
  });
  afterAll(() => api?.close());
  beforeEach(() => {
    api.calls.length = 0;
    api.reset();
  });

  const tool = { name: 'draft', input_schema: { type: 'object', properties: { a: { type: 'string' } } } };
  const valid = {
    model: 'claude-haiku-4-5',
    max_tokens: 100,
    system: [{ type: 'text', text: 'rules '.repeat(50), cache_control: { type: 'ephemeral' } }],
    tools: [tool],
    tool_choice: { type: 'tool', name: 'draft' },
    messages: [{ role: 'user', content: 'hello' }],
  };

  async function raw(body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${api.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': KEY,
        'anthropic-version': '2023-06-01',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  }

  it('checks the key, the version header and the body, answering with error shapes', async () => {
    api.fallback = { kind: 'tool_use', input: { a: 'x' } };
    expect(await raw(valid, { 'x-api-key': 'wrong' })).toMatchObject({
      status: 401,
      body: { type: 'error', error: { type: 'authentication_error' } },
    });
    expect(await raw(valid, { 'anthropic-version': '' })).toMatchObject({
      status: 400,
      body: { error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } },
    });
    const bad = async (body: unknown) => (await raw(body)).body.error as { type: string; message: string };
    expect((await bad({ ...valid, model: undefined })).message).toContain('model');
    expect((await bad({ ...valid, max_tokens: 0 })).message).toContain('max_tokens');
    expect((await bad({ ...valid, messages: [] })).message).toContain('messages');
    expect((await bad({ ...valid, messages: [{ role: 'system', content: 'x' }] })).message).toContain('role');
    expect(
      (await bad({ ...valid, tools: [{ name: 'draft', input_schema: { type: 'string' } }] })).message,
    ).toContain('input_schema.type');
    expect((await bad({ ...valid, tool_choice: { type: 'tool', name: 'other' } })).message).toContain(
      'tool_choice.name',
    );
    expect((await bad({ ...valid, temperature_x: 1 })).message).toContain('Extra inputs are not permitted');
    expect((await bad('{nope')).message).toContain('JSON');
    expect(api.calls.every((c) => c.status >= 400)).toBe(true);
  });

  it('answers a forced tool call with the scripted input, usage and prompt caching', async () => {
    api.script(
      { kind: 'tool_use', input: { a: 'one' } },
      { kind: 'tool_use', input: (req) => ({ a: req.model }) },
    );
    const first = await raw(valid);
    expect(first.status).toBe(200);
    expect(first.headers.get('request-id')).toMatch(/^req_/);
    expect(first.body).toMatchObject({
      type: 'message',
      role: 'assistant',
      stop_reason: 'tool_use',
      content: [{ type: 'tool_use', name: 'draft', input: { a: 'one' } }],
    });
    const u1 = first.body.usage as Record<string, number>;
    expect(u1.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(u1.cache_read_input_tokens).toBe(0);
    const second = await raw(valid);
    expect(second.body.content).toEqual([expect.objectContaining({ input: { a: 'claude-haiku-4-5' } })]);
    const u2 = second.body.usage as Record<string, number>;
    expect(u2.cache_read_input_tokens).toBe(u1.cache_creation_input_tokens);
    expect(u2.cache_creation_input_tokens).toBe(0);
  });

  it('fails as scripted, in the shapes the SDK turns into its error classes', async () => {
    const client = new Anthropic({ apiKey: KEY, baseURL: api.url, maxRetries: 0 });
    const create = () =>
      client.messages.create({
        model: 'claude-haiku-4-5',
        max_tokens: 100,
        tools: [{ name: 'draft', input_schema: { type: 'object' } }],
        tool_choice: { type: 'tool', name: 'draft' },
        messages: [{ role: 'user', content: 'hi' }],
      });
    api.script(
      { kind: 'error', status: 429, retryAfter: 7 },
      { kind: 'error', status: 529 },
      { kind: 'error', status: 401 },
      { kind: 'error', status: 400 },
      { kind: 'refusal' },
      { kind: 'malformed' },
    );
    const e429 = await create().catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(RateLimitError);
    expect((e429 as RateLimitError).headers?.get('retry-after')).toBe('7');
    expect(await create().catch((e: unknown) => e)).toBeInstanceOf(OverloadedError);
    expect(await create().catch((e: unknown) => e)).toBeInstanceOf(AuthenticationError);
    expect(await create().catch((e: unknown) => e)).toBeInstanceOf(BadRequestError);
    const refusal = await create();
    expect(refusal.stop_reason).toBe('refusal');
    expect(refusal.content).toEqual([]);
    const malformed = await create();
    expect(malformed.content[0]).toMatchObject({ type: 'tool_use', input: { title: 42 } });
    // SDK 1.x sends the key as a bearer token and the 2026-10-21 API version.
    expect(api.calls[0]!.headers).toMatchObject({
      auth: 'bearer',
      authorized: 'true',
      'anthropic-version': '2026-10-21',
    });
  });

  it('answers slowly when told to, and notices a client that gave up', async () => {
    api.script({ kind: 'tool_use', input: { a: 'late' }, delayMs: 600 });
    const client = new Anthropic({ apiKey: KEY, baseURL: api.url, maxRetries: 0, timeout: 100 });
    const started = Date.now();
    await expect(
      client.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toThrow(/timed out/i);
    expect(Date.now() - started).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 700));
    expect(api.calls.at(-1)).toMatchObject({ status: 0 });
  });
});
