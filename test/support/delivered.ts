import type { Incident, NotificationRecord, SlackThread } from '../../src/core/index.ts';
import type { IncidentStore } from '../../src/incidents/store.ts';

/** An incident as stored, with what the delivery ledger says of its Slack message. */
export interface DeliveredIncident extends Incident {
  /** Where its Slack message lives, or its claim (`ts` empty); null before a claim. */
  readonly slack: SlackThread | null;
  /** What was sent about it, oldest first. */
  readonly notifications: readonly NotificationRecord[];
}

/**
 * The incident and its delivery, read as a test asserts on them. Never hand it to
 * `store.update`: the delivery is the notifier's, not part of the incident.
 */
export async function delivered(store: IncidentStore, id: string): Promise<DeliveredIncident | null> {
  const [incident, delivery, notifications] = await Promise.all([
    store.get(id),
    store.getDelivery(id),
    store.sent(id),
  ]);
  return incident ? { ...incident, slack: delivery?.thread ?? null, notifications } : null;
}
