import type { Incident } from '../core/index.ts';
import { stableId } from '../core/index.ts';
import {
  type DiagnosticResult,
  type DiagnosticsGatherer,
  type GatheredDiagnostics,
  toldResults,
} from '../diagnostics/diagnostic.ts';
import type { Logger } from '../telemetry/logger.ts';
import { basisOf, type NotifyContext } from './notify-context.ts';

/** An incident's diagnostics for one root cause: the gathering, its result once in, and whether a job waits for it. */
interface DiagnosticsEntry {
  readonly promise: Promise<GatheredDiagnostics | null>;
  result?: GatheredDiagnostics | null;
  followUp?: boolean;
}

/** Gatherings remembered (per incident and root cause); past it the oldest is forgotten. */
const REMEMBERED = 500;

/**
 * The matched playbooks' diagnostics of an incident: gathered once per root cause, given to the
 * LLM draft as evidence, and told in the thread once (a "Diagnostics" reply). A job that finds
 * them still being gathered tells nothing; a follow-up job tells them when they arrive.
 */
export class ThreadDiagnostics {
  readonly #gatherer: DiagnosticsGatherer;
  readonly #logger: Logger;
  readonly #followUp: (incidentId: string, version: number) => Promise<void>;
  readonly #track: (work: Promise<unknown>) => void;
  readonly #entries = new Map<string, DiagnosticsEntry>();

  constructor(options: {
    gatherer: DiagnosticsGatherer;
    logger: Logger;
    /** Queues a job that tells the diagnostics once they are gathered. */
    followUp: (incidentId: string, version: number) => Promise<void>;
    /** Keeps background work for `Notifier.settled`. */
    track: (work: Promise<unknown>) => void;
  }) {
    this.#gatherer = options.gatherer;
    this.#logger = options.logger;
    this.#followUp = options.followUp;
    this.#track = options.track;
  }

  /** The diagnostics of the incident's current root cause: gathered once, shared by the draft and the thread. */
  gathered(context: NotifyContext): Promise<GatheredDiagnostics | null> {
    return this.#entry(context).promise;
  }

  /**
   * Diagnostics the thread has not been told, when they are gathered; undefined when there are
   * none to tell or they are still being gathered (a job tells them when they arrive).
   */
  toTell(context: NotifyContext): readonly DiagnosticResult[] | undefined {
    const { incident } = context;
    if (context.notes.some((e) => e.id === diagnosticsEventId(incident))) return undefined;
    if (incident.quiet === true || incident.mergedInto || incident.status === 'resolved') return undefined;
    if (context.playbooks.every((m) => m.playbook.diagnostics.length === 0)) return undefined;
    const entry = this.#entry(context);
    if (entry.result !== undefined) {
      const told = toldResults(entry.result?.results ?? []);
      return told.length > 0 ? told : undefined;
    }
    if (!entry.followUp) {
      entry.followUp = true;
      this.#track(
        entry.promise.then((result) =>
          toldResults(result?.results ?? []).length > 0
            ? this.#followUp(incident.id, incident.version)
            : undefined,
        ),
      );
    }
    return undefined;
  }

  #entry(context: NotifyContext): DiagnosticsEntry {
    const { incident } = context;
    const key = `${incident.id}|${basisOf(incident)}`;
    let entry = this.#entries.get(key);
    if (!entry) {
      const started: DiagnosticsEntry = {
        promise: this.#gatherer
          .gather(
            incident,
            context.playbooks.map((m) => m.playbook),
          )
          .catch((err: unknown) => {
            // The gatherer never throws; if it did, there is nothing to tell.
            this.#logger.warn({ err, incidentId: incident.id }, 'diagnostics could not be gathered');
            return null;
          }),
      };
      started.promise.then((result) => {
        started.result = result;
      });
      entry = started;
      this.#entries.set(key, entry);
      if (this.#entries.size > REMEMBERED) this.#entries.delete(this.#entries.keys().next().value!);
    }
    return entry;
  }
}

/** The timeline event a reply telling these diagnostics writes once it is in the thread. */
export function diagnosticsTold(
  incident: Incident,
  results: readonly DiagnosticResult[],
): { eventId: string; text: string } {
  const summary = results
    .map((r) => (r.status === 'ok' ? r.kind : `${r.kind} unavailable (${r.reason ?? 'unknown'})`))
    .join('; ');
  return {
    eventId: diagnosticsEventId(incident),
    text: `diagnostics told in the thread: ${summary}`.slice(0, 1000),
  };
}

/** The timeline event that says the thread was told the diagnostics of the current root cause. */
function diagnosticsEventId(incident: Incident): string {
  return stableId('evt_', 'diagnostics', incident.id, basisOf(incident));
}
