import { GuardianError, type Incident, stableId } from '../core/index.ts';
import { optimistic } from './optimistic.ts';
import { describeSilence } from './silences.ts';
import {
  type Actor,
  FingerprintTakenError,
  type IncidentStore,
  type RecordedEvent,
  type Silence,
} from './store.ts';

/** What a person can do to an incident. */
export type LifecycleAction = 'acknowledge' | 'resolve' | 'reopen';

export interface ActionOutcome {
  readonly incident: Incident;
  /** False when the incident was already in the state asked for (a double click). */
  readonly changed: boolean;
  /** One line for the person who asked. */
  readonly message: string;
}

/** The action cannot be applied (no such incident, or reopening would clash with a newer incident). */
export class ActionRefusedError extends GuardianError {
  constructor(message: string) {
    super('action_refused', message);
  }
}

/**
 * Acknowledges, resolves or reopens an incident on behalf of `actor`, writes the action with who
 * did it to the timeline, and returns the incident as stored. Optimistic: re-reads and re-applies
 * when the correlator wrote in between. Repeating an action already applied changes nothing.
 */
export async function applyLifecycleAction(
  store: IncidentStore,
  request: { incidentId: string; action: LifecycleAction; actor: Actor; now: number },
): Promise<ActionOutcome> {
  const { incidentId, action, actor, now } = request;
  const outcome = await optimistic(
    async () => {
      const current = await store.get(incidentId);
      if (!current) throw new ActionRefusedError(`no incident ${incidentId}`);
      const next = transition(current, action, now);
      if (!next) return { incident: current, changed: false };
      try {
        return { incident: await store.update({ ...next, version: current.version + 1 }), changed: true };
      } catch (err) {
        if (err instanceof FingerprintTakenError) {
          throw new ActionRefusedError(
            `${incidentId} cannot be reopened: its signals now belong to incident ${err.ownerId}`,
          );
        }
        throw err;
      }
    },
    { what: `incident ${incidentId}: apply ${action}` },
  );
  const stored = outcome.incident;
  if (!outcome.changed) {
    return { incident: stored, changed: false, message: `${incidentId} is already ${stored.status}` };
  }
  const type = action === 'acknowledge' ? 'acknowledged' : action === 'resolve' ? 'resolved' : 'reopened';
  const who = actor.name ?? actor.id;
  const event: RecordedEvent = {
    id: stableId('evt_', incidentId, type, stored.version),
    at: now,
    type,
    text: `${type} by ${who}${actor.via === 'slack' ? ' in Slack' : ''}`,
    actor,
  };
  await store.appendTimeline(incidentId, [event]);
  return { incident: stored, changed: true, message: `${incidentId} ${type}` };
}

function transition(current: Incident, action: LifecycleAction, now: number): Incident | null {
  switch (action) {
    case 'acknowledge':
      return current.status === 'open' ? { ...current, status: 'acknowledged', updatedAt: now } : null;
    case 'resolve':
      return current.status === 'resolved'
        ? null
        : { ...current, status: 'resolved', resolvedAt: now, updatedAt: now };
    case 'reopen':
      return current.status === 'resolved'
        ? { ...current, status: 'open', resolvedAt: null, updatedAt: now }
        : null;
  }
}

/**
 * Silences what an incident is about (its root-cause kind on its root-cause entity) for
 * `durationMs`, and notes it in the incident's timeline. Matching new incidents are stored but
 * not posted until the silence expires; the incident itself keeps its message.
 */
export async function silenceIncident(
  store: IncidentStore,
  request: { incidentId: string; durationMs: number; actor: Actor; now: number },
): Promise<{ silence: Silence; incident: Incident }> {
  const { incidentId, durationMs, actor, now } = request;
  const incident = await store.get(incidentId);
  if (!incident) throw new ActionRefusedError(`no incident ${incidentId}`);
  const first = incident.signals[0];
  const kind = incident.rootCause?.kind ?? first?.kind;
  const entity = incident.rootCause?.entity ?? first?.entity;
  if (!kind && !entity) throw new ActionRefusedError(`${incidentId} has nothing to silence by`);
  const silence: Silence = {
    id: stableId('sil_', incidentId, actor.id, now),
    ...(kind ? { kind } : {}),
    ...(entity ? { entity } : {}),
    createdAt: now,
    expiresAt: now + durationMs,
    createdBy: actor,
    incidentId,
  };
  await store.createSilence(silence);
  await store.appendTimeline(incidentId, [
    {
      id: stableId('evt_', 'silenced', silence.id),
      at: now,
      type: 'silenced',
      text: `${describeSilence(silence)} silenced until ${new Date(silence.expiresAt).toISOString()} by ${actor.name ?? actor.id}`,
      actor,
    },
  ]);
  return { silence, incident };
}

/**
 * Ends a silence now on behalf of `actor` and, when it was made from an incident, notes who ended
 * it in that incident's timeline. Null when there is no such silence; ending an ended silence
 * again changes nothing.
 */
export async function endSilence(
  store: IncidentStore,
  request: { silenceId: string; actor: Actor; now: number },
): Promise<Silence | null> {
  const { silenceId, actor, now } = request;
  const ended = await store.expireSilence(silenceId, now);
  if (ended?.incidentId && ended.expiresAt === now) {
    await store.appendTimeline(ended.incidentId, [
      {
        id: stableId('evt_', 'unsilenced', ended.id),
        at: now,
        type: 'unsilenced',
        text: `${describeSilence(ended)} unsilenced by ${actor.name ?? actor.id}${actor.via === 'slack' ? ' in Slack' : ''}`,
        actor,
      },
    ]);
  }
  return ended;
}

/** Creates a silence from a matcher a person typed (`/guardian silence <kind|entity> <duration>`). */
export async function createSilence(
  store: IncidentStore,
  request: { matcher: string; durationMs: number; actor: Actor; now: number },
): Promise<Silence> {
  const { matcher, durationMs, actor, now } = request;
  // Entity keys always have a `kind:` prefix (`host:…`, `spark:worker:…`); incident kinds never do.
  const isEntity = matcher.includes(':');
  const silence: Silence = {
    id: stableId('sil_', matcher, actor.id, now),
    ...(isEntity ? { entity: matcher } : { kind: matcher }),
    createdAt: now,
    expiresAt: now + durationMs,
    createdBy: actor,
  };
  await store.createSilence(silence);
  return silence;
}

/**
 * Creates a silence from explicit matchers (the HTTP API): a root-cause or signal kind and/or an
 * entity glob, until `expiresAt` (epoch ms). The caller has validated them; a silence needs at
 * least one matcher, or it would match nothing.
 */
export async function createMatcherSilence(
  store: IncidentStore,
  request: {
    kind?: string;
    entity?: string;
    expiresAt: number;
    actor: Actor;
    now: number;
    reason?: string;
  },
): Promise<Silence> {
  const { kind, entity, expiresAt, actor, now, reason } = request;
  if (!kind && !entity) throw new ActionRefusedError('a silence needs a kind or an entity to match');
  const silence: Silence = {
    id: stableId('sil_', kind ?? '', entity ?? '', actor.id, now),
    ...(kind ? { kind } : {}),
    ...(entity ? { entity } : {}),
    createdAt: now,
    expiresAt,
    createdBy: actor,
    ...(reason ? { reason } : {}),
  };
  await store.createSilence(silence);
  return silence;
}
