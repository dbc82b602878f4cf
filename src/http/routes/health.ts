import type { RoutePlugin } from '../route-types.ts';

export interface HealthRoutesOptions {
  /** Named readiness checks; each resolves true when its dependency answers. Must not throw. */
  checks: Readonly<Record<string, () => Promise<boolean>>>;
  /** True once shutdown has begun: readiness fails so the load balancer drains this task. */
  isStopping: () => boolean;
}

const checksSchema = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready', 'not_ready'] },
    checks: { type: 'object', additionalProperties: { type: 'boolean' } },
  },
} as const;

/** `GET /healthz` (the process is alive) and `GET /readyz` (its dependencies answer). */
export const healthRoutes: RoutePlugin<HealthRoutesOptions> = async (app, { checks, isStopping }) => {
  app.get(
    '/healthz',
    {
      config: { access: 'open' },
      schema: {
        summary: 'Liveness',
        tags: ['health'],
        response: {
          200: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } },
        },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { access: 'open' },
      schema: {
        summary: 'Readiness: store and queue answer',
        tags: ['health'],
        response: { 200: checksSchema, 503: checksSchema },
      },
    },
    async (_request, reply) => {
      const results: Record<string, boolean> = {};
      await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          results[name] = await check().catch(() => false);
        }),
      );
      if (isStopping()) results.accepting = false;
      const ready = Object.values(results).every(Boolean);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: results });
    },
  );
};
