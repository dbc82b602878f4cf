import { crashPoint } from '../core/crash-point.ts';
import type { Clock, EntityKey, Incident, IncidentSignal, Signal } from '../core/index.ts';
import { VersionConflictError } from '../core/index.ts';
import { optimistic } from '../incidents/optimistic.ts';
import {
  FingerprintTakenError,
  type IncidentStore,
  StaleLeaderError,
  type WriteOptions,
} from '../incidents/store.ts';
import { failureClass } from '../logs/failure-text.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { GuardianMetrics } from '../telemetry/metrics.ts';
import { type CausalParams, DEFAULT_CAUSAL, HOST_LOSS_KINDS, roleOf, type SignalRole } from './causality.ts';
import {
  type Applied,
  applySignal,
  type IncidentChange,
  merge,
  openIncident,
  settle,
} from './incident-state.ts';
import { shownBefore } from './resource-evidence.ts';
import { TELEMETRY_PIPELINE } from './resources.ts';

export interface CorrelationWindows {
  /** A signal joins an incident it is linked to if the incident saw a signal this recently. @defaultValue 30 min */
  linkMs: number;
  /** Concurrent failures of a shared error class (an outage) group within this. @defaultValue 15 min */
  burstMs: number;
  /** The same task failing with the same class in later runs stays one incident within this. @defaultValue 3 h */
  recurrenceMs: number;
  /** A resolved incident that recurs within this reopens instead of duplicating. @defaultValue 1 h */
  reopenMs: number;
  /** An incident of events only (nothing that can clear) resolves after this long without news. @defaultValue 30 min */
  settleMs: number;
}

export const DEFAULT_WINDOWS: CorrelationWindows = {
  linkMs: 30 * 60_000,
  burstMs: 15 * 60_000,
  recurrenceMs: 3 * 3_600_000,
  reopenMs: 60 * 60_000,
  settleMs: 30 * 60_000,
};

export interface CorrelatorOptions {
  store: IncidentStore;
  clock: Clock;
  logger: Logger;
  metrics: GuardianMetrics;
  windows?: Partial<CorrelationWindows>;
  /** What root-cause inference turns on. @defaultValue {@link DEFAULT_CAUSAL} */
  causal?: Partial<CausalParams>;
  /**
   * Resolved incidents kept in the working set at most (to reopen or link to them): past it the
   * longest resolved are dropped before their windows end, and a recurrence opens a new incident.
   * Open incidents are never dropped. @defaultValue 10000
   */
  maxResolved?: number;
  /**
   * Open incidents at most. Past it a signal that would open another joins the newest open
   * incident of its kind (or the newest open one), so a runaway source costs one growing incident
   * rather than memory and a page per signal; `guardian.correlation.capped` counts those signals
   * and a warning says so once a minute. @defaultValue 5000
   */
  maxOpen?: number;
  /**
   * This replica's leader epoch, written with each incident write (see `WriteOptions.fence`):
   * after a later leader wrote an incident, this one's writes to it are refused. None with a
   * single process (nothing to fence off).
   */
  fence?: () => number | undefined;
}

