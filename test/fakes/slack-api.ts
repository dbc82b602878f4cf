import { createHash } from 'node:crypto';
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
  /** The channel's id (`C…`), as Slack answers it, whatever name the message was posted to. */
  readonly channel: string;
  readonly ts: string;
  /** Set for thread replies: the ts of the top-level message. */
  readonly threadTs?: string;
  readonly text: string;
  readonly blocks: readonly unknown[];
  /** How many times `chat.update` edited it. */
  readonly edits: number;
  /** Message metadata (`{event_type, event_payload}`) when it was posted with some. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** A file uploaded through `files.getUploadURLExternal`, its upload URL and `files.completeUploadExternal`. */
export interface StandInFile {
  readonly id: string;
  readonly filename: string;
  /** The `length` announced to `files.getUploadURLExternal`. */
  readonly length: number;
  readonly altText: string;
  /** The bytes posted to the upload URL (undefined until then). */
  readonly bytes?: Buffer;
  /** Set by `files.completeUploadExternal`. */
  readonly title?: string;
  readonly channel?: string;
  readonly threadTs?: string;
}

/** A POST to a `response_url` the stand-in handed out. */
export interface ResponseUrlPost {
  readonly id: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** What `failNext` makes the next call of a method answer. */
export type InjectedFailure =
  | { readonly status: 429; readonly retryAfter: number }
  /** `made`: the call is carried out (the post is made) before the 5xx is answered. */
  | { readonly status: 500 | 502 | 503 | 504; readonly made?: boolean }
  | { readonly error: string };

export interface SlackStandIn {
  /** Base URL for `slackApiUrl`: `http://127.0.0.1:PORT/api/`. */
  readonly url: string;
  /** Every call received, in order, failed ones included. Tests may clear it (`calls.length = 0`). */
  readonly calls: RecordedCall[];
  /** Messages (top-level and replies) in the order they were posted, as last edited. */
  messages(): StandInMessage[];
  /** Files, in the order their upload began. */
  files(): StandInFile[];
  /** The next call of `method` fails this way (queued: several calls fail in turn). */
  failNext(method: string, failure: InjectedFailure): void;
  /**
   * The next call of `method` is carried out (a post is posted) but its answer never arrives: the
   * connection is cut, as when a network fails after Slack accepted the request.
   */
  loseNextResponse(method: string): void;
  /** Sets a user group's members (`S…` → user ids), as `usergroups.users.list` answers them. */
  setUsergroup(id: string, users: readonly string[]): void;
  /**
   * The next call of `method` is carried out but its answer is held back until `release()`.
   * Resolves once that call has arrived: a test kills Guardian then, between Slack doing the work
   * and Guardian recording it.
   */
  holdNextResponse(method: string): Promise<{ release(): void }>;
  /** The channel id (`C…`) the workspace gives the channel `name` (`#alerts` or `alerts`). */
  channelId(name: string): string;
  /** A `response_url` for interaction payloads; what is posted to it lands in `responses`. */
  responseUrl(id: string): string;
  readonly responses: ResponseUrlPost[];
  close(): Promise<void>;
}

export interface SlackStandInOptions {
  /** The bot token calls must bear. @defaultValue 'xoxb-stand-in' */
  token?: string;
  /** Channels that answer `channel_not_found`. */
  unknownChannels?: readonly string[];
  /** User groups (`S…` → member user ids). */
  usergroups?: Readonly<Record<string, readonly string[]>>;
  /**
   * The bot token's scopes; a method needing one it lacks answers `missing_scope` (only
   * `usergroups:read` is checked). @defaultValue every scope
   */
  scopes?: readonly string[];
  /** A free workspace: user groups answer `plan_upgrade_required`. @defaultValue false */
  freePlan?: boolean;
}

interface Stored {
  channel: string;
  ts: string;
  threadTs: string | undefined;
  text: string;
  blocks: unknown[];
  edits: number;
  metadata: Record<string, unknown> | undefined;
}

const METHODS = new Set([
  'files.getUploadURLExternal',
  'files.completeUploadExternal',
  'chat.postMessage',
  'chat.update',
  'conversations.history',
  'conversations.list',
  'conversations.replies',
  'usergroups.users.list',
]);

type Answer = { status: number; body: Record<string, unknown>; headers?: Record<string, string> };

const ok = (body: Record<string, unknown>): Answer => ({ status: 200, body: { ok: true, ...body } });
// Slack answers platform errors with HTTP 200 and `ok:false`; only rate limits use a status code.
const fail = (error: string, extra: Record<string, unknown> = {}): Answer => ({
  status: 200,
  body: { ok: false, error, ...extra },
});

/**
 * A local stand-in for Slack's Web API, as far as Guardian uses it (`chat.postMessage`,
 * `chat.update`, `conversations.history`, `conversations.replies`, `conversations.list`,
 * `usergroups.users.list`, and `response_url`s), checking
 * what Slack checks: the bearer token, form (or JSON) bodies with JSON-encoded `blocks` and
 * `metadata`, required fields, that threads and edited messages exist, Block Kit limits. Like
 * Slack it answers with channel ids (`C…`) whatever channel name was posted to, and
 * `conversations.history` takes ids only. It answers 429 with `Retry-After`, a 5xx or a platform
 * error when told to, and can lose an answer after doing the work.
 */
export async function startSlackStandIn(options: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const token = options.token ?? 'xoxb-stand-in';
  const unknownChannels = new Set(options.unknownChannels ?? []);
  const calls: RecordedCall[] = [];
  const stored: Stored[] = [];
  const byKey = new Map<string, Stored>();
  const failures = new Map<string, InjectedFailure[]>();
  const lose = new Map<string, number>();
  const holds = new Map<string, ((held: { release(): void }) => void)[]>();
  const responses: ResponseUrlPost[] = [];
  const files = new Map<string, { -readonly [K in keyof StandInFile]: StandInFile[K] }>();
  let baseUrl = '';
  const usergroups = new Map<string, readonly string[]>(Object.entries(options.usergroups ?? {}));
  /** Channel id → name (without `#`). */
  const channels = new Map<string, string>();
  let lastMicros = 0;

  const channelId = (name: string) => {
    const bare = name.replace(/^#/, '');
    const id = `C${createHash('sha256').update(bare).digest('hex').slice(0, 10).toUpperCase()}`;
    if (!channels.has(id)) channels.set(id, bare);
    return id;
  };
  /** A channel param (name or id) → its id, or undefined when there is no such channel. */
  const resolveChannel = (param: string, namesAllowed: boolean): string | undefined => {
    if (!param || unknownChannels.has(param) || unknownChannels.has(`#${param.replace(/^#/, '')}`)) {
      return undefined;
    }
    if (/^[CGD][A-Z0-9]{8,}$/.test(param)) return channels.has(param) ? param : undefined;
    return namesAllowed ? channelId(param) : undefined;
  };

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
      if (failure.made) answer(method, params, authorization);
      return { status: failure.status, body: { ok: false, error: 'service_unavailable' } };
    }

    if (!authorization) return fail('not_authed');
    if (authorization !== `Bearer ${token}`) return fail('invalid_auth');

    if (!METHODS.has(method)) return fail('unknown_method');
    if (method === 'files.getUploadURLExternal') return uploadUrl(params);
    if (method === 'files.completeUploadExternal') return completeUpload(params);
    if (method === 'conversations.list') return listChannels(params);
    if (method === 'conversations.history') return history(params);
    if (method === 'conversations.replies') return replies(params);
    if (method === 'usergroups.users.list') return usergroupUsers(params);

    const channel = resolveChannel(typeof params.channel === 'string' ? params.channel : '', true);
    if (!channel) return fail('channel_not_found');
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
      let metadata: Record<string, unknown> | undefined;
      if (params.metadata !== undefined) {
        const m = params.metadata;
        if (
          !isRecord(m) ||
          typeof m.event_type !== 'string' ||
          !/^[a-zA-Z0-9_.-]{1,255}$/.test(m.event_type) ||
          !isRecord(m.event_payload)
        ) {
          return fail('invalid_metadata_format');
        }
        metadata = m;
      }
      let threadTs: string | undefined;
      if (params.thread_ts !== undefined && params.thread_ts !== '') {
        threadTs = String(params.thread_ts);
        const parent = byKey.get(`${channel}/${threadTs}`);
        if (!parent || parent.threadTs !== undefined) return fail('thread_not_found');
      }
      const ts = nextTs();
      const message: Stored = {
        channel,
        ts,
        threadTs,
        text,
        blocks: hasBlocks ? blocks : [],
        edits: 0,
        metadata,
      };
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

  /**
   * `files.getUploadURLExternal`: a form body (`filename` with an extension, `length` > 0, an
   * optional `alt_txt` of at most 1,000 characters) → `upload_url` (here, on this stand-in) and
   * `file_id`.
   */
  function uploadUrl(params: Record<string, unknown>): Answer {
    const filename = typeof params.filename === 'string' ? params.filename : '';
    const length = Number(params.length);
    if (!filename || params.length === undefined) return fail('invalid_arguments');
    if (!Number.isInteger(length) || length <= 0) return fail('missing_argument');
    const altText = typeof params.alt_txt === 'string' ? params.alt_txt : '';
    if (altText.length > 1000) return fail('alt_txt_too_large');
    const id = `F${String(files.size + 1).padStart(10, '0')}`;
    files.set(id, { id, filename, length, altText });
    return ok({ upload_url: `${baseUrl}/upload/${id}`, file_id: id });
  }

  /**
   * `files.completeUploadExternal`: `files` (a JSON array of `{id, title}`), `channel_id` (an id)
   * and `thread_ts` (a top-level message's ts). A file whose bytes never arrived is not found.
   */
  function completeUpload(params: Record<string, unknown>): Answer {
    let list: unknown = params.files;
    if (typeof list === 'string') {
      try {
        list = JSON.parse(list);
      } catch {
        return fail('invalid_arguments');
      }
    }
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      !list.every((f) => isRecord(f) && typeof f.id === 'string')
    ) {
      return fail('invalid_arguments');
    }
    const channelParam = typeof params.channel_id === 'string' ? params.channel_id : '';
    if (channelParam && !/^[CGDZ][A-Z0-9]{8,}$/.test(channelParam)) return fail('invalid_arguments');
    const channel = channelParam ? resolveChannel(channelParam, false) : undefined;
    if (channelParam && !channel) return fail('channel_not_found');
    const threadTs = typeof params.thread_ts === 'string' && params.thread_ts ? params.thread_ts : undefined;
    if (threadTs) {
      const parent = channel ? byKey.get(`${channel}/${threadTs}`) : undefined;
      if (!parent || parent.threadTs !== undefined) return fail('invalid_thread_ts');
    }
    const done: { id: string; title: string }[] = [];
    for (const f of list as { id: string; title?: unknown }[]) {
      const file = files.get(f.id);
      if (!file?.bytes || file.channel !== undefined) return fail('file_not_found');
      file.title = typeof f.title === 'string' ? f.title : file.filename;
      if (channel) file.channel = channel;
      if (threadTs) file.threadTs = threadTs;
      done.push({ id: file.id, title: file.title });
    }
    return ok({ files: done });
  }

