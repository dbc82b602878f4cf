import { describe, expect, it } from 'vitest';
import type { MetricObservation } from '../../src/core/index.ts';
import { derivationOf, histogramQuantile, SeriesDeriver } from './derive.ts';

const T = Date.parse('2026-03-02T00:00:00Z');

function sum(time: number, value: number, extra: Partial<MetricObservation> = {}): MetricObservation {
  return {
    type: 'metric',
    series: 'metric:requests{}',
    name: 'requests',
    attributes: {},
    time,
    value,
    metricType: 'sum',
    unit: '1',
    temporality: 'cumulative',
    monotonic: true,
    startTime: T - 1000,
    ...extra,
  };
}

describe('SeriesDeriver', () => {
  it('turns a cumulative counter into a per-second rate, skipping resets and late points', () => {
    const d = new SeriesDeriver(derivationOf(sum(T, 0)), [0.95]);
    expect(d.derivation).toBe('rate');
    expect(d.labels()).toEqual(['rate']);
    expect(d.next(sum(T, 100))).toBeUndefined(); // first point: a baseline
    expect(d.next(sum(T + 10_000, 150))).toEqual([5]);
    expect(d.next(sum(T + 5_000, 160))).toBeUndefined(); // out of order
    expect(d.next(sum(T + 20_000, 20))).toBeUndefined(); // dropped: reset
    expect(d.next(sum(T + 30_000, 70))).toEqual([5]);
    expect(d.next(sum(T + 40_000, 90, { startTime: T + 35_000 }))).toBeUndefined(); // new start: reset
    expect(d.next(sum(T + 50_000, 190, { startTime: T + 35_000 }))).toEqual([10]);
  });

  it('uses gauges, delta sums and non-monotonic sums as reported', () => {
    for (const extra of [
      { metricType: 'gauge' as const },
      { temporality: 'delta' as const },
      { monotonic: false },
    ]) {
      const d = new SeriesDeriver(derivationOf(sum(T, 0, extra)), [0.95]);
      expect(d.derivation).toBe('value');
      expect(d.next(sum(T, 42, extra))).toEqual([42]);
    }
  });

  it('differences cumulative histograms and estimates the p95 of the interval', () => {
    const h = (time: number, counts: number[]) =>
      ({
        ...sum(time, 0),
        metricType: 'histogram',
        histogram: {
          count: counts.reduce((a, b) => a + b, 0),
          explicitBounds: [10, 100, 1000],
          bucketCounts: counts,
        },
      }) as MetricObservation;
    const d = new SeriesDeriver('histogram', [0.5, 0.95]);
    expect(d.labels()).toEqual(['p50', 'p95']);
    expect(d.next(h(T, [10, 10, 0, 0]))).toBeUndefined();
    // Interval: 0 fast, 100 in (10, 100], 100 in (100, 1000].
    const [p50, p95] = d.next(h(T + 60_000, [10, 110, 100, 0]))!;
    expect(p50).toBeCloseTo(100, 6);
    expect(p95).toBeCloseTo(100 + 900 * 0.9, 6);
    expect(d.next(h(T + 120_000, [10, 110, 100, 0]))).toBeUndefined(); // nothing observed
  });
});

describe('histogramQuantile', () => {
  const hist = { count: 10, explicitBounds: [1, 2], bucketCounts: [0, 0, 10], min: 2.5, max: 4 };
  it('closes the open buckets with min and max when they describe the counts', () => {
    expect(histogramQuantile(hist, hist.bucketCounts, 0.5, true)).toBeCloseTo(3, 6);
    expect(histogramQuantile(hist, hist.bucketCounts, 0.5, false)).toBe(2);
    expect(histogramQuantile(hist, [0, 0, 0], 0.5, true)).toBeUndefined();
  });
});
