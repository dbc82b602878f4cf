import { describe, expect, it } from 'vitest';
import { stalenessRuleSchema } from '../src/config/schema.ts';
import { detectorHarness } from '../test/support/detector-harness.ts';
import { createStalenessDetector } from './metric-staleness.ts';

const lambda = { 'service.name': 'ingest-orders', 'faas.name': 'ingest-orders' };
const rule = (over: Record<string, unknown> = {}) =>
  stalenessRuleSchema.parse({ id: 'ingest-rows', metric: 'ingest.rows', ...over });

describe('metric-staleness', () => {
  it('learns the reporting interval and fires after three silent intervals, then resolves', async () => {
    const h = detectorHarness([createStalenessDetector([rule({ minSilence: '10s' })])]);
    for (let i = 0; i < 5; i++) {
      h.point('ingest.rows', 100, lambda);
      await h.clock.advanceBy(30_000);
    }
    // Last point at t0+120 s; the series reports every 30 s, so it is stale after 90 s of silence.
    await h.clock.advanceBy(50_000); // t0+200 s: 80 s of silence
    expect(h.signals).toEqual([]);
    await h.clock.advanceBy(20_000); // t0+220 s: 100 s of silence
    expect(h.signals).toHaveLength(1);
    expect(h.signals[0]).toMatchObject({ status: 'firing', kind: 'metric.stale', severity: 'low' });
    expect(h.signals[0]!.time).toBe(Date.parse('2026-03-02T02:03:30Z'));
    await h.clock.advanceBy(60_000);
    expect(h.signals).toHaveLength(1); // no repeats while it stays silent
    h.point('ingest.rows', 100, lambda);
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
  });

  it('uses a configured silence instead of the learnt one', async () => {
    const h = detectorHarness([createStalenessDetector([rule({ after: '5m' })])]);
    h.point('ingest.rows', 1, lambda);
    await h.clock.advanceBy(299_000);
    expect(h.signals).toEqual([]);
    await h.clock.advanceBy(2_000);
    expect(h.signals).toHaveLength(1);
  });

  it('never calls a series stale before it knows how often it reports', async () => {
    const h = detectorHarness([createStalenessDetector([rule()])]);
    h.point('ingest.rows', 1, lambda);
    await h.clock.advanceBy(3_600_000);
    expect(h.signals).toEqual([]);
  });

  it('respects minSilence for fast series', async () => {
    const h = detectorHarness([createStalenessDetector([rule()])]);
    for (let i = 0; i < 3; i++) {
      h.point('ingest.rows', 1, lambda);
      await h.clock.advanceBy(1_000);
    }
    await h.clock.advanceBy(50_000);
    expect(h.signals).toEqual([]);
    await h.clock.advanceBy(15_000);
    expect(h.signals).toHaveLength(1);
  });

  it('stops watching a series silent for retireAfter: the stale signal resolves and its state is dropped', async () => {
    const detector = createStalenessDetector([rule({ retireAfter: '2h' })]);
    const h = detectorHarness([detector]);
    for (let i = 0; i < 3; i++) {
      h.point('ingest.rows', 1, lambda);
      await h.clock.advanceBy(30_000);
    }
    h.point('ingest.rows', 1, { ...lambda, 'faas.name': 'once' }); // one point: never stale
    await h.clock.advanceBy(3_600_000);
    expect(h.signals.map((s) => s.status)).toEqual(['firing']);
    expect(detector.size!()).toBe(2);
    await h.clock.advanceBy(3_610_000);
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
    expect(h.signals[1]!.title).toMatch(/no longer watched/);
    expect(h.signals[1]!.fingerprint).toBe(h.signals[0]!.fingerprint);
    expect(detector.size!()).toBe(0);
  });

  it('watches at most maxSeries series, forgetting the one with the oldest point first', async () => {
    const d = createStalenessDetector([rule({ after: '1m' })], 2);
    const h = detectorHarness([d]);
    h.point('ingest.rows', 1, { ...lambda, 'faas.name': 'a' });
    await h.clock.advanceBy(120_000); // a is stale now
    expect(h.signals.map((s) => s.status)).toEqual(['firing']);
    h.point('ingest.rows', 1, { ...lambda, 'faas.name': 'b' });
    h.point('ingest.rows', 1, { ...lambda, 'faas.name': 'c' }); // over the cap: a goes, resolved
    expect(d.size!()).toBe(2);
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
  });
});
