import { describe, expect, it } from 'vitest';
import { type Signal, type StateObservation, stateObservation } from '../src/core/index.ts';
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

  describe('a DAG Airflow stops planning while its schedule says a run is due', () => {
    const EXPORT = 'airflow:dag:export_orders';
    const FILE = 'airflow:import:/opt/airflow/dags/factories/exports.py';
    const plan = (
      time: number,
      nextRunAfter: number | undefined,
      to: 'scheduled' | 'paused' | 'removed' = 'scheduled',
      timetable = '*/15 * * * *',
    ) =>
      stateObservation(EXPORT, ['airflow:scheduler', FILE], null, to, time, {
        ...(nextRunAfter !== undefined ? { nextRunAfter } : {}),
        timetable,
      });
    const run = (lateAfterMs?: number) => {
      const detector = createAirflowDagLateDetector(lateAfterMs === undefined ? {} : { lateAfterMs });
      const signals: Signal[] = [];
      const see = (obs: StateObservation) =>
        detector.observe(obs, { now: () => obs.time, emit: (s) => signals.push(s) });
      return { signals, see };
    };

    it('fires, keyed on the DAG file, once the run its schedule had due is late, and resolves when planned again', () => {
      const d = run();
      // Planned every 15 min: each run is created when due and the next one is reported.
      for (let m = 0; m < 30; m++)
        d.see(plan(DUE + m * MINUTE, DUE + (Math.floor(m / 15) + 1) * 15 * MINUTE));
      // The 02:30 run is created, then Airflow plans none: the 02:45 run never comes.
      for (let m = 30; m < 60; m++) d.see(plan(DUE + m * MINUTE, undefined));
      expect(d.signals).toEqual([]);
      d.see(plan(DUE + 60 * MINUTE, undefined));
      expect(d.signals).toHaveLength(1);
      expect(d.signals[0]).toMatchObject({
        kind: 'airflow.dag_late',
        status: 'firing',
        entity: FILE,
        related: [EXPORT, 'airflow:dag_processor'],
        severity: 'high',
        time: DUE + 60 * MINUTE,
        title:
          'DAG export_orders: the run its schedule had due at 2026-03-02T02:45:00Z was never planned (15 min late)',
      });
      expect(d.signals[0]!.evidence).toEqual(
        expect.arrayContaining([
          { kind: 'text', label: 'DAG file', text: '/opt/airflow/dags/factories/exports.py' },
          { kind: 'text', label: 'no longer planned since', text: '2026-03-02T02:30:00Z' },
        ]),
      );
      for (let m = 61; m < 90; m++) d.see(plan(DUE + m * MINUTE, undefined));
      expect(d.signals).toHaveLength(1);
      d.see(plan(DUE + 90 * MINUTE, DUE + 105 * MINUTE));
      expect(d.signals[1]).toMatchObject({
        fingerprint: d.signals[0]!.fingerprint,
        status: 'resolved',
        title: `${d.signals[0]!.title} — Airflow plans its runs again`,
      });
    });

    it('judges a DAG no longer listed (deactivated) by the run it had planned', () => {
      const d = run(5 * MINUTE);
      d.see(plan(DUE - 10 * MINUTE, DUE));
      d.see(plan(DUE - 5 * MINUTE, undefined, 'removed'));
      expect(d.signals).toEqual([]);
      // Only other DAGs are reported now; time still passes for the one that went.
      const other = (t: number) =>
        stateObservation('airflow:dag:other', [], null, 'scheduled', t, {
          nextRunAfter: t + MINUTE,
          timetable: '* * * * *',
        });
      d.see(other(DUE + 4 * MINUTE));
      expect(d.signals).toEqual([]);
      d.see(other(DUE + 5 * MINUTE));
      expect(d.signals.map((s) => [s.entity, s.evidence.find((e) => e.label === 'due at')])).toEqual([
        [FILE, { kind: 'text', label: 'due at', text: '2026-03-02T02:00:00Z' }],
      ]);
    });

    it('follows at most 10,000 DAGs, the least recently reported let go first', () => {
      const detector = createAirflowDagLateDetector();
      const ctx = { now: () => DUE, emit: () => {} };
      for (let i = 0; i < 10_050; i++)
        detector.observe(
          stateObservation(`airflow:dag:d${i}`, [], null, 'scheduled', DUE - MINUTE, {
            nextRunAfter: DUE,
            timetable: '0 2 * * *',
          }),
          ctx,
        );
      expect(detector.size!()).toBe(10_000);
    });

    it('says nothing for a daily DAG between its runs, a paused DAG, or a schedule that is no cron', () => {
      const d = run();
      d.see(plan(DUE - MINUTE, DUE, 'scheduled', '0 2 * * *'));
      for (let m = 1; m < 23 * 60; m += 7) d.see(plan(DUE + m * MINUTE, undefined, 'scheduled', '0 2 * * *'));
      expect(d.signals).toEqual([]);
      const p = run();
      p.see(plan(DUE - MINUTE, DUE));
      p.see(plan(DUE + MINUTE, undefined, 'paused'));
      for (let m = 2; m < 120; m++) p.see(plan(DUE + m * MINUTE, undefined));
      expect(p.signals).toEqual([]);
      const a = run();
      a.see(plan(DUE - MINUTE, DUE, 'scheduled', 'Asset'));
      for (let m = 1; m < 120; m++) a.see(plan(DUE + m * MINUTE, undefined, 'scheduled', 'Asset'));
      expect(a.signals).toEqual([]);
    });
  });
});
