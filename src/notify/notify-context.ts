import type { Incident } from '../core/index.ts';
import type { Delivery, IncidentStore, NotificationState, RecordedEvent } from '../incidents/store.ts';
import type { PlaybookCatalog } from '../playbooks/match.ts';
import { listItems } from '../playbooks/steps.ts';
import type { HumanAction, PlaybookRef } from './template.ts';

/** What every stage of a notify job looks at: the incident and what Slack was told of it, read once. */
export interface NotifyContext {
  readonly incident: Incident;
  /** Where its Slack message lives, or its claim (the delivery ledger); null before a claim. */
  readonly delivery: Delivery | null;
  readonly state: NotificationState | null;
  readonly playbooks: ReturnType<PlaybookCatalog['match']>;
  readonly refs: readonly PlaybookRef[];
  readonly actions: readonly HumanAction[];
  /**
   * The timeline's notes, oldest first: what people did and what the thread was told (charts,
   * diagnostics, details are noted once told). Not the signals' events: a job reads what it needs,
   * however long the incident flapped (see `IncidentStore.notes`).
   */
  readonly notes: readonly RecordedEvent[];
}

/** Reads the delivery, the notification state and the timeline's notes, and matches the playbooks. */
export async function readNotifyContext(
  incident: Incident,
  store: IncidentStore,
  playbooks: PlaybookCatalog | undefined,
): Promise<NotifyContext> {
  const [delivery, state, notes] = await Promise.all([
    store.getDelivery(incident.id),
    store.getNotificationState(incident.id),
    store.notes(incident.id),
  ]);
  const matched = playbooks?.match(incident) ?? [];
  const refs: PlaybookRef[] = matched.map((m) => ({
    id: m.playbook.id,
    title: m.playbook.title,
    links: m.links,
    fixSteps: listItems(m.playbook.sections['How to fix']),
  }));
  return { incident, delivery, state, playbooks: matched, refs, actions: humanActions(notes), notes };
}

/** A draft, or the diagnostics, are for one root cause: when the correlator changes its mind, they are redone. */
export function basisOf(incident: Incident): string {
  const rc = incident.rootCause;
  return rc ? `${rc.kind}|${rc.entity}` : `title|${incident.title}`;
}

/** The notes' actions by people, oldest first. */
function humanActions(notes: readonly RecordedEvent[]): HumanAction[] {
  const actions: HumanAction[] = [];
  for (const e of notes) {
    if (!e.actor) continue;
    if (
      e.type === 'acknowledged' ||
      e.type === 'resolved' ||
      e.type === 'reopened' ||
      e.type === 'silenced'
    ) {
      actions.push({ type: e.type, actor: e.actor, at: e.at, text: e.text });
    }
  }
  return actions;
}
