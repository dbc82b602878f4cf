import { describe, expect, it } from 'vitest';
import { thresholdRuleSchema } from '../src/config/schema.ts';
import { detectorHarness, metricPoint } from '../test/support/detector-harness.ts';
import { createThresholdDetector } from './metric-threshold.ts';

const rule = (over: Record<string, unknown> = {}) =>
  thresholdRuleSchema.parse({
    id: 'worker-memory',
    metric: 'system.memory.utilization',
    match: { 'service.name': 'spark-worker' },
    op: '>',
    value: 0.9,
    for: '30s',
    ...over,
  });

const worker = { 'service.name': 'spark-worker', 'host.name': '10.0.3.17' };

describe('metric-threshold', () => {
  it('fires once the breach has held for `for`, once, and resolves on recovery', async () => {
    const h = detectorHarness([createThresholdDetector([rule()])]);
    for (const v of [0.5, 0.95, 0.96, 0.97, 0.99, 0.98, 0.5]) {
      h.point('system.memory.utilization', v, worker);
      await h.clock.advanceBy(15_000);
    }
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
    const [firing, resolved] = h.signals;
    // The breach began with the second point (t0 + 15 s) and had held 30 s at the fourth.
    expect(firing!.time).toBe(Date.parse('2026-03-02T02:00:15Z'));
    expect(firing!.entity).toBe(
      'metric:system.memory.utilization{host.name="10.0.3.17",service.name="spark-worker"}',
    );
    expect(firing!.related).toEqual(['host:10.0.3.17']);
    expect(firing!.severity).toBe('high');
    expect(firing!.evidence).toContainEqual({ kind: 'value', label: 'observed', value: 0.97, unit: '1' });
    expect(resolved!.fingerprint).toBe(firing!.fingerprint);
    expect(resolved!.time).toBe(Date.parse('2026-03-02T02:01:30Z'));
  });

  it('does not fire on a breach shorter than `for`', async () => {
    const h = detectorHarness([createThresholdDetector([rule()])]);
    for (const v of [0.95, 0.96, 0.5, 0.95, 0.5]) {
      h.point('system.memory.utilization', v, worker);
      await h.clock.advanceBy(15_000);
    }
    expect(h.signals).toEqual([]);
  });

  it('fires on the first breaching point when `for` is 0', () => {
    const h = detectorHarness([createThresholdDetector([rule({ for: 0, op: '<', value: 1 })])]);
    h.point('system.memory.utilization', 0.2, worker);
    expect(h.signals).toHaveLength(1);
  });

  it('keeps series apart and ignores series the matchers exclude', () => {
    const h = detectorHarness([
      createThresholdDetector([
        rule({ for: 0, match: { 'service.name': { regex: 'spark-.*' }, state: { not: 'free' } } }),
      ]),
    ]);
    h.point('system.memory.utilization', 0.99, { ...worker, state: 'used' });
    h.point('system.memory.utilization', 0.99, { ...worker, 'host.name': '10.0.3.18', state: 'used' });
    h.point('system.memory.utilization', 0.99, { ...worker, state: 'free' });
    h.point('system.memory.utilization', 0.99, { 'service.name': 'airflow-worker' });
    h.point('system.cpu.utilization', 0.99, worker);
    expect(h.signals.map((s) => s.related)).toEqual([['host:10.0.3.17'], ['host:10.0.3.18']]);
    expect(new Set(h.signals.map((s) => s.fingerprint)).size).toBe(2);
  });

  it('gives the same fingerprint to the same rule and series across restarts', () => {
    const a = detectorHarness([createThresholdDetector([rule({ for: 0 })])]);
    const b = detectorHarness([createThresholdDetector([rule({ for: 0 })])]);
    a.point('system.memory.utilization', 0.99, worker);
    b.point('system.memory.utilization', 0.99, worker);
    expect(a.signals[0]!.fingerprint).toBe(b.signals[0]!.fingerprint);
  });

  it('forgets healthy series so state stays bounded', () => {
    const detector = createThresholdDetector([rule({ for: 0 })]);
    const h = detectorHarness([detector]);
    for (let i = 0; i < 1000; i++)
      h.point('system.memory.utilization', 0.1, { ...worker, 'host.name': `h${i}` });
    expect(detector.size!()).toBe(0);
  });

  it('remembers at most maxSeries breaching series, forgetting (and resolving) the one without news longest', async () => {
    const d = createThresholdDetector([rule({ for: 0 })], 3);
    const h = detectorHarness([d]);
    for (let i = 0; i < 5; i++) {
      h.point('system.memory.utilization', 0.99, { ...worker, 'host.name': `10.0.0.${i}` });
      await h.clock.advanceBy(1000);
    }
    const resolved = h.signals.filter((s) => s.status === 'resolved');
    expect(resolved.map((s) => s.related)).toEqual([['host:10.0.0.0'], ['host:10.0.0.1']]);
    // Three series, each its own group (one host each).
    expect(d.size!()).toBe(6);
  });
});

