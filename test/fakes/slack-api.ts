import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateBlocks } from '../../src/notify/block-kit.ts';

/** One Web API call as the stand-in received it (never the token itself). */
export interface RecordedCall {
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly contentType: string;
  readonly authorized: boolean;
  readonly at: number;
  /** What the stand-in answered. */
  readonly status: number;
  readonly response: Record<string, unknown>;
}

export interface StoredMessage {
  readonly channel: string;
  readonly ts: string;
  text: string;
  blocks: unknown[];
  readonly replies: { ts: string; text: string }[];
  edits: number;
}

type Failure = { status: 429; retryAfter: number } | { error: string };

export interface SlackStandIn {
  /** Base URL for `slackApiUrl`, ending in `/api/`. */
  readonly url: string;
  readonly calls: RecordedCall[];
  /** Top-level messages by `channel/ts`, with their thread replies. */
  readonly messages: Map<string, StoredMessage>;
  /** The next call of `method` fails this way. */
  failNext(method: string, failure: Failure): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for Slack's Web API, as far as Guardian uses it, checking what Slack checks:
 * the bearer token, form encoding with JSON-encoded `blocks`, required fields, thread and message
 * existence, Block Kit limits; and answering 429 with `Retry-After` on demand. Slack answers
 * HTTP 200 with `{ok:false, error}` for every platform error.
 */
export async function startSlackStandIn(
  options: { token?: string; unknownChannels?: string[] } = {},
): Promise<SlackStandIn> {
  const token = options.token ?? 'xoxb-stand-in';
  const unknown = new Set(options.unknownChannels ?? []);
  const calls: RecordedCall[] = [];
  const messages = new Map<string, StoredMessage>();
  const failures = new Map<string, Failure[]>();
  let lastTs = 0;
  const nextTs = () => {
    lastTs = Math.max(lastTs + 1, Date.now() * 1000);
    return `${Math.floor(lastTs / 1e6)}.${String(lastTs % 1e6).padStart(6, '0')}`;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const contentType = String(req.headers['content-type'] ?? '');
    const auth = String(req.headers.authorization ?? '');

    const reply = (
      status: number,
      body: Record<string, unknown>,
      params: Record<string, unknown>,
      headers: Record<string, string> = {},
    ) => {
      calls.push({
        method,
        params,
        contentType,
        authorized: auth === `Bearer ${token}`,
        at: Date.now(),
        status,
        response: body,
      });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };

    if (req.method !== 'POST')
      return reply(405, { ok: false, error: 'method_not_supported_for_channel_type' }, {});

    let params: Record<string, unknown>;
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      params = Object.fromEntries(new URLSearchParams(raw));
    } else if (contentType.startsWith('application/json')) {
      try {
        params = JSON.parse(raw || '{}') as Record<string, unknown>;
      } catch {
        return reply(200, { ok: false, error: 'invalid_json' }, {});
      }
    } else {
      return reply(200, { ok: false, error: 'invalid_form_data' }, {});
    }
    if (typeof params.blocks === 'string') {
      try {
        params.blocks = JSON.parse(params.blocks);
      } catch {
        return reply(200, { ok: false, error: 'invalid_blocks_format' }, params);
      }
    }
    delete params.token;

    const queued = failures.get(method);
    const failure = queued?.shift();
    if (failure) {
      if ('status' in failure)
        return reply(429, { ok: false, error: 'ratelimited' }, params, {
          'retry-after': String(failure.retryAfter),
        });
      return reply(200, { ok: false, error: failure.error }, params);
    }

    if (!auth) return reply(200, { ok: false, error: 'not_authed' }, params);
    if (auth !== `Bearer ${token}`) return reply(200, { ok: false, error: 'invalid_auth' }, params);

    const channel = typeof params.channel === 'string' ? params.channel : '';
    const text = typeof params.text === 'string' ? params.text : '';
    const blocks = params.blocks;
    if (blocks !== undefined) {
      if (!Array.isArray(blocks)) return reply(200, { ok: false, error: 'invalid_blocks_format' }, params);
      const problems = validateBlocks(blocks);
      if (problems.length > 0)
        return reply(200, { ok: false, error: 'invalid_blocks', errors: problems }, params);
    }

    switch (method) {
      case 'chat.postMessage': {
        if (!channel) return reply(200, { ok: false, error: 'channel_not_found' }, params);
        if (unknown.has(channel)) return reply(200, { ok: false, error: 'channel_not_found' }, params);
        if (!text && !blocks) return reply(200, { ok: false, error: 'no_text' }, params);
        const ts = nextTs();
        if (params.thread_ts !== undefined) {
          const parent = messages.get(`${channel}/${String(params.thread_ts)}`);
          if (!parent) return reply(200, { ok: false, error: 'thread_not_found' }, params);
          parent.replies.push({ ts, text });
        } else {
          messages.set(`${channel}/${ts}`, {
            channel,
            ts,
            text,
            blocks: (blocks as unknown[]) ?? [],
            replies: [],
            edits: 0,
          });
        }
        return reply(200, { ok: true, channel, ts, message: { type: 'message', text, ts, blocks } }, params);
      }
      case 'chat.update': {
        if (!channel) return reply(200, { ok: false, error: 'channel_not_found' }, params);
        const ts = typeof params.ts === 'string' ? params.ts : '';
        const message = messages.get(`${channel}/${ts}`);
        if (!message) return reply(200, { ok: false, error: 'message_not_found' }, params);
        if (!text && !blocks) return reply(200, { ok: false, error: 'no_text' }, params);
        message.text = text;
        message.blocks = (blocks as unknown[]) ?? message.blocks;
        message.edits++;
        return reply(200, { ok: true, channel, ts, text }, params);
      }
      case 'auth.test':
        return reply(200, { ok: true, team: 'stand-in', user: 'guardian', bot_id: 'B0' }, params);
      default:
        return reply(200, { ok: false, error: 'unknown_method' }, params);
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    messages,
    failNext(method, failure) {
      const list = failures.get(method) ?? [];
      list.push(failure);
      failures.set(method, list);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
