import type { Incident } from '../core/index.ts';
import { incidentVariables, type LinkSettings, type RunbookLink, runbookLinks } from './links.ts';
import type { Playbook } from './load.ts';
import type { EntityPattern } from './schema.ts';

/** A playbook that matches an incident, why, and its links made for that incident. */
export interface MatchedPlaybook {
  readonly playbook: Playbook;
  /** Higher is a better match. */
  readonly score: number;
  /** Why it matched (`root cause kind spot_interruption`). */
  readonly reasons: readonly string[];
  readonly links: readonly RunbookLink[];
}

/**
 * Playbooks for an incident, best first: a root-cause kind match outranks an error-class match,
 * which outranks a match on some signal's kind. The fallback playbook comes back only when
 * nothing else matches.
 */
export class PlaybookCatalog {
  readonly playbooks: readonly Playbook[];
  readonly #links: LinkSettings;
  readonly #byId: ReadonlyMap<string, Playbook>;

  constructor(playbooks: readonly Playbook[], links: LinkSettings = {}) {
    this.playbooks = playbooks;
    this.#links = links;
    this.#byId = new Map(playbooks.map((p) => [p.id, p]));
  }

  get(id: string): Playbook | undefined {
    return this.#byId.get(id);
  }

  /** At most `limit` matching playbooks, best first. */
  match(incident: Incident, limit = 3): MatchedPlaybook[] {
    const scored: { playbook: Playbook; score: number; reasons: string[] }[] = [];
    for (const playbook of this.playbooks) {
      if (playbook.match.fallback) continue;
      const result = scorePlaybook(playbook, incident);
      if (result.score > 0) scored.push({ playbook, ...result });
    }
    if (scored.length === 0) {
      const fallback = this.playbooks.find((p) => p.match.fallback);
      if (fallback) scored.push({ playbook: fallback, score: 0, reasons: ['fallback'] });
    }
    scored.sort((a, b) => b.score - a.score || (a.playbook.id < b.playbook.id ? -1 : 1));
    const variables = incidentVariables(incident, this.#links);
    return scored.slice(0, limit).map((s) => ({
      ...s,
      links: runbookLinks(s.playbook.id, s.playbook.runbooks, variables),
    }));
  }
}

/** How well `playbook` matches `incident`: 0 when it does not. Exported for its tests. */
export function scorePlaybook(playbook: Playbook, incident: Incident): { score: number; reasons: string[] } {
  const m = playbook.match;
  const reasons: string[] = [];
  let score = 0;
  const rc = incident.rootCause;
  const firing = incident.signals.filter((s) => s.status === 'firing');
  const signals = firing.length > 0 ? firing : incident.signals;

  if (rc && m.root_cause_kinds.includes(rc.kind)) {
    score += 100;
    reasons.push(`root cause kind ${rc.kind}`);
  }
  if (rc && m.signal_kinds.includes(rc.kind)) {
    score += 80;
    reasons.push(`root cause signal ${rc.kind}`);
  }
  if (rc?.errorClass && m.error_classes.includes(rc.errorClass)) {
    score += 60;
    reasons.push(`root cause error class ${rc.errorClass}`);
  } else {
    const cls = signals.find((s) => s.errorClass && m.error_classes.includes(s.errorClass))?.errorClass;
    if (cls) {
      score += 30;
      reasons.push(`error class ${cls}`);
    }
  }
  const kinds = [...new Set(signals.map((s) => s.kind))].filter(
    (k) => k !== rc?.kind && m.signal_kinds.includes(k),
  );
  if (kinds.length > 0) {
    score += 20 + Math.min(kinds.length - 1, 3) * 5;
    reasons.push(`signal kind ${kinds.join(', ')}`);
  }
  if (score > 0 && m.entities.length > 0) {
    const keys = rc ? [rc.entity, ...incident.entities] : incident.entities;
    if (!keys.some((k) => m.entities.some((p) => entityMatches(p, k)))) return { score: 0, reasons: [] };
  }
  return { score, reasons };
}

function entityMatches(pattern: EntityPattern, key: string): boolean {
  if (typeof pattern !== 'string') return new RegExp(`^(?:${pattern.regex})$`).test(key);
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
  return re.test(key);
}
