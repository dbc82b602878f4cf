import { failureClass } from '../../detectors/failure-text.ts';
import type { Clock, EntityKey, Incident, Signal } from '../core/index.ts';
import { VersionConflictError } from '../core/index.ts';
import { FingerprintTakenError, type IncidentStore } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { GuardianMetrics } from '../telemetry/metrics.ts';
import { roleOf } from './causality.ts';
import { type Applied, applySignal, type IncidentChange, merge, openIncident } from './incident-state.ts';

export interface CorrelationWindows {
  /** A signal joins an incident it is linked to if the incident saw a signal this recently. @defaultValue 30 min */
  linkMs: number;
  /** Concurrent failures of a shared error class (an outage) group within this. @defaultValue 15 min */
  burstMs: number;
  /** The same task failing with the same class in later runs stays one incident within this. @defaultValue 3 h */
  recurrenceMs: number;
  /** A resolved incident that recurs within this reopens instead of duplicating. @defaultValue 1 h */
  reopenMs: number;
}

export const DEFAULT_WINDOWS: CorrelationWindows = {
  linkMs: 30 * 60_000,
  burstMs: 15 * 60_000,
  recurrenceMs: 3 * 3_600_000,
  reopenMs: 60 * 60_000,
};

export interface CorrelatorOptions {
  store: IncidentStore;
  clock: Clock;
  logger: Logger;
  metrics: GuardianMetrics;
  windows?: Partial<CorrelationWindows>;
}

export interface CorrelationResult {
  readonly incident: Incident | null;
  readonly change: IncidentChange;
  /** Other incidents this signal changed (merged into `incident`). */
  readonly also?: readonly { incident: Incident; change: IncidentChange }[];
}

/** Lost races tolerated before a signal's job is failed (and retried by the queue). */
const MAX_RACES = 8;

/**
 * Groups signals into incidents, one per cause. A new signal joins the incident it is causally
 * connected to (they share an entity that is not a hub: a host, an executor, a Spark job, an
 * Airflow task or run, an endpoint that is down), or the incident of a burst of concurrent
 * failures with the same shared error class (an outage), or the incident of the same task failing
 * with the same class in earlier runs; when it connects several incidents, they merge into the
 * oldest. Otherwise it opens a new one. Root cause, impact and whether the incident pages are
 * derived from its signals on every change (see incident-state.ts and causality.ts).
 *
 * The working set (open incidents and those resolved within the reopen window) is kept in memory
 * and written through to the store with conditional writes; a lost write race reloads from the
 * store and retries, so redelivered jobs converge.
 */
export class Correlator {
  readonly #o: CorrelatorOptions;
  readonly #w: CorrelationWindows;
  readonly #active = new Map<string, Incident>();
  /** Per incident version: the join keys and fingerprints of its signals (derived, cached). */
  readonly #index = new Map<
    string,
    { version: number; count: number; keys: Set<EntityKey>; fingerprints: Set<string> }
  >();
  #warm: Promise<void> | undefined;

  constructor(options: CorrelatorOptions) {
    this.#o = options;
    this.#w = { ...DEFAULT_WINDOWS, ...options.windows };
  }

