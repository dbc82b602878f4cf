import { describe, expect, it } from 'vitest';
import type { Observation } from '../src/core/index.ts';
import { detectorHarness } from '../test/support/detector-harness.ts';
import { createAirflowTaskDurationDetector } from './airflow-task-duration.ts';

const min = 60_000;

function tryObs(
  run: number,
  to: string,
  start: number,
  end: number | null,
  queued = start - min,
): Observation {
  return {
    type: 'state',
    entity: `airflow:task:gold_daily/run_${run}/build_revenue`,
    related: [`airflow:dagrun:gold_daily/run_${run}`, 'airflow:dag:gold_daily'],
    from: null,
    to,
    time: end ?? start,
    details: {
      start_date: new Date(start).toISOString(),
      end_date: end === null ? null : new Date(end).toISOString(),
      queued_when: new Date(queued).toISOString(),
    },
  };
}

/** `runs` finished nightly runs before `t0`, the i-th lasting `minutes(i)`. */
function nightly(t0: number, runs: number, minutes: (i: number) => number): Observation[] {
  const day = (i: number) => t0 - (runs + 3 - i) * 86_400_000;
  return Array.from({ length: runs }, (_, i) => tryObs(i, 'success', day(i), day(i) + minutes(i) * min));
}

describe('airflow-task-duration', () => {
  it('learns a task’s usual run time and flags a try running far longer, then resolves when it ends', async () => {
    const h = detectorHarness([createAirflowTaskDurationDetector()]);
    const t0 = h.clock.now();
    // Seven nightly runs of about 20 minutes.
    h.engine.ingest(nightly(t0, 7, (i) => 19 + (i % 3)));
    h.engine.ingest([tryObs(7, 'running', t0, null)]);
    await h.clock.advanceBy(45 * min);
    expect(h.signals).toEqual([]); // 45 min < 3 × 20 min
    await h.clock.advanceBy(20 * min);
    expect(h.signals.map((s) => [s.kind, s.status])).toEqual([['airflow.task_running_long', 'firing']]);
    expect(h.signals[0]!.title).toBe(
      'Airflow task gold_daily.build_revenue running for 60 min, usually 20 min',
    );
    await h.clock.advanceBy(30 * min);
    expect(h.signals).toHaveLength(1);
    h.engine.ingest([tryObs(7, 'success', t0, h.clock.now())]);
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
  });

  it('does not judge a task without enough history, nor a fast task before the floor', async () => {
    const h = detectorHarness([createAirflowTaskDurationDetector()]);
    const t0 = h.clock.now();
    h.engine.ingest(nightly(t0, 3, () => 20));
    h.engine.ingest([tryObs(9, 'running', t0, null)]);
    await h.clock.advanceBy(300 * min);
    expect(h.signals).toEqual([]);

    const fast = detectorHarness([createAirflowTaskDurationDetector()]);
    const f0 = fast.clock.now();
    fast.engine.ingest(nightly(f0, 6, () => 0.5));
    fast.engine.ingest([tryObs(9, 'running', f0, null)]);
    await fast.clock.advanceBy(9 * min);
    expect(fast.signals).toEqual([]);
    await fast.clock.advanceBy(2 * min);
    expect(fast.signals.map((s) => s.kind)).toEqual(['airflow.task_running_long']);
  });

  it('carries what it learnt and the tries in flight over a restart, through the engine', async () => {
    const before = detectorHarness([createAirflowTaskDurationDetector()]);
    const t0 = before.clock.now();
    before.engine.ingest(nightly(t0, 7, () => 20));
    // Two tries in flight: one already flagged, one not yet.
    before.engine.ingest([tryObs(7, 'running', t0 - 70 * min, null)]);
    await before.clock.advanceBy(2000);
    expect(before.signals.map((s) => s.status)).toEqual(['firing']);
    before.engine.ingest([tryObs(8, 'running', t0, null)]);
    const saved = JSON.parse(JSON.stringify(before.engine.snapshot()));

    // The new process's source does not report these tries' start again (it looked back an hour).
    const after = detectorHarness([createAirflowTaskDurationDetector()], before.clock.now());
    expect(after.engine.restore(saved)).toEqual({ 'airflow-task-duration': 3 });
    await after.clock.advanceBy(61 * min);
    // The unflagged try is judged on the history learnt before the restart; the flagged one is not
    // flagged twice, and resolves when it ends.
    expect(after.signals.map((s) => [s.entity.split('/')[1], s.status])).toEqual([['run_8', 'firing']]);
    after.engine.ingest([tryObs(7, 'success', t0 - 70 * min, after.clock.now())]);
    expect(after.signals.map((s) => [s.entity.split('/')[1], s.status])).toEqual([
      ['run_8', 'firing'],
      ['run_7', 'resolved'],
    ]);
    expect(after.signals[1]!.fingerprint).toBe(before.signals[0]!.fingerprint);
    // A snapshot it does not know is dropped.
    expect(
      detectorHarness([createAirflowTaskDurationDetector()]).engine.restore({
        'airflow-task-duration': { format: 9 },
      }),
    ).toEqual({ 'airflow-task-duration': 0 });
  });
});
