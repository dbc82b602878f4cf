import { describe, expect, it } from 'vitest';
import type { Incident, Signal } from '../core/index.ts';
import { applySignal, INCIDENT_LIMITS, merge, openIncident } from './incident-state.ts';

const t0 = Date.parse('2026-03-02T02:00:00Z');

function signal(over: Partial<Signal> = {}): Signal {
  return {
    fingerprint: 'fp-a',
    kind: 'metric.threshold',
    status: 'firing',
    entity: 'metric:m{host.name="h1"}',
    related: ['host:h1'],
    time: t0,
    severity: 'low',
    title: 'm > 1 on h1',
    evidence: [{ kind: 'value', label: 'observed', value: 2 }],
    detector: 'metric-threshold',
    ...over,
  };
}

describe('incident state', () => {
  it('opens an incident from a firing signal with a deterministic id', () => {
    const a = openIncident(signal(), t0 + 1000);
    const b = openIncident(signal(), t0 + 5000);
    expect(a.incident.id).toBe(b.incident.id);
    expect(a.incident).toMatchObject({
      status: 'open',
      severity: 'low',
      openedAt: t0 + 1000,
      version: 1,
      entities: ['metric:m{host.name="h1"}', 'host:h1'],
      // a host's own series is evidence about the host
      rootCause: { entity: 'host:h1', kind: 'metric.threshold' },
    });
    expect(a.events.map((e) => e.type)).toEqual(['opened']);
  });

  it('ignores a repeated or older signal, so redelivery is harmless', () => {
    const { incident } = openIncident(signal(), t0);
    expect(applySignal(incident, signal(), t0 + 10).change).toBe('none');
    expect(applySignal(incident, signal({ time: t0 - 1, status: 'resolved' }), t0 + 10).change).toBe('none');
  });

  it('adds a new fingerprint, raises severity, and resolves only when every signal cleared', () => {
    let { incident } = openIncident(signal(), t0);
    const second = signal({
      fingerprint: 'fp-b',
      entity: 'host:h2',
      related: [],
      severity: 'critical',
      time: t0 + 5,
    });
    let applied = applySignal(incident, second, t0 + 10);
    expect(applied.change).toBe('severity_raised');
    incident = applied.incident;
    expect(incident).toMatchObject({ severity: 'critical', version: 2 });
    expect(incident.entities).toContain('host:h2');

    applied = applySignal(incident, signal({ status: 'resolved', time: t0 + 20 }), t0 + 20);
    expect(applied.change).toBe('signal_updated');
    expect(applied.incident.status).toBe('open');

    applied = applySignal(applied.incident, { ...second, status: 'resolved', time: t0 + 30 }, t0 + 30);
    expect(applied.change).toBe('resolved');
    expect(applied.incident).toMatchObject({ status: 'resolved', resolvedAt: t0 + 30, version: 4 });
    expect(applied.events.map((e) => e.type)).toEqual(['signal_resolved', 'resolved']);
  });

  it('counts repeats of a fingerprint and keeps the latest evidence', () => {
    const { incident } = openIncident(signal(), t0);
    const applied = applySignal(
      incident,
      signal({ time: t0 + 60_000, evidence: [{ kind: 'value', label: 'observed', value: 9 }] }),
      t0 + 60_000,
    );
    expect(applied.change).toBe('signal_updated');
    expect(applied.incident.signals[0]).toMatchObject({ count: 2, firstSeen: t0, lastSeen: t0 + 60_000 });
    expect(applied.incident.signals[0]!.evidence).toEqual([{ kind: 'value', label: 'observed', value: 9 }]);
  });

  it('keeps a cleared condition named by what happened while the incident stays open', () => {
    const host = signal({ title: 'disk used on h1 at 97 %' });
    let { incident } = openIncident(host, t0);
    incident = applySignal(
      incident,
      signal({ fingerprint: 'fp-b', entity: 'host:h2', related: [] }),
      t0 + 5,
    ).incident;
    const cleared = applySignal(
      incident,
      { ...host, status: 'resolved', time: t0 + 20, title: 'disk used on h1 back to normal' },
      t0 + 20,
    );
    expect(cleared.incident.status).toBe('open');
    expect(cleared.incident.signals.find((s) => s.fingerprint === 'fp-a')).toMatchObject({
      status: 'resolved',
      title: 'disk used on h1 at 97 %',
    });
    expect(cleared.incident.title).not.toContain('back to normal');
    expect(cleared.events[0]).toMatchObject({ type: 'signal_resolved' });
    expect(JSON.stringify(cleared.events[0])).toContain('back to normal');
  });

  it('ignores a resolved signal for a fingerprint the incident never had', () => {
    const { incident } = openIncident(signal(), t0);
    expect(applySignal(incident, signal({ fingerprint: 'other', status: 'resolved' }), t0).change).toBe(
      'none',
    );
  });
});

