import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateBlocks } from '../../src/notify/block-kit.ts';

/** One Web API call as the stand-in received it. The token is never stored, only whether it matched. */
export interface RecordedCall {
  readonly method: string;
  /** The parsed body (form or JSON), `blocks` parsed from its JSON string, `token` removed. */
  readonly params: Record<string, unknown>;
  /** Epoch ms (wall clock) when the call arrived. */
  readonly at: number;
  /** Whether the bearer token matched. */
  readonly authorized: boolean;
  readonly contentType: string;
  /** What the stand-in answered. */
  readonly status: number;
  readonly response: Readonly<Record<string, unknown>>;
}

/** A message as the stand-in's workspace holds it. */
export interface StandInMessage {
  readonly channel: string;
  readonly ts: string;
  /** Set for thread replies: the ts of the top-level message. */
  readonly threadTs?: string;
  readonly text: string;
  readonly blocks: readonly unknown[];
  /** How many times `chat.update` edited it. */
  readonly edits: number;
}

/** What `failNext` makes the next call of a method answer. */
export type InjectedFailure =
  | { readonly status: 429; readonly retryAfter: number }
  | { readonly status: 500 | 502 | 503 | 504 }
  | { readonly error: string };

export interface SlackStandIn {
  /** Base URL for `slackApiUrl`: `http://127.0.0.1:PORT/api/`. */
  readonly url: string;
  /** Every call received, in order, failed ones included. Tests may clear it (`calls.length = 0`). */
  readonly calls: RecordedCall[];
  /** Messages (top-level and replies) in the order they were posted, as last edited. */
  messages(): StandInMessage[];
  /** The next call of `method` fails this way (queued: several calls fail in turn). */
  failNext(method: string, failure: InjectedFailure): void;
  close(): Promise<void>;
}

export interface SlackStandInOptions {
  /** The bot token calls must bear. @defaultValue 'xoxb-stand-in' */
  token?: string;
  /** Channels that answer `channel_not_found`. */
  unknownChannels?: readonly string[];
}

interface Stored {
  channel: string;
  ts: string;
  threadTs: string | undefined;
  text: string;
  blocks: unknown[];
  edits: number;
}

type Answer = { status: number; body: Record<string, unknown>; headers?: Record<string, string> };

const ok = (body: Record<string, unknown>): Answer => ({ status: 200, body: { ok: true, ...body } });
// Slack answers platform errors with HTTP 200 and `ok:false`; only rate limits use a status code.
const fail = (error: string, extra: Record<string, unknown> = {}): Answer => ({
  status: 200,
  body: { ok: false, error, ...extra },
});

/**
 * A local stand-in for Slack's Web API, as far as Guardian uses it (`chat.postMessage`,
 * `chat.update`), checking what Slack checks: the bearer token, form (or JSON) bodies with
 * JSON-encoded `blocks`, required fields, that threads and edited messages exist, Block Kit
 * limits; and answering 429 with `Retry-After`, a 5xx or a platform error when told to.
 */
