import type { ScenarioMetric } from './scenario.ts';

interface Point {
  readonly time: number;
  readonly value: number;
  readonly start: number;
}

/**
 * A scenario's metrics as OTLP/JSON requests, released as the virtual clock reaches each point:
 * every value is exported at `start + i·interval` as a data point of the metric's type; a
 * cumulative sum that drops has been reset, so its start time moves to that point.
 */
export class MetricsPlayer {
  readonly #series: { metric: ScenarioMetric; points: Point[]; next: number }[];

  constructor(metrics: readonly ScenarioMetric[]) {
    this.#series = metrics.map((metric) => {
      const t0 = Date.parse(metric.start);
      const points: Point[] = [];
      let start = t0;
      let previous: number | undefined;
      metric.values.forEach((value, i) => {
        if (value === null) return;
        const time = t0 + Math.round(i * metric.interval_s * 1000);
        if (
          metric.type === 'sum' &&
          (metric.temporality ?? 'cumulative') === 'cumulative' &&
          previous !== undefined &&
          value < previous
        )
          start = time;
        previous = value;
        // a delta point covers the interval since the previous one
        const delta = metric.type === 'sum' && metric.temporality === 'delta';
        points.push({ time, value, start: delta ? time - Math.round(metric.interval_s * 1000) : start });
      });
      return { metric, points, next: 0 };
    });
  }

  /** The OTLP/JSON body for every point in `(after, upTo]`, or undefined when there is none. */
  due(upTo: number): string | undefined {
    const resourceMetrics: unknown[] = [];
    for (const s of this.#series) {
      const batch: Point[] = [];
      while (s.next < s.points.length && s.points[s.next]!.time <= upTo) batch.push(s.points[s.next++]!);
      if (batch.length === 0) continue;
      const m = s.metric;
      const attributes = Object.entries(m.attributes).map(([key, v]) => ({ key, value: { stringValue: v } }));
      const dataPoints = batch.map((p) => ({
        attributes,
        startTimeUnixNano: `${p.start}000000`,
        timeUnixNano: `${p.time}000000`,
        asDouble: p.value,
      }));
      const data =
        m.type === 'gauge'
          ? { gauge: { dataPoints } }
          : {
              sum: {
                dataPoints,
                aggregationTemporality: m.temporality === 'delta' ? 1 : 2,
                isMonotonic: m.monotonic ?? false,
              },
            };
      resourceMetrics.push({
        resource: {
          attributes: Object.entries(m.resource).map(([key, v]) => ({ key, value: { stringValue: v } })),
        },
        scopeMetrics: [
          { scope: { name: 'guardian-replay' }, metrics: [{ name: m.name, unit: m.unit, ...data }] },
        ],
      });
    }
    return resourceMetrics.length > 0 ? JSON.stringify({ resourceMetrics }) : undefined;
  }
}
