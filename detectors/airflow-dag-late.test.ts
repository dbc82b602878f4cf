import { describe, expect, it } from 'vitest';
import { type Signal, stateObservation } from '../src/core/index.ts';
import { createAirflowDagLateDetector } from './airflow-dag-late.ts';

const MINUTE = 60_000;
const DUE = Date.parse('2026-03-02T02:00:00Z');
const DAG = 'airflow:dag:silver_orders';

/** What the Airflow source reports for a DAG at each poll. */
const report = (
  time: number,
  nextRunAfter: number | undefined,
  to: 'scheduled' | 'paused' | 'removed' = 'scheduled',
) =>
  stateObservation(DAG, ['airflow:scheduler'], null, to, time, {
    ...(nextRunAfter !== undefined ? { nextRunAfter } : {}),
    timetable: '0 2 * * *',
    maxActiveRuns: 1,
  });

function drive(lateAfterMs?: number) {
  const detector = createAirflowDagLateDetector(lateAfterMs === undefined ? {} : { lateAfterMs });
  const signals: Signal[] = [];
  return {
    signals,
    see(obs: ReturnType<typeof report>) {
      detector.observe(obs, { now: () => obs.time, emit: (s) => signals.push(s) });
    },
  };
}

describe('airflow-dag-late', () => {
  it('says nothing while the due run is created in time', () => {
    const d = drive();
    for (let m = -5; m <= 2; m++) d.see(report(DUE + m * MINUTE, DUE));
    d.see(report(DUE + 3 * MINUTE, DUE + 1440 * MINUTE)); // created: the next run is tomorrow's
    for (let m = 4; m < 120; m++) d.see(report(DUE + m * MINUTE, DUE + 1440 * MINUTE));
    expect(d.signals).toEqual([]);
  });

  it('fires once when the due run is still not created 15 minutes on, and resolves when it is', () => {
    const d = drive();
    for (let m = 0; m < 15; m++) d.see(report(DUE + m * MINUTE, DUE));
    expect(d.signals).toEqual([]);
    for (let m = 15; m < 40; m++) d.see(report(DUE + m * MINUTE, DUE));
    expect(d.signals).toHaveLength(1);
    const [late] = d.signals;
    expect(late).toMatchObject({
      kind: 'airflow.dag_late',
      status: 'firing',
      entity: DAG,
      related: ['airflow:scheduler'],
      severity: 'high',
      time: DUE + 15 * MINUTE,
      title: 'DAG silver_orders: the run due at 2026-03-02T02:00:00Z has not been created (15 min late)',
    });
    expect(late!.evidence).toEqual(
      expect.arrayContaining([
        { kind: 'text', label: 'due at', text: '2026-03-02T02:00:00Z' },
        { kind: 'text', label: 'schedule', text: '0 2 * * *' },
        { kind: 'value', label: 'max active runs', value: 1 },
      ]),
    );
    d.see(report(DUE + 41 * MINUTE, DUE + 1440 * MINUTE));
    expect(d.signals[1]).toMatchObject({
      fingerprint: late!.fingerprint,
      status: 'resolved',
      time: DUE + 41 * MINUTE,
      title: `${late!.title} — its run was created`,
    });
    // The next day's run, late again, is a new signal.
    d.see(report(DUE + 1460 * MINUTE, DUE + 1440 * MINUTE));
    expect(d.signals).toHaveLength(3);
    expect(d.signals[2]!.fingerprint).not.toBe(late!.fingerprint);
  });

  it('judges only what Airflow reports: no report, no verdict', () => {
    const d = drive();
    d.see(report(DUE - MINUTE, DUE));
    // The source cannot reach Airflow for an hour (source.down covers that); nothing is late.
    d.see(report(DUE + 61 * MINUTE, DUE + 1440 * MINUTE));
    expect(d.signals).toEqual([]);
  });

  it('resolves when the DAG is paused, and ignores paused DAGs and DAGs without a schedule', () => {
    const d = drive(10 * MINUTE);
    d.see(report(DUE + 10 * MINUTE, DUE));
    expect(d.signals.map((s) => s.status)).toEqual(['firing']);
    d.see(report(DUE + 11 * MINUTE, DUE, 'paused'));
    expect(d.signals[1]).toMatchObject({ status: 'resolved', title: expect.stringContaining('paused') });
    d.see(report(DUE + 30 * MINUTE, DUE, 'paused'));
    d.see(report(DUE + 30 * MINUTE, undefined));
    expect(d.signals).toHaveLength(2);
    // Unpaused and late again, then its file stops defining it.
    d.see(report(DUE + 40 * MINUTE, DUE));
    d.see(report(DUE + 41 * MINUTE, undefined, 'removed'));
    expect(d.signals.slice(2).map((s) => [s.status, s.title.split(' — ')[1]])).toEqual([
      ['firing', undefined],
      ['resolved', 'the DAG was removed'],
    ]);
  });
});
