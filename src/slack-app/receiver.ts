import { type App, type Receiver, type ReceiverEvent, ReceiverMultipleAckError } from '@slack/bolt';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Clock } from '../core/index.ts';
import { errorMessage } from '../core/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import { slackActor } from './context.ts';
import { verifySlackSignature } from './verify.ts';

export interface FastifyReceiverOptions {
  /** `SLACK_SIGNING_SECRET`: every request but Slack's SSL check must carry its signature. Never logged. */
  signingSecret: string;
  /** "Now" for the five-minute freshness check of a request's timestamp. */
  clock: Clock;
  logger: Logger;
  /**
   * How long a request may wait for a listener's `ack` before Slack gets a bare 200 anyway: Slack
   * treats a request with no answer within 3 s as failed (and retries Events API deliveries).
   * @defaultValue 2800
   */
  ackLimitMs?: number;
}

/** What Bolt's listeners see in `context` besides Bolt's own keys. */
export interface ReceiverCustomProperties {
  /** fastify's id of the request the event came in, to tie a listener's log lines to the route's. */
  readonly requestId: string;
}

/** A request's HTTP answer. */
type Answer = { status: number; body: unknown };

const MAX_BODY = 1024 * 1024;

/**
 * Bolt's receiver on Guardian's own fastify server: Bolt's documented extension point for HTTP
 * frameworks other than its own. Bolt starts no server here; {@link FastifyReceiver.plugin} is the
 * `POST /slack/events` route, registered on the service's HTTP port by the HTTP app.
 *
 * The route does what a Bolt HTTP receiver does before an event reaches the app, on the raw body
 * (a content-type parser scoped to the plugin keeps it): Slack's `v0` HMAC-SHA256 signature over
 * `v0:{timestamp}:{body}` compared in constant time and timestamps older than five minutes refused,
 * both with 401; the SSL check (the one unsigned request) and the Events API URL verification
 * answered; the body parsed as Bolt expects it (an interactive payload is the JSON in the form's
 * `payload` field, a slash command the form's fields, an Events API callback the JSON body) and
 * handed to `app.processEvent` with Slack's retry headers. The event's `ack` is the HTTP answer: its
 * argument is the body (an object as JSON). Events no listener acknowledges get a bare 200 once Bolt
 * is done with them, or at {@link FastifyReceiverOptions.ackLimitMs} at the latest.
 *
 * Lifecycle: `init` is Bolt's (the App constructor calls it); `start` does nothing, the HTTP server
 * belongs to Guardian; `stop` waits for events still being processed (work a listener goes on with
 * after its ack).
 */
export class FastifyReceiver implements Receiver {
  readonly #options: FastifyReceiverOptions;
  readonly #log: Logger;
  readonly #pending = new Set<Promise<void>>();
  #bolt: App | undefined;

  constructor(options: FastifyReceiverOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  init(app: App): void {
    this.#bolt = app;
  }

  /** Nothing to start: the route is served by Guardian's HTTP server. */
  async start(): Promise<void> {}

  /** Resolves once no event is being processed any more. */
  async stop(): Promise<void> {
    await this.settled();
  }

  /** Resolves once events still being processed (including work after their ack) are done. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Registers `POST /slack/events`; register it once, at the root or under a prefix. */
  readonly plugin: FastifyPluginAsync = async (app) => {
    // Signatures are over the bytes Slack sent: keep the body as a string in this plugin only.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_BODY }, (_req, body, done) =>
      done(null, body),
    );

    app.post(
      '/slack/events',
      { schema: { hide: true }, config: { access: 'open' } },
      async (request, reply: FastifyReply) => {
        const raw = typeof request.body === 'string' ? request.body : '';
        const contentType = String(request.headers['content-type'] ?? '');
        const form = contentType.startsWith('application/x-www-form-urlencoded')
          ? new URLSearchParams(raw)
          : undefined;
        // Slack's SSL check is the one unsigned request; nothing else in it is looked at.
        if (form?.get('ssl_check') === '1') return reply.code(200).send('');

        const verified = verifySlackSignature({
          signingSecret: this.#options.signingSecret,
          timestamp: header(request.headers['x-slack-request-timestamp']),
          signature: header(request.headers['x-slack-signature']),
          rawBody: raw,
          now: this.#options.clock.now(),
        });
        if (!verified.ok) {
          this.#log.warn({ reason: verified.reason }, 'Slack request refused');
          return reply.code(401).send({
            statusCode: 401,
            code: verified.reason,
            error: 'Unauthorized',
            message: 'invalid Slack request signature',
          });
        }

        const parsed = parseBody(raw, contentType, form);
        if ('status' in parsed) return reply.code(parsed.status).send(parsed.body);
        const answer = await this.#dispatch({
          body: parsed.body,
          ...retryOf(request.headers),
          customProperties: { requestId: request.id } satisfies ReceiverCustomProperties,
        });
        return reply.code(answer.status).send(answer.body);
      },
    );
  };

  /** Hands an event to Bolt; resolves with the HTTP answer once it is acknowledged or settled. */
  #dispatch(event: Omit<ReceiverEvent, 'ack'>): Promise<Answer> {
    const bolt = this.#bolt;
    if (!bolt) return Promise.resolve({ status: 503, body: unavailable() });
    return new Promise<Answer>((resolve) => {
      let acked = false;
      let answered = false;
      const answer = (a: Answer) => {
        if (answered) return;
        answered = true;
        clearTimeout(limit);
        resolve(a);
      };
      const limit = setTimeout(() => {
        this.#log.warn('a Slack event was not acknowledged in time: answered 200 without its listener');
        answer({ status: 200, body: '' });
      }, this.#options.ackLimitMs ?? 2800);
      const processing = bolt
        .processEvent({
          ...event,
          ack: async (response?: unknown) => {
            if (acked) throw new ReceiverMultipleAckError();
            acked = true;
            answer({ status: 200, body: response ?? '' });
          },
        })
        .then(
          // No listener took it (or one finished without acknowledging): Slack only needs a 200.
          () => answer({ status: 200, body: '' }),
          (err: unknown) => {
            this.#log.error({ err: errorMessage(err) }, 'Slack event failed');
            answer(acked ? { status: 200, body: '' } : { status: 500, body: internalError() });
          },
        );
      const tracked = processing.finally(() => this.#pending.delete(tracked));
      this.#pending.add(tracked);
    });
  }
}

