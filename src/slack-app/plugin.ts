import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { errorMessage } from '../core/index.ts';
import { type BlockAction, handleBlockAction } from './block-actions.ts';
import { handleCommand } from './command.ts';
import { type EphemeralReply, type InteractionContext, slackActor } from './context.ts';
import { verifySlackSignature } from './verify.ts';

export interface SlackAppOptions extends InteractionContext {
  /** `SLACK_SIGNING_SECRET`: every request must carry its signature. Never logged. */
  signingSecret: string;
  /**
   * How long a request may work before Slack gets its HTTP 200 (Slack wants it within 3 s);
   * work still running then finishes in the background and answers through `response_url`.
   * @defaultValue 2500
   */
  ackWithinMs?: number;
  /** Posts to a `response_url` (tests may record instead). @defaultValue fetch */
  fetch?: typeof fetch;
}

/** The Slack app: a fastify plugin to register, and its background work to wait for. */
export interface SlackApp {
  /** Registers `POST /slack/events`; register it once, at the root or under a prefix. */
  readonly plugin: FastifyPluginAsync;
  /** Resolves once work that outlived its request (answered via `response_url`) has finished. */
  settled(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

/**
 * Guardian's Slack app, `POST /slack/events` on the service's own HTTP port: interactivity
 * (the Acknowledge / Resolve / Silence / Reopen controls), the `/guardian` slash command, and
 * the Events API handshake.
 *
 * Implemented directly rather than with Bolt: Bolt's receivers want to own an HTTP server (or
 * Express); here the request is a fastify route beside the API, verified from the raw body (a
 * content-type parser scoped to this plugin keeps it), answered within Slack's 3 s, and tested
 * through `app.inject()`. The checks are Bolt's: `v0` HMAC-SHA256 over `v0:{timestamp}:{body}`
 * compared in constant time, timestamps older than five minutes refused, both with 401.
 */
export function createSlackApp(options: SlackAppOptions): SlackApp {
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const t = p.catch(() => {}).finally(() => pending.delete(t));
    pending.add(t);
  };
  const plugin: FastifyPluginAsync = async (app) => {
    const ackWithinMs = options.ackWithinMs ?? 2500;
    const post = options.fetch ?? fetch;
    const log = options.logger.child({ component: 'slack-app' });

    // Signatures are over the bytes Slack sent: keep the body as a string in this plugin only.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_BODY }, (_req, body, done) =>
      done(null, body),
    );

    async function respond(url: unknown, reply: EphemeralReply): Promise<void> {
      if (typeof url !== 'string' || !/^https?:\/\//.test(url)) return;
      try {
        const res = await post(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, ...reply }),
          signal: AbortSignal.timeout(5000),
        });
        if (!res.ok) log.warn({ status: res.status }, 'response_url refused the answer');
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'could not answer through response_url');
      }
    }

    /** Waits up to the ack deadline for `work`; if it is not done, it goes on in the background. */
    async function withinDeadline<T>(work: Promise<T>): Promise<{ done: true; value: T } | { done: false }> {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<{ done: false }>((resolve) => {
        timer = setTimeout(() => resolve({ done: false }), ackWithinMs);
      });
      const result = await Promise.race([work.then((value) => ({ done: true as const, value })), late]);
      clearTimeout(timer);
      if (!result.done) track(work);
      return result;
    }

    app.post('/slack/events', { schema: { hide: true } }, async (request, reply: FastifyReply) => {
      const raw = typeof request.body === 'string' ? request.body : '';
      const contentType = String(request.headers['content-type'] ?? '');
      const form = contentType.startsWith('application/x-www-form-urlencoded')
        ? new URLSearchParams(raw)
        : undefined;
      // Slack's SSL check is the one unsigned request.
      if (form?.get('ssl_check') === '1') return reply.code(200).send('');

      const verified = verifySlackSignature({
        signingSecret: options.signingSecret,
        timestamp: header(request.headers['x-slack-request-timestamp']),
        signature: header(request.headers['x-slack-signature']),
        rawBody: raw,
        now: options.clock.now(),
      });
      if (!verified.ok) {
        log.warn({ reason: verified.reason }, 'Slack request refused');
        return reply.code(401).send({
          statusCode: 401,
          code: verified.reason,
          error: 'Unauthorized',
          message: 'invalid Slack request signature',
        });
      }

      if (contentType.startsWith('application/json')) {
        let event: { type?: unknown; challenge?: unknown };
        try {
          event = JSON.parse(raw) as typeof event;
        } catch {
          return reply.code(400).send({
            statusCode: 400,
            code: 'invalid_request',
            error: 'Bad Request',
            message: 'body is not JSON',
          });
        }
        if (event.type === 'url_verification')
          return reply.code(200).send({ challenge: String(event.challenge ?? '') });
        // Guardian subscribes to no events yet: acknowledge so Slack does not retry.
        return reply.code(200).send('');
      }
      if (!form) {
        return reply.code(415).send({
          statusCode: 415,
          code: 'unsupported_media_type',
          error: 'Unsupported Media Type',
          message: contentType,
        });
      }

      const payloadText = form.get('payload');
      if (payloadText !== null) {
        let payload: {
          type?: unknown;
          user?: { id?: unknown; username?: unknown; name?: unknown };
          actions?: unknown;
          response_url?: unknown;
        };
        try {
          payload = JSON.parse(payloadText) as typeof payload;
        } catch {
          return reply.code(400).send({
            statusCode: 400,
            code: 'invalid_request',
            error: 'Bad Request',
            message: 'payload is not JSON',
          });
        }
        if (payload.type !== 'block_actions') return reply.code(200).send('');
        const actor = slackActor(payload.user);
        const actions = Array.isArray(payload.actions) ? (payload.actions as BlockAction[]) : [];
        if (!actor)
          return reply
            .code(400)
            .send({ statusCode: 400, code: 'invalid_request', error: 'Bad Request', message: 'no user' });
        const work = (async () => {
          for (const action of actions.slice(0, 5)) {
            if (typeof action?.action_id !== 'string') continue;
            try {
              const answer = await handleBlockAction(options, action, actor);
              log.info({ action: action.action_id, user: actor.id }, 'Slack action handled');
              if (answer) await respond(payload.response_url, answer);
            } catch (err) {
              log.error({ err, action: action.action_id }, 'Slack action failed');
              await respond(payload.response_url, {
                text: `Guardian could not do that: ${errorMessage(err).slice(0, 200)}`,
              });
            }
          }
        })();
        await withinDeadline(work);
        return reply.code(200).send('');
      }

      const command = form.get('command');
      if (command !== null) {
        const actor = slackActor({ id: form.get('user_id'), username: form.get('user_name') });
        if (!actor)
          return reply
            .code(400)
            .send({ statusCode: 400, code: 'invalid_request', error: 'Bad Request', message: 'no user' });
        const responseUrl = form.get('response_url');
        const work = handleCommand(options, form.get('text') ?? '', actor).catch((err: unknown) => {
          log.error({ err, command }, 'Slack command failed');
          return {
            text: `Guardian could not do that: ${errorMessage(err).slice(0, 200)}`,
          } as EphemeralReply;
        });
        const result = await withinDeadline(work);
        if (result.done) return reply.code(200).send({ response_type: 'ephemeral', ...result.value });
        track(work.then((answer) => respond(responseUrl, answer)));
        return reply.code(200).send({ response_type: 'ephemeral', text: 'Working on it…' });
      }
      return reply.code(400).send({
        statusCode: 400,
        code: 'invalid_request',
        error: 'Bad Request',
        message: 'not a Slack payload',
      });
    });
  };
  return {
    plugin,
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