describe('incident state in a storm', () => {
  const task = (i: number, over: Partial<Signal> = {}): Signal =>
    signal({
      fingerprint: `task-${i}`,
      kind: 'airflow.task_failed',
      entity: `airflow:task:dag_${i % 7}/run_${i}/load`,
      related: [`airflow:dagrun:dag_${i % 7}/run_${i}`, 'host:10.0.3.17'],
      severity: 'high',
      title: `dag_${i % 7}.load failed`,
      time: t0 + 60_000 + i * 100,
      errorClass: 'host_lost',
      ...over,
    });

  it('keeps its size bounded while its impact counts every task, and keeps the signals behind its root cause', () => {
    const spot = signal({
      fingerprint: 'spot',
      kind: 'spark.worker_dead',
      entity: 'spark:worker:w-17',
      related: ['host:10.0.3.17'],
      severity: 'high',
      title: 'Spark worker w-17 lost',
      errorClass: 'spot_interruption',
    });
    let { incident } = openIncident(spot, t0);
    const n = INCIDENT_LIMITS.impactTasks + 100;
    for (let i = 0; i < n; i++) incident = applySignal(incident, task(i), t0 + 60_000 + i * 100).incident;

    expect(incident.signals.length).toBe(INCIDENT_LIMITS.signals);
    expect(incident.signals.map((s) => s.fingerprint)).toContain('spot');
    expect(incident.rootCause).toMatchObject({ entity: 'host:10.0.3.17', kind: 'spot_interruption' });
    expect(incident.impact!.tasks).toHaveLength(INCIDENT_LIMITS.impactTasks);
    expect(incident.impact!.omittedTasks).toBe(100);
    // Entities accumulate beyond the signals kept (up to their own limit).
    expect(incident.signals.map((s) => s.fingerprint)).not.toContain('task-100');
    expect(incident.entities).toContain(task(100).entity);
    expect(incident.entities).toContain(task(450).entity);
    expect(incident.entities.length).toBeLessThanOrEqual(INCIDENT_LIMITS.entities);
    expect(incident.impact!.dags).toEqual(['dag_0', 'dag_1', 'dag_2', 'dag_3', 'dag_4', 'dag_5', 'dag_6']);
    expect(incident.title).toContain('600 Airflow tasks in 7 DAGs failed');
    expect(incident.version).toBe(n + 1);
  });

  it('shows a task recovered when it clears after the incident stopped keeping its signal', () => {
    let { incident } = openIncident(task(0), t0);
    for (let i = 1; i <= INCIDENT_LIMITS.signals + 10; i++)
      incident = applySignal(incident, task(i), t0 + 60_000 + i * 100).incident;
    // The first signals behind the root cause (the host) are kept; later ones make room.
    expect(incident.signals.map((s) => s.fingerprint)).toContain('task-1');
    expect(incident.signals.map((s) => s.fingerprint)).not.toContain('task-30');
    const applied = applySignal(
      incident,
      task(30, { status: 'resolved', time: t0 + 3_600_000 }),
      t0 + 3_600_000,
    );
    expect(applied.change).toBe('signal_updated');
    expect(applied.incident.impact!.tasks.find((t) => t.entity === task(30).entity)?.state).toBe('recovered');
    expect(applied.events.map((e) => e.type)).toEqual(['signal_resolved']);
    // A trimmed signal of another kind, or a task it never listed, changes nothing.
    expect(applySignal(incident, task(9999, { status: 'resolved' }), t0).change).toBe('none');
  });

  it('never goes quiet again or lowers its severity once it has paged', () => {
    let { incident } = openIncident(task(0), t0);
    expect(incident).toMatchObject({ quiet: false, severity: 'high' });
    incident = applySignal(incident, task(0, { severity: 'low', time: t0 + 120_000 }), t0 + 120_000).incident;
    expect(incident).toMatchObject({ quiet: false, severity: 'high' });
  });
});

