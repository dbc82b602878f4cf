import type { Incident } from '../core/index.ts';
import type { Silence } from './store.ts';

/**
 * Whether `silence` covers `incident`: every matcher the silence has must hold. `kind` matches the
 * root-cause kind, a signal's kind or a signal's error class; `entity` (a `*` glob) matches the
 * root-cause entity or any entity the incident touches. A silence with no matcher covers nothing,
 * so a malformed one can never mute everything.
 */
export function silenceMatches(silence: Silence, incident: Incident): boolean {
  if (!silence.kind && !silence.entity) return false;
  if (silence.kind) {
    const kind = silence.kind;
    const kindHolds =
      incident.rootCause?.kind === kind ||
      incident.signals.some((s) => s.kind === kind || s.errorClass === kind);
    if (!kindHolds) return false;
  }
  if (silence.entity) {
    const pattern = globToRegExp(silence.entity);
    const entities = incident.rootCause
      ? [incident.rootCause.entity, ...incident.entities]
      : incident.entities;
    if (!entities.some((e) => pattern.test(e))) return false;
  }
  return true;
}

/** The first active silence (at `now`) that covers the incident, if any. */
export function findSilence(
  silences: readonly Silence[],
  incident: Incident,
  now: number,
): Silence | undefined {
  return silences.find((s) => s.expiresAt > now && s.createdAt <= now && silenceMatches(s, incident));
}

/** `*` matches any run of characters; everything else is literal; the whole key must match. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  return new RegExp(`^${escaped}$`);
}

/** What a silence covers, for people: `kind spot_interruption on host:10.0.3.17`. */
export function describeSilence(silence: Pick<Silence, 'kind' | 'entity'>): string {
  const parts: string[] = [];
  if (silence.kind) parts.push(`kind ${silence.kind}`);
  if (silence.entity) parts.push(`${parts.length ? 'on ' : 'entity '}${silence.entity}`);
  return parts.join(' ') || 'nothing';
}
