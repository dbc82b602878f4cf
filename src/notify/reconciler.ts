import type { Clock, Incident, IncidentStatus } from '../core/index.ts';
import { errorMessage } from '../core/index.ts';
import { DELIVERIES_MAX, type IncidentStore } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';

export interface DeliveryReconcilerOptions {
  store: Pick<IncidentStore, 'list' | 'deliveries'>;
  clock: Clock;
  logger: Logger;
  /** A first post waits this long after the incident opened (`notify.groupWait`): not due before. */
  groupWaitMs: number;
  /** Resolved incidents opened this long ago or less are looked at too. @defaultValue 1 day */
  lookbackMs?: number;
  /** Incidents looked at per status and pass, at most (pages of 100). @defaultValue 5000 */
  maxPerStatus?: number;
  /** Queues a notify job for the incident (idempotent: the job id is the incident and its version). */
  enqueue: (incident: Incident) => Promise<void>;
}

/** Finds incidents whose first post is due and not done, and queues them. */
export interface DeliveryReconciler {
  /** One pass; returns how many incidents it queued. Throws when the store cannot be read. */
  run(): Promise<number>;
}

/** Incidents per page: one page's deliveries are read at once. */
const PAGE = DELIVERIES_MAX;

/**
 * A notify job lives in a queue, an incident in the store: a process stopped (kill -9, a deploy)
 * between the two, or a Redis that came back empty, leaves an incident stored and never posted,
 * and nothing would ever ask for it again. The store is the truth: the leader asks it, on start
 * and every minute, which paged incidents have no post in the delivery ledger though their group
 * wait is over, and queues them again. The notifier's post claim makes a job queued twice post once.
 */
export function createDeliveryReconciler(options: DeliveryReconcilerOptions): DeliveryReconciler {
  const { store, clock, logger } = options;
  const lookbackMs = options.lookbackMs ?? 86_400_000;
  const maxPerStatus = options.maxPerStatus ?? 5000;

  /** The incidents of a status, a page at a time. */
  async function* incidents(status: IncidentStatus, from?: number): AsyncGenerator<Incident[]> {
    let cursor: string | undefined;
    let seen = 0;
    do {
      const page = await store.list({
        status,
        limit: PAGE,
        ...(from !== undefined ? { from } : {}),
        ...(cursor ? { cursor } : {}),
      });
      yield page.incidents;
      seen += page.incidents.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor && seen < maxPerStatus);
  }

  return {
    async run() {
      const now = clock.now();
      const paged = (i: Incident) => !i.quiet && !i.mergedInto && now - i.openedAt >= options.groupWaitMs;
      let queued = 0;
      const sources = [incidents('open'), incidents('acknowledged'), incidents('resolved', now - lookbackMs)];
      for (const source of sources) {
        for await (const page of source) {
          // Due: paged, and no post in the delivery ledger (one read per page of candidates).
          const candidates = page.filter(paged);
          if (candidates.length === 0) continue;
          const delivered = await store.deliveries(candidates.map((i) => i.id));
          for (const incident of candidates) {
            if (delivered.get(incident.id)?.thread?.ts) continue;
            try {
              await options.enqueue(incident);
              queued++;
            } catch (err) {
              logger.warn(
                { incidentId: incident.id, error: errorMessage(err) },
                'incident due for posting could not be queued; next pass retries',
              );
            }
          }
        }
      }
      if (queued > 0) logger.info({ queued }, 'queued incidents stored but never posted');
      return queued;
    },
  };
}
