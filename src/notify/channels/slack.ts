import {
  LogLevel,
  type Logger as SlackLogger,
  type WebAPICallResult,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import { DependencyError, errorMessage } from '../../core/index.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { GuardianMetrics } from '../../telemetry/metrics.ts';
import type { FindPostedQuery, MessageChannel, PostedMessage, SlackMessage } from '../channel.ts';

/** How Guardian reaches Slack's Web API. */
export interface SlackChannelOptions {
  /** Bot token (`xoxb-…`). Sent only as the `Authorization` header; never logged nor put in errors. */
  token: string;
  /**
   * Base URL of the Web API; a stand-in's URL in tests.
   * @defaultValue 'https://slack.com/api/'
   */
  apiUrl?: string;
  logger: Logger;
  /** Counts calls by `method` and `outcome` (`ok` or the error code) when given. */
  metrics?: Pick<GuardianMetrics, 'slackCalls'>;
  /**
   * Per-call timeout; a call that takes longer fails as a retryable `request_failed`.
   * @defaultValue 10000
   */
  timeoutMs?: number;
}

/** A Slack conversation id: public (`C…`), private (`G…`) or direct (`D…`). */
const CHANNEL_ID = /^[CGD][A-Z0-9]{8,}$/;

/**
 * Slack platform errors that say "try again later" rather than "this request is wrong". Every
 * other `ok:false` error (`invalid_auth`, `channel_not_found`, `invalid_blocks`…) is permanent.
 */
const RETRYABLE_PLATFORM_ERRORS: ReadonlySet<string> = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/**
 * The Slack Web API as a {@link MessageChannel}. The client never retries or waits on its own
 * (`retries: 0`, `rejectRateLimitedCalls`): a failed call fails at once with a `DependencyError`
 * that says whether and when to retry, and Guardian's queue does the retrying, so a 429 delays one
 * job rather than pausing every Slack call in the process.
 */
export function createSlackChannel(options: SlackChannelOptions): MessageChannel {
  const { token, logger, metrics } = options;
  const log = logger.child({ component: 'slack' });
  const client = new WebClient(token, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: options.timeoutMs ?? 10_000,
    logger: slackLogger(log),
  });

  async function call(method: string, params: Record<string, unknown>): Promise<WebAPICallResult> {
    try {
      const result = await client.apiCall(method, params);
      metrics?.slackCalls.add(1, { method, outcome: 'ok' });
      return result;
    } catch (err) {
      const error = toDependencyError(method, err, token);
      metrics?.slackCalls.add(1, { method, outcome: error.code });
      log.warn(
        { method, code: error.code, retryable: error.retryable, retryAfterMs: error.retryAfterMs },
        error.message,
      );
      throw error;
    }
  }

  function posted(method: string, result: WebAPICallResult, fallbackChannel: string): PostedMessage {
    const ts = field(result, 'ts');
    const channel = field(result, 'channel');
    if (typeof ts !== 'string' || ts === '') {
      // The message may well exist: retrying could post it twice, so this is not retryable.
      throw new DependencyError('slack', 'invalid_response', `${method}: the answer has no message ts`);
    }
    return { channel: typeof channel === 'string' ? channel : fallbackChannel, ts };
  }

  const content = (message: SlackMessage) => ({
    text: message.text,
    blocks: message.blocks,
    // Links in evidence are for clicking, not for previews that bury the incident.
    unfurl_links: false,
    unfurl_media: false,
  });

  /** The pages of a cursor-paginated listing, at most `maxPages`, each page's `items` array. */
  async function* pages(
    method: string,
    params: Record<string, unknown>,
    items: string,
    maxPages: number,
  ): AsyncGenerator<unknown[]> {
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const result = await call(method, { ...params, ...(cursor ? { cursor } : {}) });
      const list = field(result, items);
      yield Array.isArray(list) ? list : [];
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!cursor || field(result, 'has_more') === false) return;
    }
  }

  /** Channel name (`#alerts`, `alerts`) → id (`C…`), learnt from posts and conversations.list. */
  const channelIds = new Map<string, string>();
  const bare = (name: string) => name.replace(/^#/, '');

  /**
   * The messages of a conversation listing (`conversations.history` or `.replies`) since
   * `query.since` whose metadata matches `query`, page by page (at most ten pages of 200).
   */
  async function* tagged(
    method: string,
    params: Record<string, unknown>,
    query: FindPostedQuery,
  ): AsyncGenerator<{ ts: string }> {
    // Slack's ts are seconds; a second of slack on each side covers clock differences.
    const oldest = (Math.floor(query.since / 1000) - 1).toFixed(6);
    const listing = { ...params, oldest, include_all_metadata: true, limit: 200 };
    for await (const messages of pages(method, listing, 'messages', 10)) {
      for (const m of messages) {
        const { ts, metadata } = (m ?? {}) as { ts?: unknown; metadata?: unknown };
        if (typeof ts === 'string' && metadataMatches(metadata, query)) yield { ts };
      }
    }
  }

  async function channelId(channel: string): Promise<string> {
    if (CHANNEL_ID.test(channel)) return channel;
    const known = channelIds.get(bare(channel));
    if (known) return known;
    const listing = { types: 'public_channel,private_channel', exclude_archived: true, limit: 1000 };
    for await (const list of pages('conversations.list', listing, 'channels', 50)) {
      for (const c of list) {
        const { id, name } = (c ?? {}) as { id?: unknown; name?: unknown };
        if (typeof id === 'string' && typeof name === 'string') channelIds.set(name, id);
      }
      const found = channelIds.get(bare(channel));
      if (found) return found;
    }
    throw new DependencyError(
      'slack',
      'channel_not_found',
      `no channel named ${channel} is visible to the bot`,
    );
  }

  return {
    kind: 'slack',
    async post(channel, message) {
      const result = await call('chat.postMessage', {
        channel,
        ...content(message),
        ...(message.metadata ? { metadata: message.metadata } : {}),
      });
      const answer = posted('chat.postMessage', result, channel);
      if (!CHANNEL_ID.test(channel)) channelIds.set(bare(channel), answer.channel);
      return answer;
    },
    async findPosted(channel, query) {
      const id = await channelId(channel);
      for await (const m of tagged('conversations.history', { channel: id }, query))
        return { channel: id, ts: m.ts };
      return null;
    },
    async reply(channel, threadTs, message) {
      const result = await call('chat.postMessage', {
        channel,
        thread_ts: threadTs,
        ...content(message),
        ...(message.metadata ? { metadata: message.metadata } : {}),
      });
      return posted('chat.postMessage', result, channel);
    },
    async findReply(channel, threadTs, query) {
      const id = await channelId(channel);
      let found: PostedMessage | null = null;
      // Oldest first, the thread's parent included: the newest match is the last one seen.
      for await (const m of tagged('conversations.replies', { channel: id, ts: threadTs }, query)) {
        if (m.ts !== threadTs) found = { channel: id, ts: m.ts };
      }
      return found;
    },
    async update(channel, ts, message) {
      const result = await call('chat.update', { channel, ts, text: message.text, blocks: message.blocks });
      return posted('chat.update', result, channel);
    },
    async uploadFile(channel, threadTs, file) {
      // files.getUploadURLExternal takes a form body only; the SDK sends forms.
      const ticket = await call('files.getUploadURLExternal', {
        filename: file.filename,
        length: file.bytes.byteLength,
        alt_txt: file.altText.slice(0, 1000),
      });
      const { upload_url: uploadUrl, file_id: fileId } = ticket as {
        upload_url?: unknown;
        file_id?: unknown;
      };
      if (typeof uploadUrl !== 'string' || typeof fileId !== 'string') {
        throw new DependencyError(
          'slack',
          'invalid_response',
          'files.getUploadURLExternal: no upload_url or file_id',
        );
      }
      let response: Response;
      try {
        response = await fetch(uploadUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: file.bytes,
          redirect: 'error',
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        await response.arrayBuffer();
      } catch (err) {
        metrics?.slackCalls.add(1, { method: 'files.upload_url', outcome: 'request_failed' });
        throw new DependencyError('slack', 'request_failed', `file upload: ${errorMessage(err)}`, {
          retryable: true,
        });
      }
      if (!response.ok) {
        metrics?.slackCalls.add(1, { method: 'files.upload_url', outcome: `http_${response.status}` });
        throw new DependencyError(
          'slack',
          `http_${response.status}`,
          `file upload: HTTP ${response.status}`,
          {
            retryable: response.status >= 500 || response.status === 429,
          },
        );
      }
      metrics?.slackCalls.add(1, { method: 'files.upload_url', outcome: 'ok' });
      await call('files.completeUploadExternal', {
        files: JSON.stringify([{ id: fileId, title: file.title }]),
        channel_id: await channelId(channel),
        thread_ts: threadTs,
      });
      return { fileId };
    },
  };
}

/**
 * Maps what `WebClient` throws to a `DependencyError('slack', …)`. Exported for its tests; the
 * token is scrubbed from every message in case an underlying error ever echoes a request.
 */
export function toDependencyError(method: string, err: unknown, token: string): DependencyError {
  const scrub = (text: string) => (token ? text.replaceAll(token, '[redacted]') : text);
  if (err instanceof DependencyError) return err;
  if (err instanceof WebAPIRateLimitedError) {
    return new DependencyError(
      'slack',
      'ratelimited',
      `${method}: rate limited, retry after ${err.retryAfter}s`,
      {
        retryable: true,
        retryAfterMs: err.retryAfter * 1000,
      },
    );
  }
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    const details = platformDetails(err.data);
    return new DependencyError('slack', code, scrub(`${method}: ${code}${details ? ` (${details})` : ''}`), {
      retryable: RETRYABLE_PLATFORM_ERRORS.has(code),
    });
  }
  if (err instanceof WebAPIHTTPError) {
    return new DependencyError('slack', `http_${err.statusCode}`, `${method}: HTTP ${err.statusCode}`, {
      retryable: err.statusCode >= 500,
      ...retryAfter(err.headers['retry-after']),
    });
  }
  if (err instanceof WebAPIRequestError) {
    return new DependencyError('slack', 'request_failed', scrub(`${method}: ${errorMessage(err.original)}`), {
      retryable: true,
    });
  }
  // Anything else (a 429 without a usable Retry-After, a bug in the client): trying again is safe
  // for the queue, which caps attempts.
  return new DependencyError('slack', 'unknown_error', scrub(`${method}: ${errorMessage(err)}`), {
    retryable: true,
  });
}

