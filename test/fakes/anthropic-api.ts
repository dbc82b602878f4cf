import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** API versions the stand-in accepts in `anthropic-version` (the SDK 1.x sends 2026-10-21). */
const VERSIONS = new Set(['2023-06-01', '2026-10-21']);

/** One answer the stand-in gives to `POST /v1/messages`, in the order scripted. */
export type ScriptedReply =
  /** A `tool_use` of the forced tool with this input (or the input computed from the request). */
  | {
      readonly kind: 'tool_use';
      readonly input: Readonly<Record<string, unknown>> | ((request: MessagesRequest) => unknown);
      readonly delayMs?: number;
    }
  /** A `tool_use` whose input does not match the tool's schema. */
  | { readonly kind: 'malformed'; readonly delayMs?: number }
  /** `stop_reason: "refusal"`. */
  | { readonly kind: 'refusal'; readonly delayMs?: number }
  /** Plain text, `end_turn`, no tool call. */
  | { readonly kind: 'text'; readonly text: string; readonly delayMs?: number }
  /** An API error with its status: 400, 401, 429 (with `retry-after`), 500, 529. */
  | {
      readonly kind: 'error';
      readonly status: 400 | 401 | 429 | 500 | 529;
      readonly retryAfter?: number;
      readonly delayMs?: number;
    };

/** A request body as the stand-in parsed it. */
export interface MessagesRequest {
  readonly model: string;
  readonly max_tokens: number;
  readonly messages: readonly { role: string; content: unknown }[];
  readonly system?: unknown;
  readonly tools?: readonly { name: string; input_schema: unknown; [k: string]: unknown }[];
  readonly tool_choice?: { type: string; name?: string };
  readonly [key: string]: unknown;
}

/** One call as received, whatever was answered. */
export interface RecordedMessagesCall {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Null when the body was not JSON. */
  readonly body: MessagesRequest | null;
  readonly status: number;
  readonly response: unknown;
}

export interface AnthropicStandIn {
  /** `http://127.0.0.1:PORT` (the SDK appends `/v1/messages`). */
  readonly url: string;
  readonly calls: RecordedMessagesCall[];
  /** Queues replies, used in order; when the queue is empty, `fallback` answers. */
  script(...replies: ScriptedReply[]): void;
  /** Drops scripted replies not used yet, and forgets what is cached. */
  reset(): void;
  /** What answers when nothing is scripted. */
  fallback: ScriptedReply;
  close(): Promise<void>;
}

export interface AnthropicStandInOptions {
  /** The key `x-api-key` must carry. @defaultValue 'sk-ant-stand-in' */
  apiKey?: string;
  /** Prefixes shorter than this are not cached, like the real API's per-model minimum. @defaultValue 1024 */
  minCacheTokens?: number;
}

const ALLOWED_FIELDS = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'tools',
  'tool_choice',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'metadata',
  'stream',
  'cache_control',
  'output_config',
  'thinking',
  'service_tier',
]);

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

/**
 * A local stand-in for the Anthropic Messages API (`POST /v1/messages`) that checks requests the
 * way the API does: the key (`x-api-key`, or `Authorization: Bearer` as `@anthropic-ai/sdk` 1.x
 * sends it), `anthropic-version`, a JSON body with `model`, `max_tokens`,
 * `messages` (roles, content), `tools` with `input_schema`, `tool_choice` naming a tool that
 * exists, at most four `cache_control` breakpoints, no unknown fields. It answers with the API's
 * shapes: messages with `usage` (prompt caching simulated: a prefix up to the last breakpoint
 * is written once and read after), and errors as `{type: "error", error: {type, message}}` with
 * 400, 401, 429 (`retry-after`), 500 or 529. Replies are scripted: a valid tool call, a slow
 * one, an error, a malformed tool input, a refusal.
 */
