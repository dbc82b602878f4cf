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

  describe("a due run held back by the DAG's own active runs", () => {
    const YESTERDAY = DUE - 1440 * MINUTE;
    const RUN = 'airflow:dagrun:silver_orders/scheduled__2026-03-01T02:00:00+00:00';
    const TRY = 'airflow:task:silver_orders/scheduled__2026-03-01T02:00:00+00:00/extract';
    /** The DAG as Airflow lists it when it plans no run (max_active_runs reached). */
    const unplanned = (time: number, maxActiveRuns = 1, to: 'scheduled' | 'paused' = 'scheduled') =>
      stateObservation(DAG, ['airflow:scheduler'], null, to, time, { timetable: '0 2 * * *', maxActiveRuns });
    const runState = (time: number, to: string, runType = 'scheduled', run = RUN) =>
      stateObservation(run, [DAG], null, to, time, {
        run_type: runType,
        run_after: new Date(YESTERDAY).toISOString(),
        start_date: new Date(YESTERDAY + 2000).toISOString(),
      });
    const tryState = (time: number, to: string) =>
      stateObservation(TRY, [RUN, DAG], null, to, time, { try_number: 1 });

    function drive2() {
      const detector = createAirflowDagLateDetector();
      const signals: Signal[] = [];
      const see = (obs: StateObservation) =>
        detector.observe(obs, { now: () => obs.time, emit: (s) => signals.push(s) });
      return { detector, signals, see };
    }

    it('roots the missing run at the run still active, with its tries, once it is 15 min late', () => {
      const d = drive2();
      // Guardian starts an hour before the due time: yesterday's run and its try are still active.
      d.see(runState(DUE - 60 * MINUTE, 'running'));
      d.see(tryState(DUE - 60 * MINUTE, 'running'));
      for (let m = -60; m < 15; m++) d.see(unplanned(DUE + m * MINUTE));
      expect(d.signals).toEqual([]);
      d.see(unplanned(DUE + 15 * MINUTE));
      d.see(unplanned(DUE + 16 * MINUTE));
      expect(d.signals).toHaveLength(1);
      expect(d.signals[0]).toMatchObject({
        kind: 'airflow.run_blocking',
        status: 'firing',
        entity: RUN,
        related: [DAG, TRY],
        severity: 'high',
        time: DUE + 15 * MINUTE,
      });
      expect(d.signals[0]!.title).toContain('the run due at 2026-03-02T02:00:00Z has not been created');
      expect(d.signals[0]!.evidence).toEqual(
        expect.arrayContaining([
          { kind: 'value', label: 'max active runs', value: 1 },
          { kind: 'value', label: 'active runs', value: 1 },
        ]),
      );
      // The run ends: the slot is free, the signal resolves.
      d.see(runState(DUE + 30 * MINUTE, 'failed'));
      expect(d.signals[1]).toMatchObject({ status: 'resolved', fingerprint: d.signals[0]!.fingerprint });
      expect(d.detector.size!()).toBe(0);
    });

    it("is not the DAG file's business: a planned DAG that loses its plan to its own run blames the run", () => {
      const d = drive2();
      d.see(report(DUE - 2 * MINUTE, DUE));
      d.see(runState(DUE - MINUTE, 'running'));
      for (let m = 1; m < 40; m++) d.see(unplanned(DUE + m * MINUTE));
      expect(d.signals.map((s) => s.kind)).toEqual(['airflow.run_blocking']);
    });

    it('resolves when the next run is created or the DAG paused', () => {
      const d = drive2();
      d.see(runState(DUE - MINUTE, 'running'));
      d.see(unplanned(DUE + 20 * MINUTE));
      d.see(unplanned(DUE + 21 * MINUTE, 1, 'paused'));
      expect(d.signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
      expect(d.signals[1]!.title).toMatch(/the DAG was paused$/);
    });

    it('says nothing while a slot is free, for backfills, or before the next run is due', () => {
      const free = drive2();
      free.see(runState(DUE - MINUTE, 'running'));
      for (let m = 1; m < 60; m++) free.see(unplanned(DUE + m * MINUTE, 2));
      expect(free.signals).toEqual([]);
      const backfill = drive2();
      backfill.see(runState(DUE - MINUTE, 'running', 'backfill'));
      for (let m = 1; m < 60; m++) backfill.see(unplanned(DUE + m * MINUTE));
      expect(backfill.signals).toEqual([]);
      const ended = drive2();
      ended.see(runState(DUE - 5 * MINUTE, 'running'));
      ended.see(runState(DUE - MINUTE, 'success'));
      for (let m = 1; m < 60; m++) ended.see(unplanned(DUE + m * MINUTE));
      expect(ended.signals).toEqual([]);
      // today's run is running and tomorrow's is not due yet
      const today = drive2();
      today.see(
        stateObservation('airflow:dagrun:silver_orders/today', [DAG], null, 'running', DUE, {
          run_type: 'scheduled',
          run_after: new Date(DUE).toISOString(),
        }),
      );
      for (let m = 1; m < 600; m += 5) today.see(unplanned(DUE + m * MINUTE));
      expect(today.signals).toEqual([]);
    });
  });
});
