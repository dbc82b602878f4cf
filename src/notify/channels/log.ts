import type { Clock } from '../../core/index.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { MessageChannel, MessageMetadata, PostedMessage, SlackBlock, SlackMessage } from '../channel.ts';

/** A message the log channel kept: what Slack would have been asked to do. */
export interface OutboxMessage {
  readonly method: 'post' | 'reply' | 'update' | 'file';
  readonly channel: string;
  readonly ts: string;
  readonly threadTs?: string;
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
  /** Epoch ms on the injected clock. */
  readonly at: number;
  readonly metadata?: MessageMetadata;
}

/** A {@link MessageChannel} that also shows what it kept. */
export interface LogChannel extends MessageChannel {
  /** What would have been sent, oldest first. */
  messages(): readonly OutboxMessage[];
}

/** How the log channel logs and keeps messages. */
export interface LogChannelOptions {
  logger: Logger;
  clock: Clock;
  /**
   * Messages kept; the oldest are dropped beyond it.
   * @defaultValue 1000
   */
  capacity?: number;
}

/**
 * Where messages go without a Slack token: the log, and an outbox the HTTP API shows. It answers
 * like Slack would (a `ts` per message), so the notifier runs exactly as it does against Slack.
 */
export function createLogChannel(options: LogChannelOptions): LogChannel {
  const capacity = Math.max(1, Math.floor(options.capacity ?? 1000));
  const outbox: OutboxMessage[] = [];
  let lastMicros = 0;

  /** Slack-style `seconds.micros`, unique and increasing even within one millisecond. */
  function nextTs(): string {
    lastMicros = Math.max(lastMicros + 1, options.clock.now() * 1000);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  }

  function keep(message: OutboxMessage): PostedMessage {
    outbox.push(message);
    if (outbox.length > capacity) outbox.splice(0, outbox.length - capacity);
    // This log line is the notification when there is no Slack: say what Slack would have shown.
    options.logger.info(
      {
        slack: {
          method: message.method,
          channel: message.channel,
          ts: message.ts,
          ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
          text: message.text,
        },
      },
      `slack (local) ${message.method} ${message.channel}`,
    );
    return { channel: message.channel, ts: message.ts };
  }

  const at = () => options.clock.now();
  return {
    kind: 'log',
    async post(channel, m: SlackMessage) {
      return keep({
        method: 'post',
        channel,
        ts: nextTs(),
        text: m.text,
        blocks: m.blocks,
        at: at(),
        ...(m.metadata ? { metadata: m.metadata } : {}),
      });
    },
    async reply(channel, threadTs, m) {
      return keep({
        method: 'reply',
        channel,
        ts: nextTs(),
        threadTs,
        text: m.text,
        blocks: m.blocks,
        at: at(),
        ...(m.metadata ? { metadata: m.metadata } : {}),
      });
    },
    async update(channel, ts, m) {
      keep({ method: 'update', channel, ts, text: m.text, blocks: m.blocks, at: at() });
      return { channel, ts };
    },
    async findPosted(channel, query) {
      for (let i = outbox.length - 1; i >= 0; i--) {
        const m = outbox[i]!;
        if (m.method !== 'post' || m.channel !== channel || m.at < query.since) continue;
        if (
          m.metadata?.event_type === query.eventType &&
          m.metadata.event_payload[query.key] === query.value
        ) {
          return { channel: m.channel, ts: m.ts };
        }
      }
      return null;
    },
    async findReply(channel, threadTs, query) {
      for (let i = outbox.length - 1; i >= 0; i--) {
        const m = outbox[i]!;
        if (m.method !== 'reply' || m.channel !== channel || m.threadTs !== threadTs) continue;
        if (m.at < query.since) continue;
        if (
          m.metadata?.event_type === query.eventType &&
          m.metadata.event_payload[query.key] === query.value
        ) {
          return { channel: m.channel, ts: m.ts };
        }
      }
      return null;
    },
    async uploadFile(channel, threadTs, file) {
      // The bytes are not kept (the outbox is for reading): the chart is on the incident's page.
      const posted = keep({
        method: 'file',
        channel,
        ts: nextTs(),
        threadTs,
        text: `[${file.filename}, ${file.bytes.byteLength} bytes] ${file.title}`,
        blocks: [],
        at: at(),
      });
      return { fileId: `F${posted.ts.replace('.', '')}` };
    },
    messages: () => outbox.slice(),
  };
}
