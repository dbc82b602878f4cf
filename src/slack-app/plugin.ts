import { App, type Logger as BoltLogger, LogLevel, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { errorMessage } from '../core/index.ts';
import type { Logger } from '../telemetry/logger.ts';
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
 * How long the route waits for Bolt to acknowledge before answering 200 anyway: Slack retries a
 * request it has no answer to within 3 s.
 */
const ACK_LIMIT_MS = 2800;

/** What a request's HTTP answer is, once Bolt acknowledges it. */
type Answer = { status: number; body: unknown };

/**
 * The bridge between the fastify route and Bolt: Bolt's documented extension point for other
 * HTTP frameworks. Bolt owns no server here; the route verifies and parses a request and hands
 * the event over, and the event's `ack` settles the route's answer.
 */
class RouteReceiver implements Receiver {
  #bolt: App | undefined;

  init(app: App): void {
    this.#bolt = app;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  /** Runs Bolt on one event; resolves when its listeners are done (which may be after the ack). */
  dispatch(event: ReceiverEvent): Promise<void> {
    if (!this.#bolt) throw new Error('the Slack app is not initialised');
    return this.#bolt.processEvent(event);
  }
}

/**
 * Guardian's Slack app, a Bolt app served as `POST /slack/events` on the service's own HTTP port:
 * interactivity (the Acknowledge / Resolve / Silence / Reopen controls) and the `/guardian` slash
 * command as Bolt listeners, and the Events API handshake.
 *
 * The route does what Bolt's HTTP receiver does before an event reaches the app, on the raw body
 * a content-type parser scoped to this plugin keeps: Slack's `v0` HMAC-SHA256 signature over
 * `v0:{timestamp}:{body}` compared in constant time, timestamps older than five minutes refused,
 * both with 401; the SSL check and the URL verification answered. Bolt then routes the event to
 * its listener, whose `ack` is the HTTP answer (within Slack's 3 s; longer work goes on and answers
 * through `response_url`).
 */
export function createSlackApp(options: SlackAppOptions): SlackApp {
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const t = p.catch(() => {}).finally(() => pending.delete(t));
    pending.add(t);
  };
  const ackWithinMs = options.ackWithinMs ?? 2500;
  const post = options.fetch ?? fetch;
  const log = options.logger.child({ component: 'slack-app' });

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

  /** Waits up to the ack deadline for `work`; if it is not done, it goes on (Bolt's event stays open). */
  async function withinDeadline<T>(work: Promise<T>): Promise<{ done: true; value: T } | { done: false }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<{ done: false }>((resolve) => {
      timer = setTimeout(() => resolve({ done: false }), ackWithinMs);
    });
    const result = await Promise.race([work.then((value) => ({ done: true as const, value })), late]);
    clearTimeout(timer);
    return result;
  }

  const receiver = new RouteReceiver();
  const bolt = new App({
    receiver,
    // Guardian answers through its own notifier and response_url: Bolt needs no token, and so
    // makes no Slack API call (no auth.test at start).
    authorize: async () => ({}),
    ignoreSelf: false,
    logger: boltLogger(log),
    logLevel: LogLevel.WARN,
  });

  bolt.action({ type: 'block_actions' }, async ({ ack, body }) => {
    const payload = body as {
      user?: { id?: unknown; username?: unknown; name?: unknown };
      actions?: unknown;
      response_url?: unknown;
    };
    const actor = slackActor(payload.user);
    if (!actor) return ack(); // the route refused it already
    const actions = Array.isArray(payload.actions) ? (payload.actions as BlockAction[]) : [];
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
    await ack();
    await work;
  });

  bolt.command('/guardian', async ({ ack, command }) => {
    const actor = slackActor({ id: command.user_id, username: command.user_name });
    if (!actor) return ack(); // the route refused it already
    const work = handleCommand(options, command.text ?? '', actor).catch((err: unknown) => {
      log.error({ err, command: command.command }, 'Slack command failed');
      return { text: `Guardian could not do that: ${errorMessage(err).slice(0, 200)}` } as EphemeralReply;
    });
    const result = await withinDeadline(work);
    if (result.done) {
      await ack({ response_type: 'ephemeral', ...result.value } as never);
      return;
    }
    await ack({ response_type: 'ephemeral', text: 'Working on it…' });
    await respond(command.response_url, await work);
  });

  bolt.error(async (err) => {
    log.error({ err: errorMessage(err) }, 'Slack app error');
  });

  /** Hands an event to Bolt; resolves with the HTTP answer once it is acknowledged (or 200 at the limit). */
  function dispatch(body: Record<string, unknown>): Promise<Answer> {
    return new Promise<Answer>((resolve) => {
      let answered = false;
      const answer = (a: Answer) => {
        if (answered) return;
        answered = true;
        clearTimeout(limit);
        resolve(a);
      };
      const limit = setTimeout(() => answer({ status: 200, body: '' }), ACK_LIMIT_MS);
      const event: ReceiverEvent = {
        body,
        ack: async (response?: unknown) => {
          if (answered) throw new Error('this Slack request was already acknowledged');
          answer({ status: 200, body: response ?? '' });
        },
      };
      track(
        receiver.dispatch(event).catch((err: unknown) => {
          log.error({ err: errorMessage(err) }, 'Slack event failed');
          answer({ status: 200, body: '' });
        }),
      );
    });
  }

  const plugin: FastifyPluginAsync = async (app) => {
    // Signatures are over the bytes Slack sent: keep the body as a string in this plugin only.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_BODY }, (_req, body, done) =>
      done(null, body),
    );

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
          return reply.code(400).send(badRequest('body is not JSON'));
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

      // As Bolt's receiver does: an interactive payload is the JSON in `payload`, a slash command
      // the form's fields.
      const payloadText = form.get('payload');
      let body: Record<string, unknown>;
      if (payloadText !== null) {
        try {
          body = JSON.parse(payloadText) as Record<string, unknown>;
        } catch {
          return reply.code(400).send(badRequest('payload is not JSON'));
        }
        if (!body || typeof body !== 'object')
          return reply.code(400).send(badRequest('payload is not an object'));
        // Only buttons and menus have listeners; anything else needs nothing but an answer.
        if (body.type !== 'block_actions') return reply.code(200).send('');
        if (!slackActor(body.user as Parameters<typeof slackActor>[0]))
          return reply.code(400).send(badRequest('no user'));
      } else if (form.get('command') !== null) {
        if (form.get('command') !== '/guardian') return reply.code(200).send('');
        if (!slackActor({ id: form.get('user_id'), username: form.get('user_name') }))
          return reply.code(400).send(badRequest('no user'));
        body = Object.fromEntries(form);
      } else {
        return reply.code(400).send(badRequest('not a Slack payload'));
      }
      const answer = await dispatch(body);
      return reply.code(answer.status).send(answer.body);
    });
  };
  return {
    plugin,
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

function badRequest(message: string) {
  return { statusCode: 400, code: 'invalid_request', error: 'Bad Request', message };
}

/** Bolt's logger interface on Guardian's logger (Bolt logs warnings and errors only). */
function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.WARN;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : errorMessage(m))).join(' ');
  return {
    debug: (...msg) => log.debug({ bolt: true }, text(msg)),
    info: (...msg) => log.info({ bolt: true }, text(msg)),
    warn: (...msg) => log.warn({ bolt: true }, text(msg)),
    error: (...msg) => log.error({ bolt: true }, text(msg)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