  /**
   * `usergroups.users.list`: the members of `usergroup`, as Slack documents it: `missing_scope`
   * without `usergroups:read`, `plan_upgrade_required` on a free workspace, `invalid_arguments`
   * without `usergroup`, `no_such_subteam` for an id the workspace does not have.
   */
  function usergroupUsers(params: Record<string, unknown>): Answer {
    if (options.scopes && !options.scopes.includes('usergroups:read')) {
      return fail('missing_scope', { needed: 'usergroups:read', provided: options.scopes.join(',') });
    }
    if (options.freePlan) return fail('plan_upgrade_required');
    const id = typeof params.usergroup === 'string' ? params.usergroup : '';
    if (!id) return fail('invalid_arguments');
    const users = usergroups.get(id);
    if (!users) return fail('no_such_subteam');
    return ok({ users: [...users] });
  }

  /** `conversations.list`: channels the workspace knows, paged by `cursor` (an offset here). */
  function listChannels(params: Record<string, unknown>): Answer {
    const limit = Math.min(1000, Math.max(1, Number(params.limit ?? 100) || 100));
    const offset = params.cursor ? Number(Buffer.from(String(params.cursor), 'base64').toString()) : 0;
    if (!Number.isInteger(offset) || offset < 0) return fail('invalid_cursor');
    const all = [...channels].map(([id, name]) => ({ id, name, is_channel: true, is_private: false }));
    const page = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? Buffer.from(String(offset + limit)).toString('base64') : '';
    return ok({ channels: page, response_metadata: { next_cursor: next } });
  }

