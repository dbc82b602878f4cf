import type { RoutePlugin } from '../route-types.ts';

export interface OutboxMessage {
  readonly method: string;
  readonly channel: string;
  readonly ts: string;
  readonly threadTs?: string | undefined;
  readonly text: string;
  readonly blocks: readonly unknown[];
  readonly at: number;
}

export interface MessageRoutesOptions {
  /** The local outbox (no Slack token configured); undefined when messages go to Slack. */
  outbox: (() => readonly OutboxMessage[]) | undefined;
}

/**
 * `GET /api/v1/messages`: the Slack messages Guardian would have sent, kept locally when no Slack
 * token is configured (embedded mode, demo, replay).
 */
export const messageRoutes: RoutePlugin<MessageRoutesOptions> = async (app, { outbox }) => {
  app.get(
    '/api/v1/messages',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Slack messages kept locally (no Slack token configured), newest first',
        tags: ['messages'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['mode', 'messages'],
            properties: {
              mode: { type: 'string', enum: ['local', 'slack'] },
              messages: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    method: { type: 'string' },
                    channel: { type: 'string' },
                    ts: { type: 'string' },
                    threadTs: { type: 'string' },
                    text: { type: 'string' },
                    blocks: { type: 'array', items: { type: 'object', additionalProperties: true } },
                    at: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      if (!outbox) return { mode: 'slack' as const, messages: [] };
      const messages = outbox()
        .slice(-request.query.limit)
        .reverse()
        .map((m) => ({ ...m, at: new Date(m.at).toISOString() }));
      return { mode: 'local' as const, messages };
    },
  );
};