export async function startAnthropicStandIn(
  options: AnthropicStandInOptions = {},
): Promise<AnthropicStandIn> {
  const apiKey = options.apiKey ?? 'sk-ant-stand-in';
  const minCacheTokens = options.minCacheTokens ?? 1024;
  const calls: RecordedMessagesCall[] = [];
  const queue: ScriptedReply[] = [];
  const simulator = createMessagesSimulator({ minCacheTokens });
  const state = {
    fallback: { kind: 'error', status: 500 } as ScriptedReply,
  };

  function check(req: IncomingMessage, raw: string): Answer | { ok: MessagesRequest } {
    const key = header(req, 'x-api-key') ?? header(req, 'authorization')?.replace(/^Bearer /, '');
    if (!key) return error(401, 'authentication_error', 'x-api-key header is required');
    if (key !== apiKey) return error(401, 'authentication_error', 'invalid x-api-key');
    const version = header(req, 'anthropic-version');
    if (!version) return error(400, 'invalid_request_error', 'anthropic-version: header is required');
    if (!VERSIONS.has(version))
      return error(400, 'invalid_request_error', `anthropic-version: unknown version ${version}`);
    if (!(header(req, 'content-type') ?? '').startsWith('application/json')) {
      return error(400, 'invalid_request_error', 'content-type must be application/json');
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return error(400, 'invalid_request_error', 'request body is not valid JSON');
    }
    if (!isRecord(body)) return error(400, 'invalid_request_error', 'request body must be an object');
    const problem = messagesBodyProblem(body, { allowedFields: ALLOWED_FIELDS, requireModel: true });
    if (problem) return error(400, 'invalid_request_error', problem);
    return { ok: body as unknown as MessagesRequest };
  }

  function reply(request: MessagesRequest, scripted: ScriptedReply): Answer {
    if (scripted.kind !== 'error') {
      return { status: 200, body: simulator.answer(request, request.model, scripted) };
    }
    const types: Record<number, [string, string]> = {
      400: ['invalid_request_error', 'invalid request'],
      401: ['authentication_error', 'invalid x-api-key'],
      429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'],
      500: ['api_error', 'Internal server error'],
      529: ['overloaded_error', 'Overloaded'],
    };
    const [type, msg] = types[scripted.status]!;
    const answer = error(scripted.status, type, msg);
    // Like the API: a 429 says when to come back.
    if (scripted.status === 429) answer.headers = { 'retry-after': String(scripted.retryAfter ?? 10) };
    return answer;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    const headers: Record<string, string> = {};
    for (const name of ['anthropic-version', 'content-type', 'x-stainless-retry-count']) {
      const v = header(req, name);
      if (v !== undefined) headers[name] = v;
    }
    // The API takes the key as `x-api-key` or as `Authorization: Bearer` (which SDK 1.x sends).
    const bearer = header(req, 'authorization')?.replace(/^Bearer /, '');
    headers.auth =
      header(req, 'x-api-key') !== undefined ? 'x-api-key' : bearer !== undefined ? 'bearer' : 'none';
    headers.authorized = String((header(req, 'x-api-key') ?? bearer) === apiKey);

    let answer: Answer;
    let body: MessagesRequest | null = null;
    if (req.method !== 'POST' || path !== '/v1/messages') {
      answer = error(404, 'not_found_error', `${req.method} ${path} not found`);
    } else {
      const checked = check(req, raw);
      if ('ok' in checked) {
        body = checked.ok;
        const scripted = queue.shift() ?? state.fallback;
        if (scripted.delayMs) {
          const closed = await waitOrClose(req, scripted.delayMs);
          if (closed) {
            calls.push({ path, headers, body, status: 0, response: 'client went away' });
            return;
          }
        }
        answer = reply(body, scripted);
      } else {
        answer = checked;
        try {
          body = JSON.parse(raw) as MessagesRequest;
        } catch {
          body = null;
        }
      }
    }
    calls.push({ path, headers, body, status: answer.status, response: answer.body });
    if (res.destroyed) return;
    res.writeHead(answer.status, {
      'content-type': 'application/json',
      'request-id': `req_${randomBytes(12).toString('hex')}`,
      ...answer.headers,
    });
    res.end(JSON.stringify(answer.body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: String(err) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    script: (...replies) => {
      queue.push(...replies);
    },
    reset: () => {
      queue.length = 0;
      simulator.reset();
    },
    get fallback() {
      return state.fallback;
    },
    set fallback(value: ScriptedReply) {
      state.fallback = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A scripted answer that is a Messages response (not an error). */
export type ScriptedMessage = Exclude<ScriptedReply, { kind: 'error' }>;

/**
 * The Messages response bodies both stand-ins answer with: the scripted content with the API's
 * shape and `usage`, prompt caching simulated (a prefix up to the last `cache_control` breakpoint
 * at least `minCacheTokens` long is written once and read after, per model).
 */
export function createMessagesSimulator(options: { readonly minCacheTokens: number }): {
  answer(request: MessagesRequest, model: string, scripted: ScriptedMessage): unknown;
  reset(): void;
} {
  const { minCacheTokens } = options;
  const cached = new Set<string>();

  function usage(request: MessagesRequest, model: string, outputTokens: number) {
    const tokens = (v: unknown) => Math.ceil(JSON.stringify(v ?? '').length / 4);
    // The cacheable prefix: tools, then system, up to the last block with a breakpoint.
    const prefix: unknown[] = [];
    let cachedUpTo = -1;
    for (const t of request.tools ?? []) {
      prefix.push(t);
      if (isRecord(t) && t.cache_control) cachedUpTo = prefix.length;
    }
    for (const b of Array.isArray(request.system) ? request.system : request.system ? [request.system] : []) {
      prefix.push(b);
      if (isRecord(b) && b.cache_control) cachedUpTo = prefix.length;
    }
    const total = tokens(request.tools) + tokens(request.system) + tokens(request.messages);
    let read = 0;
    let written = 0;
    if (cachedUpTo > 0) {
      const part = prefix.slice(0, cachedUpTo);
      const size = tokens(part);
      if (size >= minCacheTokens) {
        const key = createHash('sha256')
          .update(`${model}\0${JSON.stringify(part)}`)
          .digest('hex');
        if (cached.has(key)) read = size;
        else {
          written = size;
          cached.add(key);
        }
      }
    }
    return {
      input_tokens: Math.max(1, total - read - written),
      output_tokens: outputTokens,
      cache_creation_input_tokens: written,
      cache_read_input_tokens: read,
      cache_creation: { ephemeral_5m_input_tokens: written, ephemeral_1h_input_tokens: 0 },
      service_tier: 'standard',
      inference_geo: null,
      output_tokens_details: null,
      server_tool_use: null,
    };
  }

  function message(
    request: MessagesRequest,
    model: string,
    content: unknown[],
    stopReason: string,
    extra: Record<string, unknown> = {},
  ) {
    const output = Math.max(1, Math.ceil(JSON.stringify(content).length / 4));
    return {
      id: `msg_${randomBytes(12).toString('hex')}`,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage: usage(request, model, output),
      ...extra,
    };
  }

  function answer(request: MessagesRequest, model: string, scripted: ScriptedMessage): unknown {
    const toolName =
      request.tool_choice?.type === 'tool' ? request.tool_choice.name! : (request.tools?.[0]?.name ?? 'tool');
    const toolUse = (input: unknown) => ({
      type: 'tool_use',
      id: `toolu_${randomBytes(12).toString('hex')}`,
      name: toolName,
      input,
      caller: { type: 'direct' },
    });
    switch (scripted.kind) {
      case 'tool_use': {
        const input = typeof scripted.input === 'function' ? scripted.input(request) : scripted.input;
        return message(request, model, [toolUse(input)], 'tool_use');
      }
      case 'malformed':
        return message(request, model, [toolUse({ title: 42, summary: ['not', 'a', 'string'] })], 'tool_use');
      case 'refusal':
        return message(request, model, [], 'refusal', {
          stop_details: { type: 'refusal', category: null, explanation: null },
        });
      case 'text':
        return message(request, model, [{ type: 'text', text: scripted.text, citations: null }], 'end_turn');
    }
  }

  return { answer, reset: () => cached.clear() };
}

/**
 * What is wrong with a Messages request body, as the API words it; undefined when nothing is.
 * Shared by the Anthropic and the Bedrock stand-ins (Bedrock takes the same body without `model`).
 */
export function messagesBodyProblem(
  body: Record<string, unknown>,
  options: { readonly allowedFields: ReadonlySet<string>; readonly requireModel: boolean },
): string | undefined {
  for (const k of Object.keys(body)) {
    if (!options.allowedFields.has(k)) return `${k}: Extra inputs are not permitted`;
  }
  if (options.requireModel && (typeof body.model !== 'string' || body.model === '')) {
    return 'model: Field required';
  }
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) {
    return 'max_tokens: must be an integer >= 1';
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return 'messages: at least one message is required';
  }
  let breakpoints = 0;
  const countCache = (block: unknown, at: string): string | undefined => {
    if (!isRecord(block) || block.cache_control === undefined || block.cache_control === null)
      return undefined;
    const cc = block.cache_control;
    if (!isRecord(cc) || cc.type !== 'ephemeral') return `${at}.cache_control.type: must be "ephemeral"`;
    if (cc.ttl !== undefined && cc.ttl !== '5m' && cc.ttl !== '1h')
      return `${at}.cache_control.ttl: must be "5m" or "1h"`;
    breakpoints++;
    return undefined;
  };
  for (const [i, m] of body.messages.entries()) {
    if (!isRecord(m) || (m.role !== 'user' && m.role !== 'assistant')) {
      return `messages.${i}.role: must be "user" or "assistant"`;
    }
    if (i === 0 && m.role !== 'user') return 'messages: first message must use the "user" role';
    if (typeof m.content === 'string') {
      if (m.content === '') return `messages.${i}: content must not be empty`;
    } else if (Array.isArray(m.content)) {
      for (const [j, b] of m.content.entries()) {
        if (!isRecord(b) || typeof b.type !== 'string') {
          return `messages.${i}.content.${j}.type: Field required`;
        }
        const bad = countCache(b, `messages.${i}.content.${j}`);
        if (bad) return bad;
      }
    } else {
      return `messages.${i}.content: must be a string or a list of blocks`;
    }
  }
  if (body.system !== undefined) {
    if (Array.isArray(body.system)) {
      for (const [j, b] of body.system.entries()) {
        if (!isRecord(b) || b.type !== 'text' || typeof b.text !== 'string') {
          return `system.${j}: must be a text block`;
        }
        const bad = countCache(b, `system.${j}`);
        if (bad) return bad;
      }
    } else if (typeof body.system !== 'string') {
      return 'system: must be a string or a list of text blocks';
    }
  }
  const names = new Set<string>();
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return 'tools: must be a list';
    for (const [j, t] of body.tools.entries()) {
      if (!isRecord(t) || typeof t.name !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(t.name)) {
        return `tools.${j}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`;
      }
      if (!isRecord(t.input_schema) || t.input_schema.type !== 'object') {
        return `tools.${j}.input_schema.type: Input should be 'object'`;
      }
      if (names.has(t.name)) return `tools: tool names must be unique (${t.name})`;
      names.add(t.name);
      const bad = countCache(t, `tools.${j}`);
      if (bad) return bad;
    }
  }
  if (body.tool_choice !== undefined) {
    const tc = body.tool_choice;
    if (!isRecord(tc) || !['auto', 'any', 'tool', 'none'].includes(String(tc.type))) {
      return 'tool_choice.type: must be one of auto, any, tool, none';
    }
    if (tc.type === 'tool' && (typeof tc.name !== 'string' || !names.has(tc.name))) {
      return `tool_choice.name: no tool named ${String(tc.name)} in tools`;
    }
    if ((tc.type === 'tool' || tc.type === 'any') && names.size === 0) {
      return 'tool_choice: requires tools';
    }
  }
  if (breakpoints > 4) {
    return `A maximum of 4 blocks with cache_control may be provided. Found ${breakpoints}.`;
  }
  return undefined;
}

function error(status: number, type: string, message: string): Answer {
  return {
    status,
    body: { type: 'error', error: { type, message }, request_id: `req_${randomBytes(12).toString('hex')}` },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Waits `ms`; resolves true early if the client closed the connection meanwhile. */
function waitOrClose(req: IncomingMessage, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      req.socket.off('close', onClose);
      resolve(false);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      resolve(true);
    };
    req.socket.once('close', onClose);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