describe('metric-threshold groups', () => {
  const probe = (over: Record<string, unknown> = {}) =>
    thresholdRuleSchema.parse({ id: 'probe', metric: 'probe.value', op: '>', value: 0.5, for: 0, ...over });

  it('makes one signal of many series of one host, re-firing as the count doubles', () => {
    const h = detectorHarness([createThresholdDetector([probe()])]);
    for (let i = 0; i < 1000; i++)
      h.point('probe.value', 0.6 + i / 10_000, { 'host.name': 'h1', probe: `p${i}` });
    const counts = h.signals.map((s) => s.evidence.find((e) => e.label === 'series breaching'));
    expect(h.signals.every((s) => s.status === 'firing')).toBe(true);
    expect(new Set(h.signals.map((s) => s.fingerprint)).size).toBe(1);
    // 1, 2, 4, … 512: ten signals for a thousand series.
    expect(h.signals).toHaveLength(10);
    expect(counts.at(-1)).toEqual({ kind: 'value', label: 'series breaching', value: 512 });
    const last = h.signals.at(-1)!;
    expect(last.title).toBe('512 series of probe.value, host h1: worst 0.651 > 0.5');
    expect(last.evidence).toContainEqual({
      kind: 'text',
      label: 'worst series',
      text: 'metric:probe.value{host.name="h1",probe="p511"}',
    });
    expect(last.entity).toBe('metric:probe.value{host.name="h1",probe="p0"}');
    expect(last.related).toEqual(['host:h1']);
  });

  it('resolves the group when its last series recovers, not before', () => {
    const detector = createThresholdDetector([probe()]);
    const h = detectorHarness([detector]);
    for (let i = 0; i < 10; i++) h.point('probe.value', 0.9, { 'host.name': 'h1', probe: `p${i}` });
    const fired = h.signals.length;
    for (let i = 0; i < 9; i++) h.point('probe.value', 0.1, { 'host.name': 'h1', probe: `p${i}` });
    expect(h.signals).toHaveLength(fired);
    h.point('probe.value', 0.1, { 'host.name': 'h1', probe: 'p9' });
    expect(h.signals.at(-1)!.status).toBe('resolved');
    expect(h.signals.at(-1)!.fingerprint).toBe(h.signals[0]!.fingerprint);
    expect(detector.size!()).toBe(0);
  });

  it('keeps hosts apart by default, and groups by the attributes a rule names', () => {
    const byHost = detectorHarness([createThresholdDetector([probe()])]);
    const byRegion = detectorHarness([createThresholdDetector([probe({ groupBy: ['region'] })])]);
    for (const h of [byHost, byRegion]) {
      h.point('probe.value', 0.9, { 'host.name': 'h1', region: 'eu' });
      h.point('probe.value', 0.9, { 'host.name': 'h2', region: 'eu' });
      h.point('probe.value', 0.9, { 'host.name': 'h3', region: 'us' });
    }
    expect(new Set(byHost.signals.map((s) => s.fingerprint)).size).toBe(3);
    expect(new Set(byRegion.signals.map((s) => s.fingerprint)).size).toBe(2);
    expect(byRegion.signals.map((s) => s.title)).toContain(
      '2 series of probe.value, region=eu: worst 0.9 > 0.5',
    );
  });

  it('groups series that name no host, function or service together: the breadth is the news', () => {
    const h = detectorHarness([createThresholdDetector([probe()])]);
    for (let i = 0; i < 4; i++) h.point('probe.value', 0.9, { probe: `p${i}` });
    expect(new Set(h.signals.map((s) => s.fingerprint)).size).toBe(1);
    expect(h.signals.at(-1)!.title).toBe('4 series of probe.value: worst 0.9 > 0.5');
  });
});