  /**
   * `conversations.history`: top-level messages of a channel (by id), newest first, between
   * `oldest` and `latest` (exclusive unless `inclusive`), `metadata` only with `include_all_metadata`.
   */
  function history(params: Record<string, unknown>): Answer {
    const channel = resolveChannel(typeof params.channel === 'string' ? params.channel : '', false);
    if (!channel) return fail('channel_not_found');
    const limit = Math.min(999, Math.max(1, Number(params.limit ?? 100) || 100));
    const inclusive = params.inclusive === true || params.inclusive === 'true' || params.inclusive === '1';
    const oldest = params.oldest === undefined ? 0 : Number(params.oldest);
    const latest = params.latest === undefined ? Number.POSITIVE_INFINITY : Number(params.latest);
    const withMetadata =
      params.include_all_metadata === true ||
      params.include_all_metadata === 'true' ||
      params.include_all_metadata === '1';
    const offset = params.cursor ? Number(Buffer.from(String(params.cursor), 'base64').toString()) : 0;
    const matching = stored
      .filter((m) => m.channel === channel && m.threadTs === undefined)
      .filter((m) => {
        const t = Number(m.ts);
        return (inclusive ? t >= oldest : t > oldest) && (inclusive ? t <= latest : t < latest);
      })
      .reverse();
    const page = matching.slice(offset, offset + limit);
    const hasMore = offset + limit < matching.length;
    return ok({
      messages: page.map((m) => ({
        type: 'message',
        subtype: 'bot_message',
        text: m.text,
        ts: m.ts,
        blocks: m.blocks,
        ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
      })),
      has_more: hasMore,
      response_metadata: {
        next_cursor: hasMore ? Buffer.from(String(offset + limit)).toString('base64') : '',
      },
    });
  }

