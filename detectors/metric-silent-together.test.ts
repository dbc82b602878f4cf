import { describe, expect, it } from 'vitest';
import { entityKey } from '../src/core/index.ts';
import { detectorHarness } from '../test/support/detector-harness.ts';
import { createSilentTogetherDetector } from './metric-silent-together.ts';

const MINUTE = 60_000;
/** Six hosts with two series each, and a collector's own series scraped apart from them. */
const HOSTS = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6'];
const hostSeries = HOSTS.flatMap((h) => [
  { name: 'system.cpu.utilization', attrs: { 'service.name': 'worker', 'host.name': h } },
  { name: 'system.memory.utilization', attrs: { 'service.name': 'worker', 'host.name': h } },
]);
const collector = { name: 'otelcol_exporter_sent_metric_points', attrs: { 'service.name': 'otelcol' } };

/** Feeds one point a minute of every series that `reports(series, minute)` says reported. */
async function feed(
  h: ReturnType<typeof detectorHarness>,
  from: number,
  to: number,
  reports: (s: { name: string; attrs: Record<string, string> }, minute: number) => boolean,
) {
  for (let m = from; m < to; m++) {
    for (const s of [...hostSeries, collector]) if (reports(s, m)) h.point(s.name, 0.5, s.attrs);
    await h.clock.advanceBy(MINUTE);
  }
}

describe('metric-silent-together', () => {
  it('makes series of many hosts that stop together ONE signal naming their pipeline, and resolves when they are back', async () => {
    const h = detectorHarness([createSilentTogetherDetector()]);
    const gone = (s: { attrs: Record<string, string> }) => s.attrs['host.name'] !== undefined;
    await feed(h, 0, 10, () => true);
    // minute 10 on: every host's series stop; the collector's own keep coming
    await feed(h, 10, 12, (s) => !gone(s));
    expect(h.signals).toEqual([]); // three minutes since their last point: not yet past three intervals
    await feed(h, 12, 20, (s) => !gone(s));
    expect(h.signals).toHaveLength(1);
    expect(h.signals[0]).toMatchObject({
      kind: 'telemetry.silent',
      status: 'firing',
      entity: 'telemetry:metrics:missing',
      names: ['telemetry:metrics'],
      severity: 'high',
    });
    expect(h.signals[0]!.related).toHaveLength(12);
    expect(h.signals[0]!.related).toContain(
      entityKey.metricSeries('system.cpu.utilization', hostSeries[0]!.attrs),
    );
    expect(h.signals[0]!.evidence).toContainEqual({
      kind: 'text',
      label: 'departed at',
      text: new Date(Date.parse('2026-03-02T02:10:00Z')).toISOString(),
    });
    // a point now and then during the outage does not end it
    await feed(h, 20, 22, (s, m) => !gone(s) || (m === 20 && s.attrs['host.name'] === 'w1'));
    expect(h.signals).toHaveLength(1);
    await feed(h, 22, 25, () => true);
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
  });

  it('leaves a gap shorter than three intervals (a collector restarting) and one host going silent alone', async () => {
    const h = detectorHarness([createSilentTogetherDetector()]);
    await feed(h, 0, 10, () => true);
    await feed(h, 10, 12, (s) => s.attrs['host.name'] === undefined); // two minutes of nothing
    await feed(h, 12, 20, () => true);
    // one host (a spot worker reclaimed) stops for good: its own silence, not a pipeline's
    await feed(h, 20, 40, (s) => s.attrs['host.name'] !== 'w1');
    expect(h.signals).toEqual([]);
  });

  it('needs series of several resources: two hosts stopping are not a pipeline', async () => {
    const h = detectorHarness([createSilentTogetherDetector({ share: 0.1 })]);
    await feed(h, 0, 10, () => true);
    await feed(h, 10, 30, (s) => !['w1', 'w2'].includes(s.attrs['host.name'] ?? ''));
    expect(h.signals).toEqual([]);
  });

  it('judges nothing before it has learnt the series (no flood when Guardian starts)', async () => {
    const h = detectorHarness([createSilentTogetherDetector()]);
    await feed(h, 0, 3, () => true); // three points: no cadence trusted yet
    await feed(h, 3, 30, (s) => s.attrs['host.name'] === undefined);
    expect(h.signals).toEqual([]);
  });
});