describe('an incident whose cause took a host away for good', () => {
  const host = 'host:10.0.6.44';
  const task = (id: string) => `airflow:task:d_${id}/scheduled__2026-03-02T02:00:00+00:00/t`;
  const interruption = signal({
    fingerprint: 'spot',
    kind: 'log.signature',
    entity: 'log:{host="10.0.6.44",service_name="spark-worker"}',
    related: [host],
    errorClass: 'spot_interruption',
    severity: 'high',
    title: 'Spot interruption in spark-worker@10.0.6.44',
  });
  const silent = (metric: string, h = host) =>
    signal({
      fingerprint: `silent-${metric}-${h}`,
      kind: 'metric.silent',
      entity: `metric:${metric}{host.name="${h.slice(5)}"}`,
      related: [h],
      time: t0 + 120_000,
      title: `${metric} on ${h.slice(5)} stopped reporting`,
    });
  const retry = (id: string, status: 'firing' | 'resolved', time: number) =>
    signal({
      fingerprint: `retry-${id}`,
      kind: 'airflow.task_retry',
      entity: task(id),
      related: [host],
      errorClass: 'spot_interruption',
      status,
      time,
      title: `task ${id} failed try 1 and will retry`,
    });

  function build(extra: Signal[] = []) {
    let { incident } = openIncident(interruption, t0);
    for (const s of [silent('cpu'), silent('memory'), retry('a', 'firing', t0 + 60_000), ...extra])
      incident = applySignal(incident, s, s.time).incident;
    incident = applySignal(
      incident,
      { ...interruption, status: 'resolved', time: t0 + 300_000 },
      t0 + 300_000,
    ).incident;
    return incident;
  }

  it('resolves once every task it hit recovered, though the lost host stays silent', () => {
    const incident = build();
    expect(incident.rootCause).toMatchObject({ entity: host });
    expect(incident.status).toBe('open'); // the task has not recovered yet
    const done = applySignal(incident, retry('a', 'resolved', t0 + 600_000), t0 + 600_000);
    expect(done.change).toBe('resolved');
    expect(done.incident.signals.filter((s) => s.status === 'firing').map((s) => s.kind)).toEqual([
      'metric.silent',
      'metric.silent',
    ]);
    expect(done.events.at(-1)?.text).toBe('every task recovered; the lost host stays gone');
  });

  it('stays open while another host is silent too', () => {
    const incident = build([silent('cpu', 'host:10.0.9.9')]);
    expect(applySignal(incident, retry('a', 'resolved', t0 + 600_000), t0 + 600_000).incident.status).toBe(
      'open',
    );
  });

  it('stays open while a task it hit has not recovered', () => {
    const incident = build([retry('b', 'firing', t0 + 70_000)]);
    expect(applySignal(incident, retry('a', 'resolved', t0 + 600_000), t0 + 600_000).incident.status).toBe(
      'open',
    );
  });
});

