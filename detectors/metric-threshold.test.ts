import { describe, expect, it } from 'vitest';
import { thresholdRuleSchema } from '../src/config/schema.ts';
import { detectorHarness } from '../test/support/detector-harness.ts';
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
});
