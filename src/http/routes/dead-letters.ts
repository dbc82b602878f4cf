import { NotFoundError } from '../../core/index.ts';
import type { WorkQueue } from '../../queue/queue.ts';
import { errorBodySchema } from '../errors.ts';
import type { RoutePlugin } from '../route-types.ts';

export interface DeadLetterRoutesOptions {
  /** The queues whose dead letters are shown and replayed, by name. */
  queues: Readonly<Record<string, Pick<WorkQueue<unknown>, 'deadLetters' | 'replay'>>>;
}

/** A job that failed for good, as the API lists it; routes name it by `$ref: 'DeadLetter#'`. */
export const deadLetterSchema = {
  $id: 'DeadLetter',
  type: 'object',
  required: ['queue', 'id', 'error', 'failedAt', 'attempts'],
  properties: {
    queue: { type: 'string', description: 'signals or notify' },
    id: { type: 'string', description: 'the job id (`<incident>@<version>` for notify jobs)' },
    error: { type: 'string', description: "the last attempt's error" },
    failedAt: { type: 'string', format: 'date-time' },
    attempts: { type: 'integer' },
  },
} as const;

/**
 * Jobs that failed for good (a signal DynamoDB refused for longer than its retries, a post Slack
 * refused): `GET /api/v1/dead-letters` lists them, newest first, and
 * `POST /api/v1/dead-letters/{queue}/{id}/replay` queues one again once the cause is fixed.
 * `guardian jobs` is the same from the command line. A job's data is not shown: a signal's
 * evidence is for the incident, not for this list.
 */
export const deadLetterRoutes: RoutePlugin<DeadLetterRoutesOptions> = async (app, { queues }) => {
  app.addSchema(deadLetterSchema);
  const names = Object.keys(queues);

  app.get(
    '/api/v1/dead-letters',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Jobs that failed for good, newest first',
        tags: ['jobs'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            queue: { type: 'string', enum: names },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['deadLetters'],
            properties: { deadLetters: { type: 'array', items: { $ref: 'DeadLetter#' } } },
          },
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const chosen = request.query.queue ? [request.query.queue] : names;
      const all = (
        await Promise.all(
          chosen.map(async (queue) =>
            (
              await queues[queue]!.deadLetters(limit)
            ).map((d) => ({
              queue,
              id: d.id,
              error: d.error,
              failedAt: new Date(d.failedAt).toISOString(),
              attempts: d.attempts,
            })),
          ),
        )
      ).flat();
      all.sort((a, b) => (a.failedAt < b.failedAt ? 1 : a.failedAt > b.failedAt ? -1 : 0));
      return { deadLetters: all.slice(0, limit) };
    },
  );

  app.post(
    '/api/v1/dead-letters/:queue/:id/replay',
    {
      // Replaying sends to Slack or writes incidents again: an operator's act.
      config: { access: 'admin' },
      schema: {
        summary: 'Queue a dead letter again (its attempts start over)',
        tags: ['jobs'],
        params: {
          type: 'object',
          required: ['queue', 'id'],
          properties: { queue: { type: 'string', enum: names }, id: { type: 'string', minLength: 1 } },
        },
        response: {
          202: { type: 'object', required: ['replayed'], properties: { replayed: { type: 'boolean' } } },
          404: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const { queue, id } = request.params;
      if (!(await queues[queue]!.replay(id)))
        throw new NotFoundError(`no dead letter ${id} in queue ${queue}`);
      return reply.code(202).send({ replayed: true });
    },
  );
};
