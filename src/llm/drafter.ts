import type { Incident } from '../core/index.ts';
import type { DiagnosticResult } from '../diagnostics/diagnostic.ts';
import type { RecordedEvent, TokenUsage } from '../incidents/store.ts';
import type { MatchedPlaybook } from '../playbooks/match.ts';
import type { IncidentDraft } from './draft.ts';

/** What the drafter is given: the incident's facts and what Guardian knows around them. */
export interface DraftRequest {
  readonly incident: Incident;
  /** Playbooks that matched, best first; the draft may only cite these. */
  readonly playbooks: readonly MatchedPlaybook[];
  readonly timeline: readonly RecordedEvent[];
  /** Earlier incidents with the same root-cause kind or entity, newest first. */
  readonly similar: readonly Incident[];
  /** What the matched playbooks' diagnostics found (redacted, untrusted), when they were gathered. */
  readonly diagnostics?: readonly DiagnosticResult[];
}

/** Why a draft did not come: each keeps the deterministic template in place. */
export type DraftFailure =
  | 'timeout'
  | 'rate_limited'
  | 'overloaded'
  | 'server_error'
  | 'connection'
  | 'refusal'
  | 'malformed'
  | 'no_tool_use'
  | 'invalid_request'
  | 'auth'
  | 'budget';

export type DraftResult =
  | {
      readonly ok: true;
      readonly draft: IncidentDraft;
      readonly usage: TokenUsage;
      readonly model: string;
      /** What validation cut, dropped or repaired (for the log). */
      readonly repairs: readonly string[];
    }
  | {
      readonly ok: false;
      readonly reason: DraftFailure;
      readonly message: string;
      readonly usage: TokenUsage;
      readonly retryAfterMs?: number;
    };

/**
 * Drafts the prose of an incident message. Never throws: a failing, slow or refusing model is a
 * {@link DraftResult} with `ok: false`, and the notifier keeps its template.
 */
export interface IncidentDrafter {
  /** The model id, for the timeline and metrics. */
  readonly model: string;
  draft(request: DraftRequest, signal?: AbortSignal): Promise<DraftResult>;
}
