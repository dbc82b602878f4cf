import type { SeriesSeen } from '../../detection/series-seen.ts';
import type { RoutePlugin } from '../route-types.ts';

export interface SeriesRoutesOptions {
  /**
   * The series the anomaly detector watches, in key order after `after`, at most `limit`
   * (`MetricAnomalyDetector.seriesSeen`); undefined when that detector is not running.
   */
  list: ((after: string | undefined, limit: number) => { series: SeriesSeen[]; next?: string }) | undefined;
}

/**
 * `GET /api/v1/series`: the metric series Guardian has seen and watches, with their last value
 * and time, a page at a time: the first thing to look at after pointing an exporter at Guardian.
 * Bounded as the anomaly detector's state is (`maxSeries`, least recently seen forgotten first).
 */
export const seriesRoutes: RoutePlugin<SeriesRoutesOptions> = async (app, { list }) => {
  app.get(
    '/api/v1/series',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Metric series seen, with their last value and time, in key order',
        tags: ['series'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            after: { type: 'string', maxLength: 4096, description: 'the `next` of the previous page' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['series'],
            properties: {
              series: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    series: { type: 'string' },
                    name: { type: 'string' },
                    label: { type: 'string' },
                    unit: { type: 'string' },
                    lastValue: { type: ['number', 'null'] },
                    lastSeen: { type: 'string', format: 'date-time' },
                    intervalMs: { type: 'integer' },
                    firing: { type: 'boolean' },
                  },
                },
              },
              next: { type: 'string' },
            },
          },
        },
      },
    },
    async (request) => {
      if (!list) return { series: [] };
      const page = list(request.query.after, request.query.limit);
      return {
        series: page.series.map((s) => ({
          series: s.series,
          name: s.name,
          label: s.label,
          unit: s.unit,
          lastValue: Number.isFinite(s.lastValue) ? s.lastValue : null,
          lastSeen: new Date(s.lastSeen).toISOString(),
          intervalMs: s.interval,
          firing: s.firing,
        })),
        ...(page.next !== undefined ? { next: page.next } : {}),
      };
    },
  );
};
