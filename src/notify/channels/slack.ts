import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import { DependencyError } from '../../core/index.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { GuardianMetrics } from '../../telemetry/metrics.ts';
import type { MessageChannel, PostedMessage, SlackMessage } from '../channel.ts';

export interface SlackChannelOptions {
  /** Bot token (`xoxb-…`). Never logged, never in an error. */
  token: string;
  /** Web API base URL; Slack's own when omitted (`SLACK_API_URL`). */
  apiUrl?: string;
  logger: Logger;
  metrics?: GuardianMetrics;
  /**
   * Per-request timeout.
   * @defaultValue 10000
   */
  timeoutMs?: number;
}

/** Slack errors that trying again can fix. */
const RETRYABLE_PLATFORM_ERRORS = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/**
 * Messages through Slack's Web API (`chat.postMessage`, `chat.update`). The client does not retry
 * by itself: a 429 becomes a retryable error carrying Slack's `Retry-After`, and Guardian's queue
 * waits that long before the job runs again, so one slow channel never blocks a process.
 */
export function createSlackChannel(options: SlackChannelOptions): MessageChannel {
  const client = new WebClient(options.token, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: options.timeoutMs ?? 10_000,
    logLevel: LogLevel.ERROR,
  });

  async function call(
    method: string,
    fn: () => Promise<{ channel?: string; ts?: string }>,
  ): Promise<PostedMessage> {
    try {
      const res = await fn();
      options.metrics?.slackCalls.add(1, { method, outcome: 'ok' });
      return { channel: String(res.channel ?? ''), ts: String(res.ts ?? '') };
    } catch (err) {
      const mapped = toDependencyError(method, err);
      options.metrics?.slackCalls.add(1, { method, outcome: mapped.code });
      options.logger.warn({ method, code: mapped.code, retryable: mapped.retryable }, 'Slack call failed');
      throw mapped;
    }
  }

  return {
    kind: 'slack',
    post(channel: string, message: SlackMessage) {
      return call('chat.postMessage', () =>
        client.chat.postMessage({
          channel,
          text: message.text,
          blocks: [...message.blocks] as never,
          unfurl_links: false,
        }),
      );
    },
    reply(channel: string, threadTs: string, message: SlackMessage) {
      return call('chat.postMessage', () =>
        client.chat.postMessage({
          channel,
          thread_ts: threadTs,
          text: message.text,
          blocks: [...message.blocks] as never,
          unfurl_links: false,
        }),
      );
    },
    update(channel: string, ts: string, message: SlackMessage) {
      return call('chat.update', () =>
        client.chat.update({ channel, ts, text: message.text, blocks: [...message.blocks] as never }),
      );
    },
  };
}

function toDependencyError(method: string, err: unknown): DependencyError {
  if (err instanceof WebAPIRateLimitedError) {
    return new DependencyError(
      'slack',
      'ratelimited',
      `${method} rate limited; retry after ${err.retryAfter}s`,
      {
        retryable: true,
        retryAfterMs: err.retryAfter * 1000,
      },
    );
  }
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    return new DependencyError('slack', code, `${method} failed: ${code}`, {
      retryable: RETRYABLE_PLATFORM_ERRORS.has(code),
    });
  }
  if (err instanceof WebAPIHTTPError) {
    return new DependencyError(
      'slack',
      `http_${err.statusCode}`,
      `${method} failed: HTTP ${err.statusCode}`,
      {
        retryable: err.statusCode >= 500 || err.statusCode === 408,
      },
    );
  }
  if (err instanceof WebAPIRequestError) {
    return new DependencyError('slack', 'request_failed', `${method} failed: ${err.original.message}`, {
      retryable: true,
    });
  }
  return new DependencyError(
    'slack',
    'unknown',
    `${method} failed: ${(err as Error)?.message ?? String(err)}`,
    {
      retryable: true,
    },
  );
}
