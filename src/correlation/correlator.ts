import type { Clock, Incident, Signal } from '../core/index.ts';
import { VersionConflictError } from '../core/index.ts';
import { FingerprintTakenError, type IncidentStore } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { GuardianMetrics } from '../telemetry/metrics.ts';
import { type Applied, applySignal, type IncidentChange, openIncident } from './incident-state.ts';

export interface CorrelatorOptions {
  store: IncidentStore;
  clock: Clock;
  logger: Logger;
  metrics: GuardianMetrics;
}

export interface CorrelationResult {
  readonly incident: Incident | null;
  readonly change: IncidentChange;
}

/** Lost races tolerated before a signal's job is failed (and retried by the queue). */
const MAX_RACES = 8;

/**
 * First cut of correlation: signals with the same fingerprint update one open incident; an
 * incident resolves when all its signals clear. Every write is conditional (see IncidentStore), so
 * concurrent replicas and redelivered jobs converge on one incident per fingerprint.
 */
export class Correlator {
  readonly #o: CorrelatorOptions;

  constructor(options: CorrelatorOptions) {
    this.#o = options;
  }

  async apply(signal: Signal): Promise<CorrelationResult> {
    for (let race = 0; race < MAX_RACES; race++) {
      try {
        return await this.#applyOnce(signal);
      } catch (err) {
        if (err instanceof VersionConflictError || err instanceof FingerprintTakenError) {
          this.#o.logger.debug(
            { fingerprint: signal.fingerprint, code: err.code },
            'lost a write race, retrying',
          );
          continue;
        }
        throw err;
      }
    }
    throw new VersionConflictError(`signal ${signal.fingerprint}: lost ${MAX_RACES} write races in a row`);
  }

  async #applyOnce(signal: Signal): Promise<CorrelationResult> {
    const { store, clock } = this.#o;
    const now = clock.now();
    const current = await store.findOpenByFingerprint(signal.fingerprint);
    if (current) return this.#write(applySignal(current, signal, now), false);
    if (signal.status === 'resolved') return { incident: null, change: 'none' };

    const opened = openIncident(signal, now);
    const { incident, created } = await store.create(opened.incident);
    if (created) return this.#write(opened, true);
    // A retried job: the incident exists already. If this signal is the one that opened it, the
    // earlier attempt may have stopped before writing the timeline: write it again (idempotent).
    const applied = applySignal(incident, signal, now);
    if (applied.change === 'none' && incident.id === opened.incident.id) {
      return this.#write({ incident, change: 'opened', events: opened.events }, true);
    }
    return this.#write(applied, false);
  }

  async #write(applied: Applied, alreadyWritten: boolean): Promise<CorrelationResult> {
    const { store, metrics } = this.#o;
    if (applied.change === 'none') return { incident: applied.incident, change: 'none' };
    const incident = alreadyWritten ? applied.incident : await store.update(applied.incident);
    await store.appendTimeline(incident.id, applied.events);
    if (applied.change === 'opened' || applied.change === 'resolved') {
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