  /**
   * `conversations.replies`: the thread of `ts` (a parent, or any message in its thread), the parent
   * first, then its replies oldest first; replies are limited to `oldest`..`latest` (exclusive
   * unless `inclusive`); a message without replies is a thread of one. Channel ids only; an unknown
   * `ts` is `thread_not_found`; `metadata` only with `include_all_metadata`.
   */
  function replies(params: Record<string, unknown>): Answer {
    const channel = resolveChannel(typeof params.channel === 'string' ? params.channel : '', false);
    if (!channel) return fail('channel_not_found');
    if (typeof params.ts !== 'string' || params.ts === '') return fail('invalid_arguments');
    const message = byKey.get(`${channel}/${params.ts}`);
    if (!message) return fail('thread_not_found');
    const parent = message.threadTs ? byKey.get(`${channel}/${message.threadTs}`)! : message;
    const limit = Math.min(1000, Math.max(1, Number(params.limit ?? 1000) || 1000));
    const inclusive = params.inclusive === true || params.inclusive === 'true' || params.inclusive === '1';
    const oldest = params.oldest === undefined ? 0 : Number(params.oldest);
    const latest = params.latest === undefined ? Number.POSITIVE_INFINITY : Number(params.latest);
    const withMetadata =
      params.include_all_metadata === true ||
      params.include_all_metadata === 'true' ||
      params.include_all_metadata === '1';
    const offset = params.cursor ? Number(Buffer.from(String(params.cursor), 'base64').toString()) : 0;
    if (!Number.isInteger(offset) || offset < 0) return fail('invalid_cursor');
    const thread = [
      parent,
      ...stored
        .filter((m) => m.channel === channel && m.threadTs === parent.ts)
        .filter((m) => {
          const t = Number(m.ts);
          return (inclusive ? t >= oldest : t > oldest) && (inclusive ? t <= latest : t < latest);
        }),
    ];
    const page = thread.slice(offset, offset + limit);
    const hasMore = offset + limit < thread.length;
    return ok({
      messages: page.map((m) => ({
        type: 'message',
        subtype: 'bot_message',
        text: m.text,
        ts: m.ts,
        thread_ts: parent.ts,
        blocks: m.blocks,
        ...(m === parent ? { reply_count: thread.length - 1 } : { parent_user_id: 'UGUARDIAN0' }),
        ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
      })),
      has_more: hasMore,
      response_metadata: {
        next_cursor: hasMore ? Buffer.from(String(offset + limit)).toString('base64') : '',
      },
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (url.pathname.startsWith('/upload/')) {
      // The upload URL: raw bytes (or a multipart form) for a file id handed out, 200 "OK - <size>".
      const file = files.get(url.pathname.slice('/upload/'.length));
      const bytes = Buffer.concat(chunks);
      if (req.method !== 'POST' || !file || file.bytes) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      file.bytes = bytes;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`OK - ${bytes.length}`);
      return;
    }
    const raw = Buffer.concat(chunks).toString('utf8');
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
    if (url.pathname.startsWith('/response/')) {
      // A response_url: Slack answers "ok" as text.
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw || '{}') as Record<string, unknown>;
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end('invalid_payload');
        return;
      }
      responses.push({ id: decodeURIComponent(url.pathname.slice('/response/'.length)), body });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    // Slack also takes the token as a body field; it must never end up in a recorded call.
    delete params.token;
    for (const key of ['blocks', 'metadata'] as const) {
      if (!result && typeof params[key] === 'string') {
        try {
          params[key] = JSON.parse(params[key]);
        } catch {
          result = fail(key === 'blocks' ? 'invalid_blocks_format' : 'invalid_metadata_format');
        }
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
    const held = holds.get(method)?.shift();
    if (held) {
      let release: () => void = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      held({ release });
      await released;
    }
    const lost = lose.get(method) ?? 0;
    if (lost > 0) {
      lose.set(method, lost - 1);
      req.socket.destroy();
      return;
    }
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
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    responses,
    messages: () =>
      stored.map((m) => ({
        channel: m.channel,
        ts: m.ts,
        ...(m.threadTs ? { threadTs: m.threadTs } : {}),
        text: m.text,
        blocks: m.blocks,
        edits: m.edits,
        ...(m.metadata ? { metadata: m.metadata } : {}),
      })),
    files: () => [...files.values()].map((f) => ({ ...f })),
    failNext(method, failure) {
      const queue = failures.get(method) ?? [];
      queue.push(failure);
      failures.set(method, queue);
    },
    loseNextResponse(method) {
      lose.set(method, (lose.get(method) ?? 0) + 1);
    },
    setUsergroup(id, users) {
      usergroups.set(id, [...users]);
    },
    holdNextResponse(method) {
      return new Promise((resolve) => {
        const queue = holds.get(method) ?? [];
        queue.push(resolve);
        holds.set(method, queue);
      });
    },
    channelId,
    responseUrl: (id) => `http://127.0.0.1:${port}/response/${encodeURIComponent(id)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