type Parsed = { body: Record<string, unknown> } | Answer;

/** The body as Bolt's listeners expect it, or the answer to a request that carries no event for them. */
function parseBody(raw: string, contentType: string, form: URLSearchParams | undefined): Parsed {
  if (contentType.startsWith('application/json')) {
    const parsed = jsonObject(raw, 'body');
    if ('status' in parsed) return parsed;
    const { body } = parsed;
    if (body.type === 'url_verification')
      return { status: 200, body: { challenge: String(body.challenge ?? '') } };
    // Events API callbacks go to Bolt (which acknowledges them at once); other notices need an answer only.
    return body.type === 'event_callback' ? { body } : { status: 200, body: '' };
  }
  if (!form) {
    return {
      status: 415,
      body: {
        statusCode: 415,
        code: 'unsupported_media_type',
        error: 'Unsupported Media Type',
        message: contentType,
      },
    };
  }
  const payload = form.get('payload');
  if (payload !== null) {
    const parsed = jsonObject(payload, 'payload');
    if ('status' in parsed) return parsed;
    const { body } = parsed;
    // Bolt reads the user of every interaction before any listener runs.
    if (!slackActor(isObject(body.user) ? body.user : undefined)) return badRequest('no user');
    return { body };
  }
  if (form.get('command') !== null) {
    if (!slackActor({ id: form.get('user_id'), username: form.get('user_name') }))
      return badRequest('no user');
    return { body: Object.fromEntries(form) };
  }
  return badRequest('not a Slack payload');
}

/** `text` parsed as a JSON object, or the 400 naming `what` that it is not. */
function jsonObject(text: string, what: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return badRequest(`${what} is not JSON`);
  }
  return isObject(value) ? { body: value } : badRequest(`${what} is not an object`);
}

/** Slack's retry headers (Events API redeliveries), as Bolt puts them in `context`. */
function retryOf(headers: Record<string, string | string[] | undefined>): {
  retryNum?: number;
  retryReason?: string;
} {
  const num = header(headers['x-slack-retry-num']);
  const reason = header(headers['x-slack-retry-reason']);
  const retryNum = num !== undefined && /^\d{1,6}$/.test(num) ? Number(num) : undefined;
  return {
    ...(retryNum !== undefined ? { retryNum } : {}),
    ...(reason ? { retryReason: reason } : {}),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function badRequest(message: string): Answer {
  return { status: 400, body: { statusCode: 400, code: 'invalid_request', error: 'Bad Request', message } };
}

function internalError() {
  return {
    statusCode: 500,
    code: 'slack_event_failed',
    error: 'Internal Server Error',
    message: 'the Slack app failed',
  };
}

function unavailable() {
  return {
    statusCode: 503,
    code: 'slack_app_not_ready',
    error: 'Service Unavailable',
    message: 'the Slack app is not ready',
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
