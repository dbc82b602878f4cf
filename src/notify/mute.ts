import type { Clock, Incident } from '../core/index.ts';
import { errorMessage, stableId } from '../core/index.ts';
import { describeSilence, findActiveSilence } from '../incidents/silences.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';
import { NotificationDeferredError } from './notification-deferred.ts';

/**
 * The first stage of a first post: is the incident silenced now? If so it is not posted; its
 * timeline says by what and until when, and the silence counts what it kept from Slack. A silenced
 * incident still open waits for the silence to end (the job is deferred until then); a resolved
 * one is never posted.
 */
export async function mute(
  incident: Incident,
  options: { store: IncidentStore; clock: Clock; logger: Logger },
): Promise<'muted' | 'free'> {
  const { store, clock, logger } = options;
  const now = clock.now();
  const silence = await findActiveSilence(store.silencePages(now), incident, now);
  if (!silence) return 'free';
  await store.appendTimeline(incident.id, [
    {
      id: stableId('evt_', 'muted', incident.id, silence.id),
      at: now,
      type: 'silenced',
      text: `not posted: ${describeSilence(silence)} is silenced until ${new Date(silence.expiresAt).toISOString()} (by ${silence.createdBy.name ?? silence.createdBy.id})`,
    },
  ]);
  // What the silence kept from Slack, for whoever reviews it; a failed count delays nothing.
  await store
    .recordSuppressed(
      silence.id,
      incident.signals.map((s) => s.fingerprint),
    )
    .catch((err: unknown) =>
      logger.warn(
        { silence: silence.id, error: errorMessage(err) },
        'could not count what a silence suppressed',
      ),
    );
  if (incident.status === 'resolved') return 'muted';
  throw new NotificationDeferredError(
    `incident ${incident.id} is silenced by ${silence.id}`,
    silence.expiresAt - now,
  );
}