export interface CorrelationResult {
  readonly incident: Incident | null;
  readonly change: IncidentChange;
  /** Other incidents this signal changed (merged into `incident`). */
  readonly also?: readonly { incident: Incident; change: IncidentChange }[];
}

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
  readonly #causal: CausalParams;
  readonly #set = new WorkingSet();
  #warm: Promise<void> | undefined;
  #expiredAt = Number.NEGATIVE_INFINITY;
  #cappedWarnedAt = Number.NEGATIVE_INFINITY;
  #capped = 0;
  /** The last queued apply or sweep: the next one runs after it. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: CorrelatorOptions) {
    this.#o = options;
    this.#w = { ...DEFAULT_WINDOWS, ...options.windows };
    this.#causal = { ...DEFAULT_CAUSAL, ...options.causal };
  }

  /** Applies one signal (calls are serialised: the working set has one writer in a process). */
  apply(signal: Signal): Promise<CorrelationResult> {
    return this.#serial(() => this.#apply(signal));
  }

  /**
   * Resolves incidents that can no longer clear by themselves (events only, nothing new for the
   * settle window). Run periodically; returns what it resolved, for the notifier.
   */
  sweep(): Promise<CorrelationResult[]> {
    return this.#serial(async () => {
      await this.#warmUp();
      const now = this.#o.clock.now();
      const out: CorrelationResult[] = [];
      for (const incident of this.#set.all()) {
        const applied = settle(incident, now, this.#w.settleMs);
        if (applied.change === 'none') continue;
        try {
          out.push(await this.#write(applied, false));
        } catch (err) {
          // Someone else changed it: the next sweep looks again at what it is then.
          if (!(err instanceof VersionConflictError)) throw err;
          await this.#reload();
        }
      }
      return out;
    });
  }

  /** Incidents in the working set (open, and resolved within the reopen window). */
  size(): number {
    return this.#set.size;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Loads the working set once. A load that failed (a throttle at startup) is forgotten, so the
   * next signal loads again, rather than every later signal failing on the same rejection.
   */
  async #warmUp(): Promise<void> {
    this.#warm ??= this.#load().catch((err: unknown) => {
      this.#warm = undefined;
      this.#set.clear();
      throw err;
    });
    await this.#warm;
  }

  async #apply(signal: Signal): Promise<CorrelationResult> {
    await this.#warmUp();
    try {
      return await optimistic(() => this.#applyOnce(signal), {
        what: `signal ${signal.fingerprint}`,
        // A fingerprint claimed meanwhile is a race too: the reload shows who holds it now.
        isConflict: (err) => err instanceof VersionConflictError || err instanceof FingerprintTakenError,
        onConflict: async (err) => {
          this.#o.logger.debug(
            { fingerprint: signal.fingerprint, code: (err as VersionConflictError).code },
            'lost a write race, retrying',
          );
          await this.#reload();
        },
      });
    } catch (err) {
      // A later leader wrote: what this replica holds is stale, and it is about to stand by.
      if (err instanceof StaleLeaderError) {
        this.#set.clear();
        this.#warm = undefined;
      }
      throw err;
    }
  }

  /**
   * Forgets the working set: the next apply or sweep loads it from the store again (another
   * replica may have written since this one last correlated).
   */
  invalidate(): Promise<void> {
    return this.#serial(async () => {
      this.#set.clear();
      this.#warm = undefined;
    });
  }

  /** Incidents in the working set (for diagnostics and tests). */
  active(): Incident[] {
    return this.#set.all();
  }

  async #load(): Promise<void> {
    const merged: Incident[] = [];
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
        // The index is eventually consistent: what it names is read again, consistently, so a
        // new leader starts from what the last one wrote, not from a lagging copy.
        const current = await this.#o.store.getMany(page.incidents.map((i) => i.id));
        for (const i of current) {
          if (i.mergedInto) merged.push(i);
          else this.#set.put(i);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    await this.#finishMerges(merged);
  }

  /**
   * On a store without transactions (dynalite) a merge writes the absorbed incident, then the
   * survivor: a process that died in between left the absorbed one pointing at a survivor without
   * its signals. Such a merge is done again. (With transactions it cannot happen.)
   */
  async #finishMerges(merged: readonly Incident[]): Promise<void> {
    for (const absorbed of merged) {
      const survivor = this.#set.get(absorbed.mergedInto!);
      if (!survivor || absorbed.signals.length === 0) continue;
      const held = new Set(survivor.signals.map((s) => s.fingerprint));
      if (absorbed.signals.some((s) => held.has(s.fingerprint))) continue;
      this.#o.logger.info(
        { incidentId: survivor.id, absorbed: absorbed.id },
        'finishing an interrupted merge',
      );
      await this.#write(merge(survivor, absorbed, this.#o.clock.now(), this.#causal).survivor, false);
    }
  }

  async #reload(): Promise<void> {
    this.#set.clear();
    await this.#load();
  }

  async #applyOnce(signal: Signal): Promise<CorrelationResult> {
    const now = this.#o.clock.now();
    this.#expire(now);
    const owner = await this.#owner(signal.fingerprint);
    if (owner) return this.#write(applySignal(owner, signal, now, this.#causal), false);
    if (signal.status === 'resolved') return { incident: null, change: 'none' };

    const candidates = this.#candidates(signal);
    if (candidates.length === 0 && this.#set.openCount >= (this.#o.maxOpen ?? 5000)) {
      const overflow = this.#set.newestOpen(signal.kind);
      if (overflow) {
        this.#capped++;
        this.#o.metrics.correlationCapped.add(1, { kind: signal.kind });
        if (now - this.#cappedWarnedAt >= 60_000) {
          this.#cappedWarnedAt = now;
          this.#o.logger.warn(
            { open: this.#set.openCount, joined: overflow.id, capped: this.#capped, kind: signal.kind },
            'open incidents at their cap: new signals join the newest open incident of their kind',
          );
        }
        return this.#write(applySignal(overflow, signal, now, this.#causal), false);
      }
    }
    if (candidates.length === 0) {
      const { opened, incident, created } = await this.#create(signal, now);
      if (created) return this.#write(opened, true);
      // A retried job: the incident exists already; write its timeline again (idempotent).
      this.#set.put(incident);
      const applied = applySignal(incident, signal, now, this.#causal);
      if (applied.change === 'none' && incident.id === opened.incident.id)
        return this.#write({ incident, change: 'opened', events: opened.events }, true);
      return this.#write(applied, false);
    }
    // Join the oldest connected incident; merge the others into it.
    const [survivor, ...others] = candidates;
    const also: { incident: Incident; change: IncidentChange }[] = [];
    const target = await this.#mergeInto(survivor!, others, now, also);
    const result = await this.#write(applySignal(target, signal, now, this.#causal), false);
    return this.#oneCause(result, now, also);
  }

  /** Merges `others` into `target` (each write as the store allows); returns the survivor. */
  async #mergeInto(
    target: Incident,
    others: readonly Incident[],
    now: number,
    also: { incident: Incident; change: IncidentChange }[],
  ): Promise<Incident> {
    let survivor = target;
    for (const other of others) {
      const merged = merge(survivor, other, now, this.#causal);
      // Both incidents in one write where the store can (see IncidentStore.mergeIncidents).
      const written = await this.#o.store.mergeIncidents(
        merged.absorbed.incident,
        merged.survivor.incident,
        this.#fence(),
      );
      const absorbed = await this.#write({ ...merged.absorbed, incident: written.absorbed }, true);
      also.push({ incident: absorbed.incident!, change: 'resolved' });
      this.#set.delete(other.id);
      survivor = (await this.#write({ ...merged.survivor, incident: written.survivor }, true)).incident!;
    }
    return survivor;
  }

  /**
   * One incident per cause: when the incident a signal changed now names the same root cause as
   * other incidents active within the link window (a host's own series in one, failures singled
   * out on that host in another), they are one incident, kept in the oldest.
   */
  async #oneCause(
    result: CorrelationResult,
    now: number,
    also: { incident: Incident; change: IncidentChange }[],
  ): Promise<CorrelationResult> {
    const incident = result.incident;
    const cause = incident?.rootCause?.entity;
    if (!incident || !cause || incident.status === 'resolved')
      return also.length > 0 ? { ...result, also } : result;
    const same = this.#set
      .byCause(cause)
      .filter(
        (e) =>
          e.incident.id !== incident.id &&
          e.incident.rootCause?.entity === cause &&
          now - e.last <= this.#w.linkMs,
      )
      .map((e) => e.incident);
    if (same.length === 0) return also.length > 0 ? { ...result, also } : result;
    // The one already paged keeps the thread; else the oldest.
    const [oldest, ...rest] = [incident, ...same].sort(
      (a, b) =>
        Number(a.quiet ?? true) - Number(b.quiet ?? true) ||
        a.openedAt - b.openedAt ||
        (a.id < b.id ? -1 : 1),
    );
    const survivor = await this.#mergeInto(oldest!, rest, now, also);
    const change = survivor.id === incident.id ? result.change : 'signal_added';
    return { incident: survivor, change, also };
  }

  /**
   * Writes the incident a signal opens. A claim on its fingerprint whose incident was never
   * written (a process died between the two writes) names the incident to write: opening it under
   * that id makes a late write of the same incident meet this one in the store, not double it.
   */
  async #create(
    signal: Signal,
    now: number,
  ): Promise<{ opened: Applied; incident: Incident; created: boolean }> {
    const { store } = this.#o;
    const opened = openIncident(signal, now, this.#causal);
    try {
      return { opened, ...(await store.create(opened.incident, this.#fence())) };
    } catch (err) {
      if (!(err instanceof FingerprintTakenError) || err.ownerId === 'unknown') throw err;
      if (await store.get(err.ownerId)) throw err;
      const adopted = openIncident(signal, now, this.#causal, err.ownerId);
      this.#o.logger.info(
        { fingerprint: signal.fingerprint, incidentId: err.ownerId },
        'opening the incident a stopped write claimed and never wrote',
      );
      return { opened: adopted, ...(await store.create(adopted.incident, this.#fence())) };
    }
  }

  /** The open incident that holds a fingerprint: from the working set, else the store. */
  async #owner(fingerprint: string): Promise<Incident | null> {
    const held = this.#set.byFingerprint(fingerprint);
    if (held) return held;
    const stored = await this.#o.store.findOpenByFingerprint(fingerprint);
    if (stored) this.#set.put(stored);
    return stored;
  }

  /**
   * Incidents the signal is connected to, oldest first. The working set's indexes name the few
   * that could be (they share a key, a shared error class, a recurring task, or have a weak key as
   * their root cause); only those are checked against the windows.
   */
  #candidates(signal: Signal): Incident[] {
    const role = roleOf(signal);
    const cls = failureClass(signal.errorClass);
    const found: Incident[] = [];
    const sameWay: Incident[] = [];
    for (const entry of this.#set.related(role, cls?.shared ? cls.id : undefined)) {
      const incident = entry.incident;
      const resolvedLongAgo =
        incident.status === 'resolved' &&
        signal.time - (incident.resolvedAt ?? entry.last) > this.#w.reopenMs;
      if (resolvedLongAgo) continue;
      if (this.#linked(entry, signal, role.keys, role.weakKeys)) found.push(incident);
      else if (this.#sameFailure(incident, signal, role)) found.push(incident);
      else if (this.#hostSymptom(entry, signal, role)) found.push(incident);
      else if (this.#resourceLink(incident, signal, role)) found.push(incident);
      else if (this.#sameMachine(incident, signal, role)) found.push(incident);
      else if (this.#served(incident, signal, role)) found.push(incident);
      else if (cls?.shared && this.#burst(incident, signal, cls.id)) found.push(incident);
      else if (role.recurrence && this.#recurs(incident, signal, role.recurrence)) found.push(incident);
    }
    if (found.length === 0 && role.way)
      for (const entry of this.#set.byWay(role.way)) {
        const incident = entry.incident;
        if (
          incident.status === 'resolved' &&
          signal.time - (incident.resolvedAt ?? entry.last) > this.#w.reopenMs
        )
          continue;
        if (this.#sameWay(incident, signal, role)) sameWay.push(incident);
      }
    // When and how it failed ties it only where nothing else does: a cause its edges reach explains better.
    const joined = found.length > 0 ? found : sameWay;
    return joined.sort((a, b) => a.openedAt - b.openedAt || (a.id < b.id ? -1 : 1));
  }

  /**
   * When and how: failures of other DAGs that failed the same way (`SignalRole.way`) share this
   * one's cause, though they name nothing in common (a worker image that breaks one library
   * everywhere, a table whose plans all time out), when it began within the burst window of the
   * first of them: a burst has a start, and a failure that way long after it is another story.
   */
  #sameWay(incident: Incident, signal: Signal, role: SignalRole): boolean {
    let first = Number.POSITIVE_INFINITY;
    let otherUnit = false;
    for (const s of incident.signals) {
      const r = roleOf(s);
      if (r.way !== role.way) continue;
      first = Math.min(first, s.firstSeen);
      otherUnit ||= r.unit !== role.unit;
    }
    return otherUnit && Math.abs(signal.time - first) <= this.#w.burstMs;
  }

  #linked(entry: Entry, signal: Signal, keys: readonly EntityKey[], weakKeys: readonly EntityKey[]): boolean {
    const { incident, last } = entry;
    // Within the window of the incident's activity: not long after its last signal, not long before it opened.
    if (signal.time - last > this.#w.linkMs || incident.openedAt - signal.time > this.#w.linkMs) return false;
    for (const k of keys) if (entry.keys.has(k)) return true;
    // What the incident found broken, named by the signal itself (a symptom named the host first).
    const cause = incident.rootCause?.entity;
    if (cause && keys.includes(cause)) return true;
    // A weak link holds only to what the incident shows broken at the time: its root cause, while a
    // signal observing it (about it, or as direct as a worker lost is of its host) was firing.
    if (!cause || incident.quiet || !weakKeys.includes(cause)) return false;
    return incident.signals.some(
      (s) =>
        (s.entity === cause || observes(s, cause)) &&
        s.firstSeen <= signal.time &&
        // a condition while it holds; an event (a log line, a lost job) only shortly after it
        (roleOf(s).event
          ? signal.time - s.lastSeen <= this.#w.burstMs
          : s.status === 'firing' || signal.time <= s.lastSeen),
    );
  }

  /** The same classified failure on the same host or executor, reported at about the same time. */
  #sameFailure(incident: Incident, signal: Signal, role: SignalRole): boolean {
    if (role.failures.length === 0) return false;
    return incident.signals.some(
      (s) =>
        Math.abs(signal.time - s.lastSeen) <= this.#w.burstMs &&
        roleOf(s).failures.some((f) => role.failures.includes(f)),
    );
  }

  /**
   * A host lost and the symptoms it showed, whichever was seen first. A symptom naming the host
   * (the SIGTERM a reclaimed worker logged, its metrics going silent) joins its observed loss; a
   * silence also joins a loss inferred from the tasks the host killed, which it corroborates.
   */
  #hostSymptom(entry: Entry, signal: Signal, role: SignalRole): boolean {
    const { incident } = entry;
    const near = (s: IncidentSignal) =>
      s.firstSeen - this.#w.burstMs <= signal.time && signal.time - s.lastSeen <= this.#w.burstMs;
    // The signal is the silence; the incident has the host lost.
    const cause = incident.rootCause;
    const silence = signal.kind === 'metric.silent';
    if (cause && HOST_LOSS_KINDS.has(cause.kind) && silence && role.namedHosts.includes(cause.entity))
      return incident.signals.some((s) => roleOf(s).hypothesis.entity === cause.entity && near(s));
    // The signal loses the host; the incident holds a symptom of it, still holding or just seen.
    const { entity, kind, directness } = role.hypothesis;
    if (!HOST_LOSS_KINDS.has(kind)) return false;
    const observed = directness >= OBSERVED;
    return incident.signals.some((s) => {
      const r = roleOf(s);
      const shows = (observed || s.kind === 'metric.silent') && r.namedHosts.includes(entity);
      return shows && (s.status === 'firing' || near(s));
    });
  }

  /**
   * The resource edges of the causal graph, at about the same time: a failure names a resource
   * a symptom of the incident is about (or the other way round), two failures of one error class
   * name one resource, or two symptoms are about one named resource (a function's errors and its
   * rows). A host shared by two symptoms is not enough: many things share a host.
   */
  #resourceLink(incident: Incident, signal: Signal, role: SignalRole): boolean {
    if (role.names.length === 0 && role.resources.length === 0 && role.alsoAbout.length === 0) return false;
    const named = (keys: readonly EntityKey[]) => (k: EntityKey) => keys.includes(k);
    return incident.signals.some((s) => {
      if (s.status !== 'firing' && Math.abs(signal.time - s.lastSeen) > this.#w.burstMs) return false;
      const r = roleOf(s);
      if (
        role.names.length > 0 &&
        (r.resources.some(named(role.names)) || r.alsoAbout.some(named(role.names)))
      )
        return true;
      if (role.resources.length > 0 && r.names.some(named(role.resources))) return true;
      if (role.alsoAbout.length > 0 && r.names.some(named(role.alsoAbout))) return true;
      if (signal.errorClass && s.errorClass === signal.errorClass && r.names.some(named(role.names)))
        return true;
      // Work of other DAGs that waited for one DAG's work, which did not happen: one cause.
      if (role.waitsOn.some((w) => w.startsWith('airflow:dag:') && r.waitsOn.includes(w))) return true;
      return r.resources.some((k) => k.startsWith('name:') && role.resources.includes(k));
    });
  }

  /**
   * The machine that served what a failure used (the Spark Connect driver's host), seen unwell
   * (a series or a line pointing at it) before the failure: that departure is the failure's likeliest cause, whether
   * or not its incident paged (`resource-evidence.ts`).
   */
  #served(incident: Incident, signal: Signal, role: SignalRole): boolean {
    if (role.servedFrom.length === 0) return false;
    const pointsAt = (s: IncidentSignal) => roleOf(s).hypothesis.entity;
    return shownBefore(incident.signals, pointsAt, role.servedFrom, signal.time, this.#w.burstMs);
  }

  /**
   * Differential diagnosis: failures on one machine that fail the same way, each while work
   * succeeded on other machines, at about the same time, whatever their texts say. Whether the machine is their cause
   * is the ranking's call (it must hold failures of several DAGs, most of the incident's).
   */
  #sameMachine(incident: Incident, signal: Signal, role: SignalRole): boolean {
    if (!role.machine) return false;
    return incident.signals.some((s) => {
      const r = roleOf(s);
      return (
        r.machine === role.machine &&
        r.signature === role.signature &&
        Math.abs(signal.time - s.lastSeen) <= this.#w.burstMs
      );
    });
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

  /** Drops incidents from the working set once nothing can join or reopen them. */
  #expire(now: number): void {
    // A pass over the working set, at most once a minute (candidates check the windows anyway).
    if (now - this.#expiredAt < 60_000) return;
    this.#expiredAt = now;
    const horizon = Math.max(this.#w.reopenMs, this.#w.recurrenceMs, this.#w.linkMs);
    const resolved: Incident[] = [];
    for (const i of this.#set.all()) {
      if (i.mergedInto || (i.status === 'resolved' && now - (i.resolvedAt ?? 0) > horizon)) {
        this.#set.delete(i.id);
      } else if (i.status === 'resolved') resolved.push(i);
    }
    // Bounded under a storm of short incidents: the longest resolved go first.
    const excess = resolved.length - (this.#o.maxResolved ?? 10_000);
    if (excess > 0) {
      resolved.sort((a, b) => (a.resolvedAt ?? 0) - (b.resolvedAt ?? 0));
      for (const i of resolved.slice(0, excess)) this.#set.delete(i.id);
    }
  }

  #fence(): WriteOptions {
    const fence = this.#o.fence?.();
    return fence === undefined ? {} : { fence };
  }

  async #write(applied: Applied, alreadyWritten: boolean): Promise<CorrelationResult> {
    const { store, metrics } = this.#o;
    if (applied.change === 'none') return { incident: applied.incident, change: 'none' };
    const incident = alreadyWritten ? applied.incident : await store.update(applied.incident, this.#fence());
    crashPoint('incident-written');
    this.#set.put(incident);
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

/** An incident in the working set with what the correlator looks it up by. */
interface Entry {
  incident: Incident;
  /** Its latest activity: when it opened or last saw a signal. */
  last: number;
  keys: Set<EntityKey>;
  /** Every fingerprint it held while in this working set (trimmed signals included). */
  fingerprints: Set<string>;
  classes: Set<string>;
  recurrences: Set<string>;
  cause: EntityKey | undefined;
  /** `class@machine` of its classified failures (`SignalRole.failures`). */
  failures: Set<string>;
  /** Hosts its symptoms (log lines, metrics) name. */
  symptomHosts: Set<EntityKey>;
  /** Resources its failures name and its symptoms are about (`SignalRole.names`, `.resources`). */
  resources: Set<EntityKey>;
  /** Machines its failures ran on while work succeeded elsewhere (`SignalRole.machine`). */
  machines: Set<EntityKey>;
  /** How its failures failed (`SignalRole.way`). */
  ways: Set<string>;
}

/**
 * The open and recently resolved incidents, with inverted indexes from what a signal carries
 * (fingerprint, join key, error class, recurring task, a weak key that is a root cause) to the
 * incidents holding it, so that finding a signal's incident costs what the signal touches, not
 * the number of incidents.
 */
class WorkingSet {
  readonly #entries = new Map<string, Entry>();
  readonly #byFingerprint = new Map<string, string>();
  readonly #byKey = new Index();
  readonly #byClass = new Index();
  readonly #byRecurrence = new Index();
  readonly #byCause = new Index();
  readonly #byFailure = new Index();
  readonly #bySymptomHost = new Index();
  readonly #byResource = new Index();
  readonly #byMachine = new Index();
  readonly #byWay = new Index();
  #open = 0;
  /** Per signal kind, the newest open incident opened by it: where signals go past the cap. */
  readonly #newestByKind = new Map<string, string>();

  all(): Incident[] {
    return [...this.#entries.values()].map((e) => e.incident);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Open or acknowledged incidents held. */
  get openCount(): number {
    return this.#open;
  }

  /** The newest open incident opened by a signal of this kind, else the newest open one. */
  newestOpen(kind: string): Incident | undefined {
    const id = this.#newestByKind.get(kind);
    const held = id ? this.#entries.get(id)?.incident : undefined;
    if (held && held.status !== 'resolved' && !held.mergedInto) return held;
    let newest: Incident | undefined;
    for (const e of this.#entries.values()) {
      const i = e.incident;
      if (i.status === 'resolved' || i.mergedInto) continue;
      if (!newest || i.openedAt >= newest.openedAt) newest = i;
    }
    return newest;
  }

  clear(): void {
    this.#open = 0;
    this.#newestByKind.clear();
    this.#entries.clear();
    this.#byFingerprint.clear();
    for (const index of [
      this.#byKey,
      this.#byClass,
      this.#byRecurrence,
      this.#byCause,
      this.#byFailure,
      this.#bySymptomHost,
      this.#byResource,
      this.#byMachine,
      this.#byWay,
    ])
      index.clear();
  }

  get(id: string): Incident | undefined {
    return this.#entries.get(id)?.incident;
  }

  /** The open incident that holds the fingerprint. */
  byFingerprint(fingerprint: string): Incident | undefined {
    const id = this.#byFingerprint.get(fingerprint);
    return id ? this.#entries.get(id)?.incident : undefined;
  }

  /** Entries that share something with a signal of this role (each once). */
  related(role: SignalRole, sharedClass: string | undefined): Entry[] {
    const ids = new Set<string>();
    for (const k of role.keys) {
      this.#byKey.collect(k, ids);
      this.#byCause.collect(k, ids);
    }
    for (const k of role.weakKeys) this.#byCause.collect(k, ids);
    for (const f of role.failures) this.#byFailure.collect(f, ids);
    if (HOST_LOSS_KINDS.has(role.hypothesis.kind)) this.#bySymptomHost.collect(role.hypothesis.entity, ids);
    if (sharedClass) this.#byClass.collect(sharedClass, ids);
    if (role.recurrence) this.#byRecurrence.collect(role.recurrence, ids);
    for (const r of lookupNames(role)) this.#byResource.collect(r, ids);
    for (const r of role.resources) this.#byResource.collect(r, ids);
    for (const r of role.alsoAbout) this.#byResource.collect(r, ids);
    for (const r of role.servedFrom) this.#byResource.collect(r, ids);
    if (role.machine) this.#byMachine.collect(role.machine, ids);
    const out: Entry[] = [];
    for (const id of ids) {
      const e = this.#entries.get(id);
      if (e && !e.incident.mergedInto) out.push(e);
    }
    return out;
  }

  put(incident: Incident): void {
    const prev = this.#entries.get(incident.id);
    if (prev?.incident === incident) return;
    const keys = new Set<EntityKey>();
    const classes = new Set<string>();
    const recurrences = new Set<string>();
    const failures = new Set<string>();
    const symptomHosts = new Set<EntityKey>();
    const resources = new Set<EntityKey>();
    const machines = new Set<EntityKey>();
    const ways = new Set<string>();
    const fingerprints = prev?.fingerprints ?? new Set<string>();
    let last = incident.openedAt;
    for (const s of incident.signals) {
      const role = roleOf(s);
      for (const k of role.keys) keys.add(k);
      if (s.errorClass) classes.add(s.errorClass);
      if (role.recurrence) recurrences.add(role.recurrence);
      for (const f of role.failures) failures.add(f);
      for (const h of role.namedHosts) symptomHosts.add(h);
      for (const r of role.names) if (isResource(r)) resources.add(r);
      // what its work waited for (another DAG): what else waits for it finds this incident
      for (const r of role.waitsOn) if (r.startsWith('airflow:dag:')) resources.add(r);
      for (const r of role.resources) resources.add(r);
      for (const r of role.alsoAbout) resources.add(r);
      if (role.machine) machines.add(role.machine);
      if (role.way) ways.add(role.way);
      fingerprints.add(s.fingerprint);
      if (s.lastSeen > last) last = s.lastSeen;
    }
    const cause = incident.rootCause?.entity;
    const id = incident.id;
    this.#byKey.update(id, prev?.keys, keys);
    this.#byClass.update(id, prev?.classes, classes);
    this.#byRecurrence.update(id, prev?.recurrences, recurrences);
    this.#byCause.update(id, prev?.cause ? [prev.cause] : undefined, new Set(cause ? [cause] : []));
    this.#byFailure.update(id, prev?.failures, failures);
    this.#bySymptomHost.update(id, prev?.symptomHosts, symptomHosts);
    this.#byResource.update(id, prev?.resources, resources);
    this.#byMachine.update(id, prev?.machines, machines);
    this.#byWay.update(id, prev?.ways, ways);
    // Only open incidents own their fingerprints: a resolved one is reopened by linking, not by owning.
    const open = incident.status !== 'resolved';
    const wasOpen = prev !== undefined && prev.incident.status !== 'resolved';
    this.#open += Number(open) - Number(wasOpen);
    const firstKind = incident.signals[0]?.kind;
    if (open && firstKind) {
      const newest = this.#entries.get(this.#newestByKind.get(firstKind) ?? '')?.incident;
      if (!newest || newest.openedAt <= incident.openedAt) this.#newestByKind.set(firstKind, id);
    }
    if (open !== wasOpen) {
      for (const fp of fingerprints) {
        if (open) this.#byFingerprint.set(fp, id);
        else if (this.#byFingerprint.get(fp) === id) this.#byFingerprint.delete(fp);
      }
    } else if (open) {
      for (const s of incident.signals) this.#byFingerprint.set(s.fingerprint, id);
    }
    this.#entries.set(id, {
      incident,
      last,
      keys,
      fingerprints,
      classes,
      recurrences,
      cause,
      failures,
      symptomHosts,
      resources,
      machines,
      ways,
    });
  }

  /** Entries whose root cause is this entity. */
  byCause(entity: EntityKey): Entry[] {
    return this.#collect(this.#byCause, entity);
  }

  /** Entries holding failures that failed this way (`SignalRole.way`). */
  byWay(way: string): Entry[] {
    return this.#collect(this.#byWay, way);
  }

  #collect(index: Index, value: string): Entry[] {
    const ids = new Set<string>();
    index.collect(value, ids);
    const out: Entry[] = [];
    for (const id of ids) {
      const e = this.#entries.get(id);
      if (e && !e.incident.mergedInto) out.push(e);
    }
    return out;
  }

  delete(id: string): void {
    const e = this.#entries.get(id);
    if (!e) return;
    const none = new Set<string>();
    this.#byKey.update(id, e.keys, none);
    this.#byClass.update(id, e.classes, none);
    this.#byRecurrence.update(id, e.recurrences, none);
    this.#byCause.update(id, e.cause ? [e.cause] : undefined, none);
    this.#byFailure.update(id, e.failures, none);
    this.#bySymptomHost.update(id, e.symptomHosts, none);
    this.#byResource.update(id, e.resources, none);
    this.#byMachine.update(id, e.machines, none);
    this.#byWay.update(id, e.ways, none);
    for (const fp of e.fingerprints) if (this.#byFingerprint.get(fp) === id) this.#byFingerprint.delete(fp);
    if (e.incident.status !== 'resolved') this.#open--;
    this.#entries.delete(id);
  }
}

/** value → ids of the incidents holding it. */
class Index {
  readonly #map = new Map<string, Set<string>>();

  clear(): void {
    this.#map.clear();
  }

  collect(value: string, into: Set<string>): void {
    const ids = this.#map.get(value);
    if (ids) for (const id of ids) into.add(id);
  }

  update(id: string, before: Iterable<string> | undefined, after: ReadonlySet<string>): void {
    if (before) {
      for (const v of before) {
        if (after.has(v)) continue;
        const ids = this.#map.get(v);
        ids?.delete(id);
        if (ids?.size === 0) this.#map.delete(v);
      }
    }
    for (const v of after) {
      const ids = this.#map.get(v);
      if (ids) ids.add(id);
      else this.#map.set(v, new Set([id]));
    }
  }
}

/**
 * The signal shows the entity broken as directly as a signal about it would: a Spark worker lost
 * shows its host lost. Inferences from failure texts (a task's error naming an endpoint) do not.
 */
function observes(s: Parameters<typeof roleOf>[0], entity: EntityKey): boolean {
  const h = roleOf(s).hypothesis;
  return h.entity === entity && h.directness >= OBSERVED;
}

/**
 * A shared resource a failure can name (a host, a bucket, a service): what the resource index
 * holds. Other names (the run, the stage) already tie signals through their keys.
 */
function isResource(key: EntityKey): boolean {
  return key.startsWith('host:') || key.startsWith('name:') || key === TELEMETRY_PIPELINE;
}

/**
 * What a signal's names are looked up by: the shared resources it names, and what it waits on
 * (`SignalRole.waitsOn`: work that started and does not progress waits on what the scheduler hands
 * work to, so it also looks for incidents holding the scheduler's own series).
 */
function lookupNames(role: SignalRole): EntityKey[] {
  return role.names.filter((r) => isResource(r) || role.waitsOn.includes(r));
}

/** Directness from which a signal shows its cause rather than infers it. */
const OBSERVED = 0.9;