export async function startSlackStandIn(options: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const token = options.token ?? 'xoxb-stand-in';
  const unknownChannels = new Set(options.unknownChannels ?? []);
  const calls: RecordedCall[] = [];
  const stored: Stored[] = [];
  const byKey = new Map<string, Stored>();
  const failures = new Map<string, InjectedFailure[]>();
  let lastMicros = 0;

  /** Slack's `seconds.micros` ts: unique and increasing, even for calls in the same millisecond. */
  const nextTs = () => {
    lastMicros = Math.max(lastMicros + 1, Date.now() * 1000);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  };

  function answer(method: string, params: Record<string, unknown>, authorization: string): Answer {
    const failure = failures.get(method)?.shift();
    if (failure) {
      if ('error' in failure) return fail(failure.error);
      if (failure.status === 429) {
        return {
          status: 429,
          body: { ok: false, error: 'ratelimited' },
          headers: { 'retry-after': String(failure.retryAfter) },
        };
      }
      return { status: failure.status, body: { ok: false, error: 'service_unavailable' } };
    }

    if (!authorization) return fail('not_authed');
    if (authorization !== `Bearer ${token}`) return fail('invalid_auth');

    if (method !== 'chat.postMessage' && method !== 'chat.update') return fail('unknown_method');

    const channel = typeof params.channel === 'string' ? params.channel : '';
    if (!channel || unknownChannels.has(channel)) return fail('channel_not_found');
    const text = typeof params.text === 'string' ? params.text : '';
    const blocks = params.blocks;
    if (blocks !== undefined) {
      if (!Array.isArray(blocks)) return fail('invalid_blocks_format');
      const problems = validateBlocks(blocks);
      if (problems.length > 0) return fail('invalid_blocks', { errors: problems });
    }
    const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
    if (!text && !hasBlocks) return fail('no_text');
    if (text.length > 40_000) return fail('msg_too_long');

    if (method === 'chat.postMessage') {
      let threadTs: string | undefined;
      if (params.thread_ts !== undefined && params.thread_ts !== '') {
        threadTs = String(params.thread_ts);
        const parent = byKey.get(`${channel}/${threadTs}`);
        if (!parent || parent.threadTs !== undefined) return fail('thread_not_found');
      }
      const ts = nextTs();
      const message: Stored = { channel, ts, threadTs, text, blocks: hasBlocks ? blocks : [], edits: 0 };
      stored.push(message);
      byKey.set(`${channel}/${ts}`, message);
      return ok({
        channel,
        ts,
        message: {
          type: 'message',
          text,
          ts,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          blocks: message.blocks,
        },
      });
    }

    const ts = typeof params.ts === 'string' ? params.ts : '';
    const message = byKey.get(`${channel}/${ts}`);
    if (!message) return fail('message_not_found');
    message.text = text;
    if (blocks !== undefined) message.blocks = hasBlocks ? blocks : [];
    message.edits++;
    return ok({ channel, ts, text, message: { type: 'message', text, ts, blocks: message.blocks } });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const method = url.pathname.replace(/^\/api\//, '');
    const contentType = String(req.headers['content-type'] ?? '');
    const authorization = String(req.headers.authorization ?? '');

    let params: Record<string, unknown> = Object.fromEntries(url.searchParams);
    let result: Answer | undefined;
    if (contentType.startsWith('application/json')) {
      try {
        const parsed: unknown = JSON.parse(raw || '{}');
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError();
        params = { ...params, ...(parsed as Record<string, unknown>) };
      } catch {
        result = fail('invalid_json');
      }
    } else if (contentType.startsWith('application/x-www-form-urlencoded') || raw === '') {
      params = { ...params, ...Object.fromEntries(new URLSearchParams(raw)) };
    } else {
      result = fail('invalid_form_data');
    }
    // Slack also takes the token as a body field; it must never end up in a recorded call.
    delete params.token;
    if (!result && typeof params.blocks === 'string') {
      try {
        params.blocks = JSON.parse(params.blocks);
      } catch {
        result = fail('invalid_blocks_format');
      }
    }
    result ??= answer(method, params, authorization);

    calls.push({
      method,
      params,
      at: Date.now(),
      authorized: authorization === `Bearer ${token}`,
      contentType,
      status: result.status,
      response: result.body,
    });
    res.writeHead(result.status, { 'content-type': 'application/json; charset=utf-8', ...result.headers });
    res.end(JSON.stringify(result.body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(err instanceof Error ? err.message : String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    messages: () =>
      stored.map((m) => ({
        channel: m.channel,
        ts: m.ts,
        ...(m.threadTs ? { threadTs: m.threadTs } : {}),
        text: m.text,
        blocks: m.blocks,
        edits: m.edits,
      })),
    failNext(method, failure) {
      const queue = failures.get(method) ?? [];
      queue.push(failure);
      failures.set(method, queue);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
