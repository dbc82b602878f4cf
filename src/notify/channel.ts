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
  /** Edits the message `ts` in place. */
  update(channel: string, ts: string, message: SlackMessage): Promise<PostedMessage>;
}

export interface SlackMessage {
  /** Notification / fallback text. */
  readonly text: string;
  /** Block Kit blocks (JSON as Slack takes it). */
  readonly blocks: readonly SlackBlock[];
}

export type SlackBlock = Readonly<Record<string, unknown>> & { readonly type: string };

export interface PostedMessage {
  readonly channel: string;
  readonly ts: string;
}
