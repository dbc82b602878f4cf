import { describe, expect, it } from 'vitest';
import type { MetricObservation } from '../core/index.ts';
import { SeriesBudget } from './series-budget.ts';

function point(service: string, n: number | string, extra: Record<string, string> = {}): MetricObservation {
  const attributes = { 'service.name': service, id: String(n), ...extra };
  const labels = Object.entries(attributes)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return {
    type: 'metric',
    series: `metric:m{${labels}}`,
    name: 'm',
    attributes,
    time: 0,
    value: 1,
    metricType: 'gauge',
    unit: '',
  };
}

describe('SeriesBudget', () => {
  it('admits established series always, refuses new ones past the per-source and total budgets', () => {
    const budget = new SeriesBudget({ total: 5, perSource: 3 });
    for (let i = 0; i < 3; i++) expect(budget.admit(point('a', i), 0)).toBeDefined();
    expect(budget.admit(point('a', 99), 0)).toBeUndefined();
    // Another source still has room, up to the total.
    expect(budget.admit(point('b', 0), 0)).toBeDefined();
    expect(budget.admit(point('b', 1), 0)).toBeDefined();
    expect(budget.admit(point('b', 2), 0)).toBeUndefined();
    // Established ones keep flowing.
    for (let i = 0; i < 3; i++) expect(budget.admit(point('a', i), 1)).toBeDefined();
    expect(budget.size).toBe(5);
    const refused = budget.takeRefusals();
    expect(refused).toEqual({ total: 2, bySource: { a: 1, b: 1 } });
    expect(budget.takeRefusals().total).toBe(0);
    expect(budget.refusedEver).toBe(2);
  });

  it('gives back the place of a series idle for idleMs', () => {
    const budget = new SeriesBudget({ total: 2, perSource: 2, idleMs: 1000 });
    budget.admit(point('a', 1), 0);
    budget.admit(point('a', 2), 500);
    expect(budget.admit(point('a', 3), 600)).toBeUndefined();
    expect(budget.sweep(1200)).toBe(1); // series 1 idle 1200 ms, series 2 only 700
    expect(budget.admit(point('a', 3), 1200)).toBeDefined();
    expect(budget.size).toBe(2);
  });

  it('counts a flood of distinct sources under one name past maxSources', () => {
    const budget = new SeriesBudget({ total: 1000, perSource: 1, maxSources: 3 });
    for (let i = 0; i < 50; i++) budget.admit(point(`svc-${i}`, 0), 0);
    expect(budget.sources).toBe(4); // three sources and `(other sources)`
    expect(budget.size).toBe(4);
  });

  it('masks secrets in the series key and attributes, once per series', () => {
    const budget = new SeriesBudget();
    const raw = point('etl', 1, { 'db.password': 'hunter2', 'db.url': 'postgres://etl:p@ss@db/x' });
    const admitted = budget.admit(raw, 0)!;
    expect(admitted.series).not.toContain('hunter2');
    expect(admitted.series).not.toContain('p@ss');
    expect(admitted.attributes['db.password']).toBe('[REDACTED]');
    expect(admitted.attributes['db.url']).toBe('postgres://etl:[REDACTED]@db/x');
    expect(admitted.attributes['service.name']).toBe('etl');
    expect(budget.admit(raw, 1)!.series).toBe(admitted.series);
  });

  it('refuses a series with a runaway key or too many attributes', () => {
    const budget = new SeriesBudget({ maxKeyLength: 200, maxAttributes: 5 });
    expect(budget.admit(point('a', 1, { sql: 'x'.repeat(500) }), 0)).toBeUndefined();
    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v']));
    expect(budget.admit(point('a', 2, many), 0)).toBeUndefined();
    expect(budget.admit(point('a', 3), 0)).toBeDefined();
    expect(budget.takeRefusals().total).toBe(2);
  });
});
