import { AnthropicBedrock } from '@anthropic-ai/bedrock-sdk';
import {
  BadRequestError,
  InternalServerError,
  PermissionDeniedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BEDROCK_ANTHROPIC_VERSION, startBedrockStandIn } from './bedrock-runtime.ts';

const CREDS = {
  accessKeyId: 'AKIDSTANDINTEST00001',
  secretAccessKey: 'stand-in-secret-key-0123456789abcdefghij',
};
const MODEL = 'global.anthropic.claude-haiku-4-5-20251001-v1:0';

/** The stand-in answers as Bedrock Runtime's InvokeModel does: these keep it honest. */
describe('Bedrock Runtime stand-in', () => {
  let bedrock: Awaited<ReturnType<typeof startBedrockStandIn>>;
  beforeAll(async () => {
    bedrock = await startBedrockStandIn({
      credentials: CREDS,
      region: 'eu-west-1',
      models: [MODEL],
      minCacheTokens: 10,
    });
  });
  afterAll(() => bedrock?.close());
  beforeEach(() => {
    bedrock.calls.length = 0;
    bedrock.reset();
  });

  const client = (over: Partial<ConstructorParameters<typeof AnthropicBedrock>[0]> = {}) =>
    new AnthropicBedrock({
      awsRegion: 'eu-west-1',
      baseURL: bedrock.url,
      awsAccessKey: CREDS.accessKeyId,
      awsSecretKey: CREDS.secretAccessKey,
      apiKey: null,
      maxRetries: 0,
      defaultHeaders: { 'anthropic-version': BEDROCK_ANTHROPIC_VERSION },
      ...over,
    } as ConstructorParameters<typeof AnthropicBedrock>[0]);
  const params = {
    model: MODEL,
    max_tokens: 100,
    system: [
      { type: 'text' as const, text: 'rules '.repeat(50), cache_control: { type: 'ephemeral' as const } },
    ],
    tools: [
      { name: 'draft', input_schema: { type: 'object' as const, properties: { a: { type: 'string' } } } },
    ],
    tool_choice: { type: 'tool' as const, name: 'draft' },
    messages: [{ role: 'user' as const, content: 'hello' }],
  };

  it('takes the SDK request: SigV4-signed POST /model/{id}/invoke, anthropic_version in the body, no model', async () => {
    bedrock.script({ kind: 'tool_use', input: { a: 'x' } }, { kind: 'tool_use', input: { a: 'y' } });
    const first = await client().messages.create(params);
    expect(first.content[0]).toMatchObject({ type: 'tool_use', name: 'draft', input: { a: 'x' } });
    expect(first.model).toBe('claude-haiku-4-5-20251001');
    const call = bedrock.calls[0]!;
    expect(call).toMatchObject({ method: 'POST', modelId: MODEL, status: 200, errorType: null });
    // The SDK leaves `:` as it is in the path; the signature's canonical URI encodes it.
    expect(call.path).toBe('/model/global.anthropic.claude-haiku-4-5-20251001-v1:0/invoke');
    expect(call.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDSTANDINTEST00001\/\d{8}\/eu-west-1\/bedrock\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-date[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(call.headers['anthropic-version']).toBeUndefined();
    expect(call.body).toMatchObject({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100 });
    expect(call.body).not.toHaveProperty('model');
    // The prefix is cached per model, as on the API.
    const second = await client().messages.create(params);
    expect(second.usage.cache_read_input_tokens).toBeGreaterThan(0);
  });

  it('refuses what Bedrock refuses, with its error shapes and statuses', async () => {
    bedrock.fallback = { kind: 'tool_use', input: { a: 'x' } };
    // Wrong secret: the signature does not verify.
    await expect(
      client({ awsSecretKey: 'not-the-secret-key-0123456789abcdefghij' }).messages.create(params),
    ).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(bedrock.calls.at(-1)).toMatchObject({ status: 403, errorType: 'InvalidSignatureException' });
    // A body changed after signing.
    const tampering: typeof fetch = (url, init) =>
      fetch(url, { ...init, body: String(init?.body).replace('hello', 'HELLO') });
    await expect(client({ fetch: tampering }).messages.create(params)).rejects.toBeInstanceOf(
      PermissionDeniedError,
    );
    expect(bedrock.calls.at(-1)).toMatchObject({ status: 403, errorType: 'InvalidSignatureException' });
    // Another region in the credential scope.
    await expect(client({ awsRegion: 'us-east-1' }).messages.create(params)).rejects.toBeInstanceOf(
      PermissionDeniedError,
    );
    // The SDK 1.x default version in the body (no defaultHeaders override) is not Bedrock's.
    await expect(client({ defaultHeaders: {} }).messages.create(params)).rejects.toBeInstanceOf(
      BadRequestError,
    );
    expect(bedrock.calls.at(-1)).toMatchObject({ status: 400, errorType: 'ValidationException' });
    expect(bedrock.calls.at(-1)!.body!.anthropic_version).toBe('2026-10-21');
    // A model it does not serve.
    await expect(
      client().messages.create({ ...params, model: 'anthropic.claude-nope-v1:0' }),
    ).rejects.toBeInstanceOf(BadRequestError);

    const raw = async (body: unknown, headers: Record<string, string>) => {
      const res = await fetch(`${bedrock.url}/model/${encodeURIComponent(MODEL)}/invoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return {
        status: res.status,
        type: res.headers.get('x-amzn-errortype'),
        body: (await res.json()) as { message: string },
      };
    };
    expect(await raw({}, {})).toMatchObject({
      status: 403,
      type: expect.stringMatching(/^MissingAuthenticationTokenException:/),
      body: { message: 'Missing Authentication Token' },
    });
    expect(await raw({}, { authorization: 'Bearer abc' })).toMatchObject({
      status: 400,
      type: expect.stringMatching(/^IncompleteSignature:/),
    });
    expect(
      await raw(
        {},
        {
          authorization: `AWS4-HMAC-SHA256 Credential=AKIDOTHER/20260101/eu-west-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
        },
      ),
    ).toMatchObject({ status: 403, type: expect.stringMatching(/^UnrecognizedClientException:/) });
  });

  it('answers scripted errors as Bedrock does: {message} and x-amzn-ErrorType, no retry-after', async () => {
    bedrock.script(
      { kind: 'error', type: 'ThrottlingException' },
      { kind: 'error', type: 'ServiceUnavailableException' },
      { kind: 'error', type: 'ValidationException', message: 'max_tokens: too large' },
    );
    const throttled = await client()
      .messages.create(params)
      .catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(RateLimitError);
    expect((throttled as RateLimitError).status).toBe(429);
    expect((throttled as RateLimitError).headers?.get('retry-after')).toBeNull();
    expect((throttled as RateLimitError).headers?.get('x-amzn-errortype')).toMatch(/^ThrottlingException:/);
    expect((throttled as Error).message).toContain('Too many tokens, please wait before trying again.');
    expect(
      await client()
        .messages.create(params)
        .catch((e: unknown) => e),
    ).toBeInstanceOf(InternalServerError);
    expect(
      await client()
        .messages.create(params)
        .catch((e: unknown) => e),
    ).toBeInstanceOf(BadRequestError);
    expect(bedrock.calls.map((c) => c.status)).toEqual([429, 503, 400]);
  });
});
