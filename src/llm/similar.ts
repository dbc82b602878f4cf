import type { Incident } from '../core/index.ts';
import type { IncidentStore } from '../incidents/store.ts';

const LOOK_BACK_MS = 30 * 86_400_000;

/**
 * Up to `limit` earlier incidents like this one (same root-cause kind, or same root-cause
 * entity), newest first, from the last 30 days: what happened last time is often the best hint.
 * Looks at one page (100) of the newest incidents, so it stays one cheap query.
 */
export async function findSimilarIncidents(
  store: IncidentStore,
  incident: Incident,
  now: number,
  limit = 3,
): Promise<Incident[]> {
  const rc = incident.rootCause;
  if (!rc) return [];
  const page = await store.list({ limit: 100, from: now - LOOK_BACK_MS });
  return page.incidents
    .filter((i) => i.id !== incident.id && i.rootCause && !i.mergedInto)
    .filter((i) => i.rootCause!.kind === rc.kind || i.rootCause!.entity === rc.entity)
    .slice(0, limit);
}
