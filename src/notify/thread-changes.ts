import type { Incident } from '../core/index.ts';
import type { NotificationState, PendingReply } from '../incidents/store.ts';
import type { HumanAction, ThreadChanges } from './template.ts';

/** What Slack's thread needs to hear about, or null when it is up to date. */
export function threadChanges(
  incident: Incident,
  state: NotificationState | null,
  actions: readonly HumanAction[],
): ThreadChanges | null {
  // No state: posted before Guardian kept one (or its write was lost). Take the present as told.
  if (!state) return null;
  const joined = incident.signals.filter((s) => state.told[s.fingerprint] === undefined);
  const cleared = incident.signals.filter(
    (s) => state.told[s.fingerprint] === 'firing' && s.status === 'resolved',
  );
  const refired = incident.signals.filter(
    (s) => state.told[s.fingerprint] === 'resolved' && s.status === 'firing',
  );
  const severity =
    state.toldSeverity && state.toldSeverity !== incident.severity
      ? { from: state.toldSeverity, to: incident.severity }
      : undefined;
  let status: ThreadChanges['status'];
  if (state.toldStatus && state.toldStatus !== incident.status) {
    const type =
      incident.status === 'acknowledged'
        ? 'acknowledged'
        : incident.status === 'resolved'
          ? 'resolved'
          : 'reopened';
    const by = [...actions].reverse().find((a) => a.type === type)?.actor;
    status = { from: state.toldStatus, to: incident.status, ...(by ? { by } : {}) };
  }
  if (joined.length + cleared.length + refired.length === 0 && !severity && !status) return null;
  return { joined, cleared, refired, ...(severity ? { severity } : {}), ...(status ? { status } : {}) };
}

/** The incident's signal statuses, as the thread has heard them once it is told the present. */
export function toldOf(incident: Incident): Record<string, 'firing' | 'resolved'> {
  return Object.fromEntries(incident.signals.map((s) => [s.fingerprint, s.status]));
}

/** The notification state once the thread knows the incident as it is now. */
export function toldNow(incident: Incident): Pick<PendingReply, 'told' | 'toldSeverity' | 'toldStatus'> {
  return { told: toldOf(incident), toldSeverity: incident.severity, toldStatus: incident.status };
}