  async apply(signal: Signal): Promise<CorrelationResult> {
    this.#warm ??= this.#load();
    await this.#warm;
    for (let race = 0; race < MAX_RACES; race++) {
      try {
        return await this.#applyOnce(signal);
      } catch (err) {
        if (err instanceof VersionConflictError || err instanceof FingerprintTakenError) {
          this.#o.logger.debug(
            { fingerprint: signal.fingerprint, code: err.code },
            'lost a write race, retrying',
          );
          await this.#reload();
          continue;
        }
        throw err;
      }
    }
    throw new VersionConflictError(`signal ${signal.fingerprint}: lost ${MAX_RACES} write races in a row`);
  }

  /** Incidents in the working set (for diagnostics and tests). */
  active(): Incident[] {
    return [...this.#active.values()];
  }

  async #load(): Promise<void> {
    const since = this.#o.clock.now() - this.#w.reopenMs;
    for (const status of ['open', 'acknowledged', 'resolved'] as const) {
      let cursor: string | undefined;
      do {
        const page = await this.#o.store.list({
          status,
          limit: 100,
          ...(status === 'resolved' ? { from: since - this.#w.recurrenceMs } : {}),
          ...(cursor ? { cursor } : {}),
        });
        for (const i of page.incidents) if (!i.mergedInto) this.#active.set(i.id, i);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
  }

  async #reload(): Promise<void> {
    this.#active.clear();
    this.#index.clear();
    await this.#load();
  }

  async #applyOnce(signal: Signal): Promise<CorrelationResult> {
    const now = this.#o.clock.now();
    this.#expire(now);
    const owner = await this.#owner(signal.fingerprint);
    if (owner) return this.#write(applySignal(owner, signal, now), false);
    if (signal.status === 'resolved') return { incident: null, change: 'none' };

    const candidates = this.#candidates(signal);
    if (candidates.length === 0) {
      const opened = openIncident(signal, now);
      const { incident, created } = await this.#o.store.create(opened.incident);
      if (created) return this.#write(opened, true);
      // A retried job: the incident exists already; write its timeline again (idempotent).
      this.#active.set(incident.id, incident);
      const applied = applySignal(incident, signal, now);
      if (applied.change === 'none' && incident.id === opened.incident.id)
        return this.#write({ incident, change: 'opened', events: opened.events }, true);
      return this.#write(applied, false);
    }
    // Join the oldest connected incident; merge the others into it.
    const [survivor, ...others] = candidates;
    let target = survivor!;
    const also: { incident: Incident; change: IncidentChange }[] = [];
    for (const other of others) {
      const merged = merge(target, other, now);
      const absorbed = await this.#write(merged.absorbed, false);
      also.push({ incident: absorbed.incident!, change: 'resolved' });
      this.#active.delete(other.id);
      target = (await this.#write(merged.survivor, false)).incident!;
    }
    const result = await this.#write(applySignal(target, signal, now), false);
    return also.length > 0 ? { ...result, also } : result;
  }

  /** The incident that holds a fingerprint: from the working set, else the store. */
  async #owner(fingerprint: string): Promise<Incident | null> {
    for (const i of this.#active.values()) {
      if (i.status !== 'resolved' && this.#indexOf(i).fingerprints.has(fingerprint)) return i;
    }
    const stored = await this.#o.store.findOpenByFingerprint(fingerprint);
    if (stored) this.#active.set(stored.id, stored);
    return stored;
  }

  /** Incidents the signal is connected to, oldest first. */
  #candidates(signal: Signal): Incident[] {
    const role = roleOf(signal);
    const keys = new Set<EntityKey>(role.keys);
    const cls = failureClass(signal.errorClass);
    const found: Incident[] = [];
    for (const incident of this.#active.values()) {
      if (incident.mergedInto) continue;
      const last = lastActivity(incident);
      const resolvedLongAgo =
        incident.status === 'resolved' && signal.time - (incident.resolvedAt ?? last) > this.#w.reopenMs;
      if (resolvedLongAgo) continue;
      if (this.#linked(incident, signal, keys, role.weakKeys, last)) found.push(incident);
      else if (cls?.shared && this.#burst(incident, signal, cls.id)) found.push(incident);
      else if (role.recurrence && this.#recurs(incident, signal, role.recurrence)) found.push(incident);
    }
    return found.sort((a, b) => a.openedAt - b.openedAt || (a.id < b.id ? -1 : 1));
  }

  #linked(
    incident: Incident,
    signal: Signal,
    keys: ReadonlySet<EntityKey>,
    weakKeys: readonly EntityKey[],
    last: number,
  ): boolean {
    // Within the window of the incident's activity: not long after its last signal, not long before it opened.
    if (signal.time - last > this.#w.linkMs || incident.openedAt - signal.time > this.#w.linkMs) return false;
    const mine = this.#indexOf(incident).keys;
    for (const k of keys) if (mine.has(k)) return true;
    // A weak link holds only to what the incident shows broken at the time: its root cause, while a
    // signal pointing at it was firing.
    const cause = incident.rootCause?.entity;
    if (!cause || incident.quiet || !weakKeys.includes(cause)) return false;
    return incident.signals.some(
      (s) =>
        s.entity === cause &&
        s.firstSeen <= signal.time &&
        // a condition while it holds; an event (a log line, a lost job) only shortly after it
        (roleOf(s).event
          ? signal.time - s.lastSeen <= this.#w.burstMs
          : s.status === 'firing' || signal.time <= s.lastSeen),
    );
  }

  #burst(incident: Incident, signal: Signal, cls: string): boolean {
    return incident.signals.some(
      (s) => s.errorClass === cls && Math.abs(signal.time - s.lastSeen) <= this.#w.burstMs,
    );
  }

  #recurs(incident: Incident, signal: Signal, recurrence: string): boolean {
    return incident.signals.some(
      (s) =>
        s.entity !== signal.entity &&
        s.errorClass === signal.errorClass &&
        roleOf(s).recurrence === recurrence &&
        signal.time - s.lastSeen <= this.#w.recurrenceMs,
    );
  }

  #indexOf(incident: Incident): { keys: Set<EntityKey>; fingerprints: Set<string> } {
    const cached = this.#index.get(incident.id);
    if (cached && cached.version === incident.version) return cached;
    // Signals are appended (or updated in place, keeping their keys): index only what is new.
    const entry = cached ?? {
      version: 0,
      count: 0,
      keys: new Set<EntityKey>(),
      fingerprints: new Set<string>(),
    };
    const from = entry.count <= incident.signals.length ? entry.count : 0;
    if (from === 0) {
      entry.keys.clear();
      entry.fingerprints.clear();
    }
    for (let i = from; i < incident.signals.length; i++) {
      const s = incident.signals[i]!;
      entry.fingerprints.add(s.fingerprint);
      for (const k of roleOf(s).keys) entry.keys.add(k);
    }
    entry.count = incident.signals.length;
    entry.version = incident.version;
    this.#index.set(incident.id, entry);
    return entry;
  }

  /** Drops incidents from the working set once nothing can join or reopen them. */
  #expire(now: number): void {
    const horizon = Math.max(this.#w.reopenMs, this.#w.recurrenceMs, this.#w.linkMs);
    for (const [id, i] of this.#active) {
      if (i.mergedInto || (i.status === 'resolved' && now - (i.resolvedAt ?? 0) > horizon)) {
        this.#active.delete(id);
        this.#index.delete(id);
      }
    }
  }

  async #write(applied: Applied, alreadyWritten: boolean): Promise<CorrelationResult> {
    const { store, metrics } = this.#o;
    if (applied.change === 'none') return { incident: applied.incident, change: 'none' };
    const incident = alreadyWritten ? applied.incident : await store.update(applied.incident);
    this.#active.set(incident.id, incident);
    await store.appendTimeline(incident.id, applied.events);
    if (applied.change === 'opened' || applied.change === 'resolved' || applied.change === 'reopened') {
      metrics.incidents.add(1, { event: applied.change });
      this.#o.logger.info(
        {
          incidentId: incident.id,
          change: applied.change,
          severity: incident.severity,
          title: incident.title,
        },
        `incident ${applied.change}`,
      );
    }
    return { incident, change: applied.change };
  }
}

function lastActivity(incident: Incident): number {
  let last = incident.openedAt;
  for (const s of incident.signals) if (s.lastSeen > last) last = s.lastSeen;
  return last;
}
