import { DependencyError } from '../core/index.ts';

/**
 * Where incident messages go. The Slack Web API in production; the log (and an in-memory outbox
 * the HTTP API shows) when no Slack token is configured.
 *
 * Errors are `DependencyError`s with dependency `slack`: `retryable` for rate limits (with
 * `retryAfterMs`), 5xx and network failures; not retryable for permanent Slack errors
 * (`invalid_auth`, `channel_not_found`, `invalid_blocks`…), whose Slack error string is the `code`.
 */
export interface MessageChannel {
  readonly kind: 'slack' | 'log';
  /** A new top-level message. */
  post(channel: string, message: SlackMessage): Promise<PostedMessage>;
  /** A reply in the thread of the message `threadTs`. */
  reply(channel: string, threadTs: string, message: SlackMessage): Promise<PostedMessage>;
  /**
   * The newest reply in the thread of `threadTs` posted at or after `query.since` whose metadata
   * matches `query` (as {@link MessageChannel.findPosted}); null when there is none. How a retried
   * reply finds the one an earlier attempt sent but never recorded.
   */
  findReply(channel: string, threadTs: string, query: FindPostedQuery): Promise<PostedMessage | null>;
  /** Edits the message `ts` in place. */
  update(channel: string, ts: string, message: SlackMessage): Promise<PostedMessage>;
  /**
   * The newest top-level message in `channel` posted at or after `query.since` whose metadata
   * has `event_type` `query.eventType` and `event_payload[query.key] === query.value`; null when
   * there is none. How a retried post finds the message an earlier attempt posted but never
   * recorded (its answer lost, or the process gone), and adopts it instead of posting again.
   */
  findPosted(channel: string, query: FindPostedQuery): Promise<PostedMessage | null>;
  /**
   * Shares a file (a chart) in the thread of `threadTs`: Slack's external upload
   * (`files.getUploadURLExternal`, the bytes to its upload URL, `files.completeUploadExternal`).
   */
  uploadFile(channel: string, threadTs: string, file: ChannelFile): Promise<{ readonly fileId: string }>;
}

/** A file to share in a thread. */
export interface ChannelFile {
  /** With an extension (`chart.png`): Slack needs one. */
  readonly filename: string;
  readonly title: string;
  /** Read out by screen readers; at most 1,000 characters. */
  readonly altText: string;
  readonly bytes: Uint8Array;
}

export interface FindPostedQuery {
  readonly eventType: string;
  readonly key: string;
  readonly value: string;
  /** Epoch ms: messages older than this are not looked at. */
  readonly since: number;
}

export interface SlackMessage {
  /** Notification / fallback text. */
  readonly text: string;
  /** Block Kit blocks (JSON as Slack takes it). */
  readonly blocks: readonly SlackBlock[];
  /** Message metadata Slack keeps with the message (posts and thread replies). */
  readonly metadata?: MessageMetadata;
}

/** Slack message metadata: an event type and a flat payload. */
export interface MessageMetadata {
  readonly event_type: string;
  readonly event_payload: Readonly<Record<string, string | number | boolean>>;
}

export type SlackBlock = Readonly<Record<string, unknown>> & { readonly type: string };

export interface PostedMessage {
  readonly channel: string;
  readonly ts: string;
}

/** Slack errors that say a send's outcome is unknown: Slack may have taken the message. */
const OUTCOME_UNKNOWN: ReadonlySet<string> = new Set([
  'request_failed',
  'unknown_error',
  'invalid_response',
  'http_500',
  'http_502',
  'http_503',
  'http_504',
]);

/**
 * Whether a failed send may have reached Slack all the same (its answer was lost): a retry then
 * looks for the message before it sends again.
 */
export function outcomeUnknown(err: unknown): boolean {
  return err instanceof DependencyError && OUTCOME_UNKNOWN.has(err.code);
}
