import { type Clock, NotFoundError } from '../../core/index.ts';
import { applyLifecycleAction } from '../../incidents/actions.ts';
import type { IncidentStore } from '../../incidents/store.ts';
import { actorOf } from '../access.ts';
import { errorBodySchema } from '../errors.ts';
import type { RoutePlugin } from '../route-types.ts';
import {
  incidentDetail,
  incidentDetailSchema,
  incidentSummary,
  incidentSummarySchema,
  TIMELINE_SHOWN,
} from '../schemas.ts';

export interface IncidentRoutesOptions {
  store: IncidentStore;
  clock: Clock;
  /**
   * Asks the notifier to bring the incident's Slack message and thread up to date after an action
   * (the notify queue, as the Slack app's buttons do). Without it, actions change the incident only.
   */
  requestUpdate?: (incidentId: string) => Promise<void>;
}

/**
 * Incident history and lifecycle: `GET /api/v1/incidents`, `GET /api/v1/incidents/{id}` and
 * `POST /api/v1/incidents/{id}/actions` (acknowledge, resolve, reopen).
 */
export const incidentRoutes: RoutePlugin<IncidentRoutesOptions> = async (
  app,
  { store, clock, requestUpdate },
) => {
  app.addSchema(incidentSummarySchema);
  app.addSchema(incidentDetailSchema);

  app.get(
    '/api/v1/incidents',
    {
      config: { access: 'read' },
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
      const delivered = await store.deliveries(page.incidents.map((i) => i.id));
      return {
        incidents: page.incidents.map((i) => incidentSummary(i, delivered.get(i.id))),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/api/v1/incidents/:id',
    {
      config: { access: 'read' },
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
      const [timeline, delivery, sent] = await Promise.all([
        store.timeline(incident.id, { newest: TIMELINE_SHOWN }),
        store.getDelivery(incident.id),
        store.sent(incident.id),
      ]);
      return incidentDetail(incident, timeline, delivery, sent);
    },
  );

  app.post(
    '/api/v1/incidents/:id/actions',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Acknowledge, resolve or reopen an incident',
        description:
          'Recorded in the incident’s timeline with who did it (the API key’s name), and the Slack message is updated as the Slack buttons do. Repeating an action already applied changes nothing (`changed: false`).',
        tags: ['incidents'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['action'],
          properties: {
            action: { type: 'string', enum: ['acknowledge', 'resolve', 'reopen'] },
            by: {
              type: 'string',
              minLength: 1,
              maxLength: 200,
              description:
                'who acts, for requests without a key (loopback in protected mode); with a key, its name is recorded and this is ignored',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['incident', 'changed', 'message'],
            properties: {
              incident: { $ref: 'IncidentSummary#' },
              changed: { type: 'boolean', description: 'false when it was already in that state' },
              message: { type: 'string' },
            },
          },
          400: errorBodySchema,
          404: errorBodySchema,
          409: errorBodySchema,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const actor = actorOf(request, request.body.by, 'body/by');
      if (!(await store.get(id))) throw new NotFoundError(`no incident ${id}`);
      const outcome = await applyLifecycleAction(store, {
        incidentId: id,
        action: request.body.action,
        actor,
        now: clock.now(),
      });
      request.log.info(
        { incidentId: id, action: request.body.action, by: actor.id, keyId: actor.keyId },
        'incident action through the API',
      );
      // Always, as the Slack buttons do: a repeated action finds the message already up to date.
      if (requestUpdate) await requestUpdate(id);
      return {
        incident: incidentSummary(outcome.incident, await store.getDelivery(id)),
        changed: outcome.changed,
        message: outcome.message,
      };
    },
  );
};
