import { describe, expect, it } from 'vitest';
import type { Signal } from '../core/index.ts';
import { applySignal, openIncident } from './incident-state.ts';

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
      rootCause: { entity: 'metric:m{host.name="h1"}', kind: 'metric.threshold' },
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

  it('ignores a resolved signal for a fingerprint the incident never had', () => {
    const { incident } = openIncident(signal(), t0);
    expect(applySignal(incident, signal({ fingerprint: 'other', status: 'resolved' }), t0).change).toBe(
      'none',
    );
  });
});
