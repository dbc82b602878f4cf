import { describe, expect, it } from 'vitest';
import { detectorHarness } from '../test/support/detector-harness.ts';
import { createMetricBeatStoppedDetector } from './metric-beat-stopped.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T02:00:00Z');
/** An ingestion function's series, as the OTLP source receives them (one point a minute). */
const fn = { 'service.name': 'lambda-ingestion', 'faas.name': 'ingest-orders-api' };
const rows = { ...fn, source: 'orders_api' };

/**
 * Feeds one point a minute for `minutes` minutes: `rows` of each entry at its minute (0 where the
 * entry is undefined), invoked every 5 min when `invocations` is set.
 */
async function feed(
  h: ReturnType<typeof detectorHarness>,
  minutes: number,
  rowsAt: (m: number) => number,
  invocationsAt?: (m: number) => number,
) {
  for (let m = 0; m < minutes; m++) {
    h.point('ingest.rows', rowsAt(m), rows);
    if (invocationsAt) h.point('aws.lambda.invocations', invocationsAt(m), fn);
    await h.clock.advanceBy(MINUTE);
  }
}

const every5 = (m: number) => (m % 5 === 0 ? 1 : 0);

describe('metric-beat-stopped', () => {
  it('fires when a series beating every 5 min stays zero through two beats, and resolves at the next beat', async () => {
    const h = detectorHarness([createMetricBeatStoppedDetector()]);
    // beats at 0, 5, 10 (800 rows each), then 0 rows from minute 15 on
    await feed(h, 20, (m) => (m % 5 === 0 && m <= 10 ? 800 + m : 0));
    expect(h.signals).toEqual([]);
    await feed(h, 2, () => 0); // minute 20 reported zero: two beats missed
    expect(h.signals).toHaveLength(1);
    expect(h.signals[0]).toMatchObject({
      kind: 'metric.beat_stopped',
      status: 'firing',
      severity: 'low',
      entity:
        'metric:ingest.rows{faas.name="ingest-orders-api",service.name="lambda-ingestion",source="orders_api"}',
      time: T0 + 20 * MINUTE,
    });
    expect(h.signals[0]!.title).toContain('ingest.rows of lambda-ingestion on orders_api');
    expect(h.signals[0]!.title).toContain('stopped');
    expect(h.signals[0]!.evidence).toEqual(
      expect.arrayContaining([
        { kind: 'value', label: 'beats every', value: 300, unit: 's' },
        { kind: 'text', label: 'last nonzero point', text: '2026-03-02T02:10:00.000Z' },
      ]),
    );
    await feed(h, 10, () => 0);
    expect(h.signals).toHaveLength(1); // once
    h.point('ingest.rows', 640, rows);
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
  });

  it('needs a third beat, or a sibling series of the same function still beating, before two beats mean a schedule', async () => {
    const alone = detectorHarness([createMetricBeatStoppedDetector()]);
    await feed(alone, 30, (m) => (m === 0 || m === 5 ? 900 : 0));
    expect(alone.signals).toEqual([]);

    const invoked = detectorHarness([createMetricBeatStoppedDetector()]);
    // the function is still invoked every 5 min; its rows stop after two beats
    await feed(invoked, 30, (m) => (m === 0 || m === 5 ? 900 : 0), every5);
    expect(invoked.signals).toHaveLength(1);
    expect(invoked.signals[0]).toMatchObject({ kind: 'metric.beat_stopped', time: T0 + 15 * MINUTE });
    expect(invoked.signals[0]!.entity).toContain('ingest.rows');
  });

  it('does not judge sporadic errors, a level, a series that keeps beating, or one that went silent', async () => {
    const h = detectorHarness([createMetricBeatStoppedDetector()]);
    const bucket = { 'service.name': 'aws-s3', bucket: 'landing-prod' };
    // three errors at irregular times, then none
    for (let m = 0; m < 60; m++) {
      h.point('aws.s3.5xx_errors', m === 3 || m === 8 || m === 20 ? 1 : 0, bucket);
      // a level that drops to zero is the anomaly detector's, not a missed beat
      h.point('airflow.pool.open_slots', m < 10 ? 16 : 0, { 'service.name': 'airflow-scheduler' });
      // beating on, every 4 min
      h.point('aws.lambda.invocations', m % 4 === 0 ? 1 : 0, fn);
      // a beat that stops reporting altogether: silence is the staleness detector's
      if (m < 12) h.point('ingest.rows', m % 5 === 0 ? 700 : 0, rows);
      await h.clock.advanceBy(MINUTE);
    }
    expect(h.signals).toEqual([]);
  });
});
