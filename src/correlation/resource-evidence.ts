import type { EntityKey, IncidentSignal } from '../core/index.ts';
import { failureClass } from '../logs/failure-text.ts';
import { DEPARTURE } from './resources.ts';

/**
 * A resource's own evidence and the work it served (issue 17, docs/causal-correlation.md, "One
 * resource, one piece of evidence").
 *
 * A failure of work that used a service (a Spark Connect statement) is tied to the machine that
 * served it when a source says where the service runs (the Connect application's driver host,
 * from the Spark REST API's `driver` executor): the failure carries that host as evidence
 * ({@link SERVED_FROM}). What points at the machine itself and began before the failure explains
 * it through that edge: the machine's own series (its disk, its memory), a line of its own saying
 * the machine failed (a machine-local class: its disk full). Not what its streams say about the
 * work it runs (a server's error stream echoes the failures it served), nor a series that fell or
 * went silent (less getting through, as any fault upstream shows: a driver's active executors
 * fall when a spot worker is reclaimed).
 */

/** The evidence label of the hosts that served the work a failure used (`host:…`, comma-separated). */
export const SERVED_FROM = 'served from';

/** The hosts a failure's evidence says served the work it used. */
export function servedFrom(s: Pick<IncidentSignal, 'evidence'>): EntityKey[] {
  const e = s.evidence.find((x) => x.kind === 'text' && x.label === SERVED_FROM);
  if (e?.kind !== 'text') return [];
  return e.text
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.startsWith('host:'));
}

/**
 * Whether the signals hold a symptom (a series or a stream) pointing at `host` itself that began
 * no later than `time` and still held then (or ended within `windowMs` before it): the machine
 * was seen unwell before the work it served failed.
 */
export function shownBefore<
  S extends Pick<IncidentSignal, 'kind' | 'firstSeen' | 'lastSeen' | 'status' | 'evidence' | 'related'> & {
    errorClass?: string | undefined;
  },
>(
  signals: readonly S[],
  pointsAt: (s: S) => EntityKey,
  hosts: readonly EntityKey[],
  time: number,
  windowMs: number,
): boolean {
  return signals.some(
    (s) =>
      hosts.includes(pointsAt(s)) &&
      machineUnwell(s, pointsAt(s)) &&
      s.firstSeen <= time &&
      (s.status === 'firing' || time - s.lastSeen <= windowMs),
  );
}

/**
 * A symptom pointing at `host` that is the machine's own account of being unwell: a series that
 * rose or crossed its limit (its disk, its memory, its errors), or a line of its own whose class
 * is machine-local (its disk full) and that names no other machine. A line naming another host
 * relays what happened there (a driver's `Lost executor 24 on 10.0.7.97`), a line of another
 * class is about the work the machine runs (a driver removing an executor with no recent
 * heartbeats), and a series that fell or went silent shows less getting through.
 */
export function machineUnwell(
  s: Pick<IncidentSignal, 'kind' | 'evidence' | 'related'> & { errorClass?: string | undefined },
  host: EntityKey,
): boolean {
  if (s.kind.startsWith('log.'))
    return (
      failureClass(s.errorClass)?.local === true &&
      s.related.every((r) => !r.startsWith('host:') || r === host)
    );
  if (s.kind !== 'metric.anomaly' && s.kind !== 'metric.threshold') return false;
  return !s.evidence.some((e) => e.kind === 'text' && e.label === DEPARTURE && e.text === 'fall');
}

/**
 * When each machine's own account of being unwell began (`machineUnwell`), by what the signals point
 * at: the earliest such signal of each.
 */
export function unwellSince<
  S extends Pick<IncidentSignal, 'kind' | 'evidence' | 'related'> & { errorClass?: string | undefined },
>(signals: readonly S[], pointsAt: (s: S) => EntityKey, began: (s: S) => number): Map<EntityKey, number> {
  const out = new Map<EntityKey, number>();
  for (const s of signals) {
    const e = pointsAt(s);
    if (!e.startsWith('host:') || !machineUnwell(s, e)) continue;
    const t = began(s);
    if (t < (out.get(e) ?? Number.POSITIVE_INFINITY)) out.set(e, t);
  }
  return out;
}

/**
 * The hosts among `hosts` that explain a failure begun at `failedAt`: those whose own account of
 * being unwell (`unwellSince`) began no later than the failure. The cause shows first; no
 * allowance for detection delay here, since the edge alone does not say the machine was at fault.
 */
export function servedBy(
  hosts: readonly EntityKey[],
  failedAt: number,
  accounts: ReadonlyMap<EntityKey, number>,
): EntityKey[] {
  return hosts.filter((h) => (accounts.get(h) ?? Number.POSITIVE_INFINITY) <= failedAt);
}
