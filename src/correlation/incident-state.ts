import {
  type Incident,
  type IncidentSignal,
  maxSeverity,
  type Severity,
  type Signal,
  stableId,
  type TimelineEvent,
} from '../core/index.ts';

/** What applying a signal changed, for the notifier to decide what to say. */
export type IncidentChange =
  | 'opened'
  | 'signal_added'
  | 'severity_raised'
  | 'resolved'
  | 'signal_updated'
  | 'none';

export interface Applied {
  readonly incident: Incident;
  readonly change: IncidentChange;
  readonly events: readonly TimelineEvent[];
}

/** A new incident from its first (firing) signal. The id is derived from the signal, so a retry makes the same one. */
export function openIncident(signal: Signal, now: number): Applied {
  const sig = toIncidentSignal(signal);
  const incident: Incident = {
    id: stableId('inc_', signal.fingerprint, signal.time),
    status: 'open',
    severity: signal.severity,
    title: signal.title,
    openedAt: now,
    updatedAt: now,
    resolvedAt: null,
    rootCause: { entity: signal.entity, kind: signal.kind, confidence: 0.5 },
    entities: unique([signal.entity, ...signal.related]),
    signals: [sig],
    notifications: [],
    slack: null,
    version: 1,
  };
  return { incident, change: 'opened', events: [event(incident.id, 'opened', now, signal.title, signal)] };
}

/**
 * Applies a signal to the incident that holds its fingerprint. Idempotent: a signal no newer
 * than what the incident already has for its fingerprint changes nothing, so a redelivered job
 * is harmless. The incident resolves when every one of its signals has resolved.
 */
export function applySignal(current: Incident, signal: Signal, now: number): Applied {
  const index = current.signals.findIndex((s) => s.fingerprint === signal.fingerprint);
  const existing = index >= 0 ? current.signals[index] : undefined;
  if (
    existing &&
    (signal.time < existing.lastSeen ||
      (signal.time === existing.lastSeen && signal.status === existing.status))
  ) {
    return { incident: current, change: 'none', events: [] };
  }
  if (!existing && signal.status === 'resolved') return { incident: current, change: 'none', events: [] };

  const updated: IncidentSignal = existing
    ? {
        ...existing,
        status: signal.status,
        severity: signal.severity,
        title: signal.title,
        lastSeen: signal.time,
        count: existing.count + 1,
        evidence: signal.evidence,
        related: unique([...existing.related, ...signal.related]),
      }
    : toIncidentSignal(signal);
  const signals = existing
    ? current.signals.map((s, i) => (i === index ? updated : s))
    : [...current.signals, updated];

  const firing = signals.filter((s) => s.status === 'firing');
  const resolved = firing.length === 0;
  const severity = firing.reduce<Severity>((acc, s) => maxSeverity(acc, s.severity), current.severity);
  const events: TimelineEvent[] = [
    event(
      current.id,
      signal.status === 'firing' ? 'signal_firing' : 'signal_resolved',
      signal.time,
      signal.title,
      signal,
    ),
  ];
  let change: IncidentChange = existing ? 'signal_updated' : 'signal_added';
  if (severity !== current.severity) {
    change = 'severity_raised';
    events.push(
      event(current.id, 'severity_changed', now, `severity ${current.severity} → ${severity}`, signal),
    );
  }
  if (resolved) {
    change = 'resolved';
    events.push(event(current.id, 'resolved', now, 'every signal cleared', signal));
  }
  const incident: Incident = {
    ...current,
    status: resolved ? 'resolved' : current.status,
    resolvedAt: resolved ? now : null,
    severity,
    updatedAt: now,
    entities: unique([...current.entities, signal.entity, ...signal.related]),
    signals,
    version: current.version + 1,
  };
  return { incident, change, events };
}

function toIncidentSignal(signal: Signal): IncidentSignal {
  return {
    fingerprint: signal.fingerprint,
    kind: signal.kind,
    entity: signal.entity,
    related: [...signal.related],
    status: signal.status,
    severity: signal.severity,
    title: signal.title,
    detector: signal.detector,
    firstSeen: signal.time,
    lastSeen: signal.time,
    count: 1,
    evidence: signal.evidence,
  };
}

function event(
  incidentId: string,
  type: TimelineEvent['type'],
  at: number,
  text: string,
  signal: Signal,
): TimelineEvent {
  return {
    id: stableId('evt_', incidentId, type, signal.fingerprint, signal.status, signal.time),
    at,
    type,
    text,
    fingerprint: signal.fingerprint,
  };
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
