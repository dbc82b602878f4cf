import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '../../core/index.ts';
import type { IncidentStore } from '../../incidents/store.ts';
import { errorBodySchema } from '../errors.ts';
import { incidentDetail, incidentDetailSchema, incidentSummary, incidentSummarySchema } from '../schemas.ts';

export interface IncidentRoutesOptions {
  store: IncidentStore;
}

/** Incident history: `GET /api/v1/incidents` and `GET /api/v1/incidents/{id}`. */
export const incidentRoutes: FastifyPluginAsync<IncidentRoutesOptions> = async (app, { store }) => {
  app.addSchema(incidentSummarySchema);
  app.addSchema(incidentDetailSchema);

  app.get<{
    Querystring: {
      status?: 'open' | 'acknowledged' | 'resolved';
      from?: string;
      to?: string;
      limit: number;
      cursor?: string;
    };
  }>(
    '/api/v1/incidents',
    {
      schema: {
        summary: 'List incidents, newest first',
        tags: ['incidents'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['open', 'acknowledged', 'resolved'] },
            from: { type: 'string', format: 'date-time', description: 'opened at or after (RFC 3339)' },
            to: { type: 'string', format: 'date-time', description: 'opened before (RFC 3339)' },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 25 },
            cursor: { type: 'string', maxLength: 2048, description: 'nextCursor of the previous page' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['incidents', 'nextCursor'],
            properties: {
              incidents: { type: 'array', items: { $ref: 'IncidentSummary#' } },
              nextCursor: { type: ['string', 'null'] },
            },
          },
          400: errorBodySchema,
        },
      },
    },
    async (request) => {
      const { status, from, to, limit, cursor } = request.query;
      const page = await store.list({
        limit,
        ...(status ? { status } : {}),
        ...(from ? { from: Date.parse(from) } : {}),
        ...(to ? { to: Date.parse(to) } : {}),
        ...(cursor ? { cursor } : {}),
      });
      return { incidents: page.incidents.map(incidentSummary), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/incidents/:id',
    {
      schema: {
        summary: 'One incident with its signals, timeline and notifications',
        tags: ['incidents'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
        },
        response: { 200: { $ref: 'IncidentDetail#' }, 404: errorBodySchema },
      },
    },
    async (request) => {
      const incident = await store.get(request.params.id);
      if (!incident) throw new NotFoundError(`no incident ${request.params.id}`);
      return incidentDetail(incident, await store.timeline(incident.id));
    },
  );
};