describe('metric-threshold on counters', () => {
  const counter = (value: number, time: number, start: number, extra: Record<string, string> = {}) => ({
    ...metricPoint('ingest.errors', value, { 'service.name': 'lambda-ingestion', ...extra }, time),
    metricType: 'sum' as const,
    temporality: 'cumulative' as const,
    monotonic: true,
    startTime: start,
  });
  const errorsRule = (over: Record<string, unknown> = {}) =>
    thresholdRuleSchema.parse({ id: 'ingest-errors', metric: 'ingest.errors', op: '>', value: 0, ...over });

  it('compares a monotonic cumulative sum by its rate, so it clears once errors stop', async () => {
    const h = detectorHarness([createThresholdDetector([errorsRule()])]);
    const t0 = h.clock.now();
    // 0, 0, 3, 6, 6, 6: errors for two intervals, then none; the total stays at 6.
    for (const [i, v] of [0, 0, 3, 6, 6, 6].entries())
      h.engine.ingest([counter(v, t0 + i * 5000, t0 - 1000)]);
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
    expect(h.signals[0]!.title).toBe('ingest.errors of lambda-ingestion: rate 0.6/s > 0');
    expect(h.signals[0]!.evidence).toContainEqual({
      kind: 'value',
      label: 'observed',
      value: 0.6,
      unit: '1/s',
    });
  });

  it('compares the running total when the rule says compare: value', () => {
    const h = detectorHarness([createThresholdDetector([errorsRule({ compare: 'value' })])]);
    const t0 = h.clock.now();
    for (const [i, v] of [0, 3, 6, 6, 6].entries()) h.engine.ingest([counter(v, t0 + i * 5000, t0 - 1000)]);
    expect(h.signals.map((s) => s.status)).toEqual(['firing']);
  });

  it('reads a reset (a restarted exporter) as the rate since its new start, not a drop', () => {
    const h = detectorHarness([createThresholdDetector([errorsRule()])]);
    const t0 = h.clock.now();
    h.engine.ingest([counter(10, t0, t0 - 60_000), counter(20, t0 + 5000, t0 - 60_000)]);
    expect(h.signals.map((s) => s.status)).toEqual(['firing']);
    // New process, new start time, total back to 0 and staying there: healthy.
    h.engine.ingest([counter(0, t0 + 20_000, t0 + 15_000)]);
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
  });

  it('compares a gauge by its value unless the rule asks for its rate', () => {
    const h = detectorHarness([
      createThresholdDetector([
        thresholdRuleSchema.parse({ id: 'q', metric: 'queue.depth', op: '>', value: 1, compare: 'rate' }),
      ]),
    ]);
    const t0 = h.clock.now();
    h.engine.ingest([
      metricPoint('queue.depth', 100, {}, t0),
      metricPoint('queue.depth', 105, {}, t0 + 10_000),
    ]);
    expect(h.signals).toEqual([]); // 0.5/s
    h.engine.ingest([metricPoint('queue.depth', 200, {}, t0 + 20_000)]);
    expect(h.signals.map((s) => s.status)).toEqual(['firing']); // 9.5/s
  });
});
