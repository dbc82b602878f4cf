import { parseDuration } from '../../config/duration.ts';
import { type Clock, GuardianError, NotFoundError } from '../../core/index.ts';
import { createMatcherSilence, endSilence } from '../../incidents/actions.ts';
import { checkSilenceMatchers, describeSilence } from '../../incidents/silences.ts';
import type { IncidentStore } from '../../incidents/store.ts';
import { actorOf } from '../access.ts';
import { errorBodySchema } from '../errors.ts';
import type { RoutePlugin } from '../route-types.ts';
import { silenceSchema, silenceView } from '../schemas.ts';

export interface SilenceRoutesOptions {
  store: IncidentStore;
  clock: Clock;
}

/** The shortest and longest silence, as `/guardian silence` allows. */
const MIN_SILENCE_MS = 60_000;
const MAX_SILENCE_MS = 30 * 86_400_000;

/** A request the schema let through but that cannot be honoured; the message starts with the field. */
class InvalidRequestError extends GuardianError {
  constructor(message: string) {
    super('invalid_request', message);
  }
}

/**
 * Silences: `GET /api/v1/silences` (active ones, paginated), `POST /api/v1/silences` (mute new incidents of a
 * kind and/or touching an entity for a while), `DELETE /api/v1/silences/{id}` (end one now). The
 * same silences the Slack app's Silence button and `/guardian silence` create.
 */
export const silenceRoutes: RoutePlugin<SilenceRoutesOptions> = async (app, { store, clock }) => {
  app.addSchema(silenceSchema);

  app.get(
    '/api/v1/silences',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Active silences, a page at a time, with who made them, why, and what they suppressed',
        description:
          'In a stable order (by id). A page may hold fewer than `limit` while more follow: follow `nextCursor` until it is null.',
        tags: ['silences'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 100 },
            cursor: { type: 'string', maxLength: 2048, description: 'nextCursor of the previous page' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['silences', 'nextCursor'],
            properties: {
              silences: { type: 'array', items: { $ref: 'Silence#' } },
              nextCursor: { type: ['string', 'null'] },
            },
          },
          400: errorBodySchema,
        },
      },
    },
    async (request) => {
      const now = clock.now();
      const { limit, cursor } = request.query;
      const page = await store.silencesPage(now, { limit, ...(cursor ? { cursor } : {}) });
      return { silences: page.silences.map((s) => silenceView(s, now)), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/v1/silences',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Silence new incidents of a kind and/or touching an entity',
        description:
          'Matching new incidents are stored but not posted to Slack until the silence ends. Give `kind`, `entity` or both (all given must match), and `duration` or `until` (1 minute to 30 days). A kind is matched exactly; an entity glob must start with an entity kind and `:`, name at least 3 characters besides `*` after it, and have at most 8 `*`: match-all and over-broad silences (`*:*`, `host:*`) are refused.',
        tags: ['silences'],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: {
              type: 'string',
              minLength: 1,
              maxLength: 200,
              description: 'root-cause kind, signal kind or error class (`spot_interruption`)',
            },
            entity: {
              type: 'string',
              minLength: 1,
              maxLength: 500,
              description: 'entity key, `*` globs (`host:10.0.4.*`)',
            },
            duration: { type: 'string', minLength: 1, maxLength: 20, description: '`30m`, `2h`, `1d`…' },
            until: { type: 'string', format: 'date-time', description: 'when it ends (RFC 3339)' },
            by: {
              type: 'string',
              minLength: 1,
              maxLength: 200,
              description: 'who silences, for requests without a key; with a key, its name is recorded',
            },
            reason: { type: 'string', maxLength: 1000 },
          },
        },
        response: { 201: { $ref: 'Silence#' }, 400: errorBodySchema },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const now = clock.now();
      const actor = actorOf(request, body.by, 'body/by');
      const kind = body.kind?.trim() || undefined;
      const entity = body.entity?.trim() || undefined;
      const refusal = checkSilenceMatchers({ ...(kind ? { kind } : {}), ...(entity ? { entity } : {}) });
      if (refusal) {
        throw new InvalidRequestError(
          refusal.field === 'matcher'
            ? `body must have kind or entity: ${refusal.message}`
            : `body/${refusal.field} ${refusal.message}`,
        );
      }
      if (body.duration !== undefined && body.until !== undefined) {
        throw new InvalidRequestError('body must have duration or until, not both');
      }
      let expiresAt: number;
      if (body.duration !== undefined) {
        const ms = parseDuration(body.duration);
        if (ms === undefined) {
          throw new InvalidRequestError(`body/duration "${body.duration}" is not a duration (30m, 2h, 1d…)`);
        }
        if (ms < MIN_SILENCE_MS || ms > MAX_SILENCE_MS) {
          throw new InvalidRequestError('body/duration must be between 1m and 30d');
        }
        expiresAt = now + ms;
      } else if (body.until !== undefined) {
        expiresAt = Date.parse(body.until);
        if (!(expiresAt >= now + MIN_SILENCE_MS && expiresAt <= now + MAX_SILENCE_MS)) {
          throw new InvalidRequestError('body/until must be between 1 minute and 30 days from now');
        }
      } else {
        throw new InvalidRequestError('body must have duration or until');
      }
      const silence = await createMatcherSilence(store, {
        ...(kind ? { kind } : {}),
        ...(entity ? { entity } : {}),
        expiresAt,
        actor,
        now,
        ...(body.reason ? { reason: body.reason } : {}),
      });
      request.log.info(
        { silence: silence.id, by: silence.createdBy.id, matches: describeSilence(silence) },
        'silence created through the API',
      );
      return reply.code(201).send(silenceView(silence, now));
    },
  );

  app.delete(
    '/api/v1/silences/:id',
    {
      config: { access: 'write' },
      schema: {
        summary: 'End a silence now',
        tags: ['silences'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            by: {
              type: 'string',
              minLength: 1,
              maxLength: 200,
              description:
                'who ends it, for requests without a key (with a key, its name); noted in the timeline of the incident the silence was made from',
            },
          },
        },
        response: { 200: { $ref: 'Silence#' }, 404: errorBodySchema },
      },
    },
    async (request) => {
      const now = clock.now();
      const principal = request.principal;
      const actor =
        principal?.kind === 'key'
          ? { id: principal.key.name, keyId: principal.key.id, via: 'api' as const }
          : { id: request.query.by?.trim() || 'unnamed local caller', via: 'api' as const };
      const ended = await endSilence(store, { silenceId: request.params.id, actor, now });
      if (!ended) throw new NotFoundError(`no silence ${request.params.id}`);
      request.log.info({ silence: ended.id, by: actor.id }, 'silence ended through the API');
      return silenceView(ended, now);
    },
  );
};