/** Slack's explanations (`invalid_blocks` lists the offending blocks), shortened for a log line. */
function platformDetails(data: WebAPICallResult): string {
  const errors = field(data, 'errors');
  const list: readonly unknown[] = Array.isArray(errors) ? errors : (data.response_metadata?.messages ?? []);
  const text = list.map((e) => String(e)).join('; ');
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}

/** Whether a message's metadata has the event type and payload value `query` looks for. */
function metadataMatches(metadata: unknown, query: FindPostedQuery): boolean {
  const meta = metadata as { event_type?: unknown; event_payload?: Record<string, unknown> } | undefined;
  return meta?.event_type === query.eventType && meta.event_payload?.[query.key] === query.value;
}

/** A field of a Web API answer that the SDK's response type does not declare. */
function field(result: object, key: string): unknown {
  return (result as Readonly<Record<string, unknown>>)[key];
}

function retryAfter(header: string | undefined): { retryAfterMs?: number } {
  const seconds = header === undefined ? Number.NaN : Number.parseInt(header, 10);
  return Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {};
}

/**
 * The SDK's own logging, sent to Guardian's logger at debug (warnings and errors at warn), so it
 * is structured and goes through the logger's redaction.
 */
function slackLogger(log: Logger): SlackLogger {
  let level: LogLevel = LogLevel.DEBUG;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => log.debug(text(msg)),
    info: (...msg: unknown[]) => log.debug(text(msg)),
    warn: (...msg: unknown[]) => log.warn(text(msg)),
    error: (...msg: unknown[]) => log.warn(text(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