describe("a task's state in the impact", () => {
  const entity = 'airflow:task:ledger_daily/scheduled__2026-03-02T02:00:00+00:00/bronze_ledger';
  const tryOf = (kind: string, status: Signal['status'], at: number, over: Partial<Signal> = {}): Signal =>
    signal({
      fingerprint: `${kind}-${entity}`,
      kind,
      status,
      entity,
      related: ['airflow:dagrun:ledger_daily/scheduled__2026-03-02T02:00:00+00:00'],
      severity: kind === 'airflow.task_failed' ? 'high' : 'low',
      title: kind,
      time: at,
      errorClass: 'database_unavailable',
      ...over,
    });
  const stateOf = (i: Incident) => i.impact?.tasks.find((t) => t.entity === entity)?.state;

  it('is failed, not recovered, when the retry clears because the task failed for good', () => {
    for (const order of ['retry cleared first', 'failure first'] as const) {
      let { incident } = openIncident(tryOf('airflow.task_retry', 'firing', t0), t0);
      expect(stateOf(incident)).toBe('retrying');
      const cleared = tryOf('airflow.task_retry', 'resolved', t0 + 300_000);
      const failed = tryOf('airflow.task_failed', 'firing', t0 + 300_000);
      for (const s of order === 'retry cleared first' ? [cleared, failed] : [failed, cleared])
        incident = applySignal(incident, s, t0 + 300_000).incident;
      expect(stateOf(incident), order).toBe('failed');
      expect(incident.title, order).not.toMatch(/recovered/);
    }
  });

  it('is recovered when the retry clears and nothing else fails, or when the final failure clears', () => {
    for (const kind of ['airflow.task_retry', 'airflow.task_failed']) {
      const { incident } = openIncident(tryOf(kind, 'firing', t0), t0);
      const cleared = applySignal(incident, tryOf(kind, 'resolved', t0 + 900_000), t0 + 900_000).incident;
      expect(stateOf(cleared), kind).toBe('recovered');
    }
  });

  it("is what both incidents' signals say when they merge", () => {
    let a = openIncident(tryOf('airflow.task_retry', 'firing', t0), t0).incident;
    a = applySignal(a, tryOf('airflow.task_retry', 'resolved', t0 + 300_000), t0 + 300_000).incident;
    expect(stateOf(a)).toBe('recovered');
    const b = openIncident(
      tryOf('airflow.task_failed', 'firing', t0 + 300_000, { fingerprint: 'failed-for-good' }),
      t0 + 300_000,
    ).incident;
    expect(stateOf(merge(a, b, t0 + 400_000).survivor.incident)).toBe('failed');
    expect(stateOf(merge(b, a, t0 + 400_000).survivor.incident)).toBe('failed');
  });

  it('stays failed when a retry it no longer keeps clears after the task failed for good', () => {
    const filler = (i: number): Signal =>
      signal({
        fingerprint: `other-${i}`,
        kind: 'airflow.task_failed',
        entity: `airflow:task:other_${i}/run/load`,
        related: ['host:10.0.3.17'],
        severity: 'high',
        time: t0 + 1_000 + i,
      });
    let { incident } = openIncident(tryOf('airflow.task_retry', 'firing', t0), t0);
    for (let i = 0; i <= INCIDENT_LIMITS.signals; i++)
      incident = applySignal(incident, filler(i), t0 + 1_000 + i).incident;
    incident = applySignal(
      incident,
      tryOf('airflow.task_failed', 'firing', t0 + 300_000),
      t0 + 300_000,
    ).incident;
    const retryKept = incident.signals.some((s) => s.kind === 'airflow.task_retry' && s.entity === entity);
    const applied = applySignal(
      incident,
      tryOf('airflow.task_retry', 'resolved', t0 + 300_001),
      t0 + 300_001,
    );
    expect(stateOf(applied.incident), `retry signal kept: ${retryKept}`).toBe('failed');
  });
});
