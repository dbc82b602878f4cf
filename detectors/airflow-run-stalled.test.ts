import { describe, expect, it } from 'vitest';
import { type Signal, stateObservation } from '../src/core/index.ts';
import { createAirflowRunStalledDetector } from './airflow-run-stalled.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T02:00:00Z');
const RUN = 'scheduled__2026-03-02T02:00:00+00:00';
const iso = (ms: number) => new Date(ms).toISOString();

/** What the Airflow source reports for a DAG run (`runObservation`). */
const run = (dag: string, to: string, time: number, start = T0) =>
  stateObservation(`airflow:dagrun:${dag}/${RUN}`, [`airflow:dag:${dag}`], null, to, time, {
    run_type: 'scheduled',
    start_date: iso(start),
    end_date: to === 'running' ? null : iso(time),
  });

/** What the Airflow source reports for a task try (`tryObservation`). */
const task = (
  dag: string,
  taskId: string,
  to: string,
  time: number,
  dates: { queued?: number; start?: number; end?: number } = {},
) =>
  stateObservation(
    `airflow:task:${dag}/${RUN}/${taskId}`,
    [`airflow:dagrun:${dag}/${RUN}`, `airflow:dag:${dag}`],
    null,
    to,
    time,
    {
      try_number: 1,
      pool: 'spark_connect',
      queue: 'default',
      queued_when: dates.queued !== undefined ? iso(dates.queued) : null,
      start_date: dates.start !== undefined ? iso(dates.start) : null,
      end_date: dates.end !== undefined ? iso(dates.end) : null,
    },
  );

/** With a 5-min idle floor (the default is 10 min), so the figures below read easily. */
function drive() {
  const detector = createAirflowRunStalledDetector({ idleAfterMs: 5 * 60_000 });
  const signals: Signal[] = [];
  let now = T0;
  const ctx = { now: () => now, emit: (s: Signal) => signals.push(s) };
  return {
    signals,
    see(obs: ReturnType<typeof run>) {
      detector.observe(obs, ctx);
    },
    /** Ticks every 30 s up to `to`, as the engine does. */
    until(to: number) {
      for (; now <= to; now += 30_000) detector.tick?.(ctx);
      now = to;
    },
  };
}

describe('airflow-run-stalled', () => {
  it('says nothing while runs start their tasks within seconds, one after another', () => {
    const d = drive();
    for (const dag of ['orders_daily', 'claims_daily']) {
      d.see(run(dag, 'running', T0));
      let at = T0;
      for (const t of ['bronze', 'silver', 'gold']) {
        d.see(task(dag, t, 'queued', at + 2_000, { queued: at + 2_000 }));
        d.see(task(dag, t, 'running', at + 4_000, { queued: at + 2_000, start: at + 4_000 }));
        d.until(at + 9 * MINUTE);
        d.see(
          task(dag, t, 'success', at + 9 * MINUTE, {
            queued: at + 2_000,
            start: at + 4_000,
            end: at + 9 * MINUTE,
          }),
        );
        at += 9 * MINUTE;
      }
      d.see(run(dag, 'success', at + 1_000));
    }
    d.until(T0 + 120 * MINUTE);
    expect(d.signals).toEqual([]);
  });

  it('does not call a run stalled while one of its tasks runs long (that is the duration detector)', () => {
    const d = drive();
    d.see(run('orders_daily', 'running', T0));
    d.see(task('orders_daily', 'bronze', 'running', T0 + 3_000, { queued: T0 + 1_000, start: T0 + 3_000 }));
    d.see(run('claims_daily', 'running', T0));
    d.see(task('claims_daily', 'load', 'up_for_retry', T0 + MINUTE, { start: T0 + 3_000, end: T0 + MINUTE }));
    d.until(T0 + 60 * MINUTE);
    expect(d.signals).toEqual([]);
  });

  it('fires when runs of two DAGs start no task for 5 min, pages from the second DAG, resolves when work starts', () => {
    const d = drive();
    d.see(run('orders_daily', 'running', T0 + 1_000, T0 + 1_000));
    d.until(T0 + 2 * MINUTE);
    d.see(run('claims_daily', 'running', T0 + 2 * MINUTE, T0 + 2 * MINUTE));
    d.see(
      task('claims_daily', 'bronze', 'queued', T0 + 2 * MINUTE + 2_000, { queued: T0 + 2 * MINUTE + 2_000 }),
    );
    d.until(T0 + 5 * MINUTE);
    expect(d.signals).toEqual([]);
    d.until(T0 + 6 * MINUTE);
    expect(d.signals).toHaveLength(1);
    expect(d.signals[0]).toMatchObject({
      kind: 'airflow.run_stalled',
      status: 'firing',
      entity: 'airflow:dag:orders_daily',
      related: [`airflow:dagrun:orders_daily/${RUN}`, 'airflow:scheduler'],
      severity: 'low',
      time: T0 + 1_000 + 5 * MINUTE,
    });
    expect(d.signals[0]!.title).toContain('no task queued');
    d.until(T0 + 8 * MINUTE);
    expect(d.signals).toHaveLength(2);
    expect(d.signals[1]).toMatchObject({
      entity: 'airflow:dag:claims_daily',
      severity: 'high',
      time: T0 + 2 * MINUTE + 5 * MINUTE,
    });
    expect(d.signals[1]!.title).toContain('1 task queued, none started');
    expect(d.signals[1]!.evidence).toEqual(
      expect.arrayContaining([{ kind: 'value', label: 'DAGs stalled at once', value: 2 }]),
    );
    d.until(T0 + 30 * MINUTE);
    expect(d.signals).toHaveLength(2);
    const start = T0 + 30 * MINUTE;
    d.see(task('claims_daily', 'bronze', 'running', start, { queued: T0 + 2 * MINUTE + 2_000, start }));
    expect(d.signals).toHaveLength(3);
    expect(d.signals[2]).toMatchObject({ entity: 'airflow:dag:claims_daily', status: 'resolved' });
    expect(d.signals[2]!.title).toContain('a task is running');
    d.see(run('orders_daily', 'failed', start + MINUTE));
    expect(d.signals[3]).toMatchObject({ entity: 'airflow:dag:orders_daily', status: 'resolved' });
  });

  it('waits longer for a DAG whose runs usually sit idle between tasks', () => {
    const d = drive();
    d.see(run('reports_daily', 'running', T0));
    // its first task usually starts 4 min into the run (a slow queue it is used to)
    d.see(task('reports_daily', 'extract', 'running', T0 + 4 * MINUTE, { start: T0 + 4 * MINUTE }));
    const end = T0 + 6 * MINUTE;
    d.see(task('reports_daily', 'extract', 'success', end, { start: T0 + 4 * MINUTE, end }));
    // the next task has not started 10 min after: under 3 × 4 min, not stalled yet
    d.until(end + 10 * MINUTE);
    expect(d.signals).toEqual([]);
    d.until(end + 13 * MINUTE);
    expect(d.signals).toHaveLength(1);
    expect(d.signals[0]).toMatchObject({ time: end + 12 * MINUTE, severity: 'low' });
  });

  it('follows at most 10,000 running runs, letting the oldest go first', () => {
    const detector = createAirflowRunStalledDetector();
    const ctx = { now: () => T0, emit: () => {} };
    for (let i = 0; i < 10_050; i++) detector.observe(run(`dag_${i}`, 'running', T0), ctx);
    expect(detector.size?.()).toBe(10_000);
  });
});
