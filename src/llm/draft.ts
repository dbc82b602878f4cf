/**
 * The prose of an incident message as the LLM drafts it, after validation: every field within
 * its limit, runbook ids only of playbooks that matched the incident. The facts around it
 * (status, severity, impact figures, buttons, links) are never the model's: the template renders
 * those from the incident itself.
 */
export interface IncidentDraft {
  readonly title: string;
  readonly summary: string;
  readonly probableCause: { readonly text: string; readonly confidence: number };
  readonly impact: string;
  readonly nextSteps: readonly string[];
  readonly runbookIds: readonly string[];
}

/** Limits a draft is cut to: inside Block Kit's (header 150, section 3000) with room for framing. */
export const DRAFT_LIMITS = {
  title: 120,
  summary: 1200,
  probableCause: 800,
  impact: 600,
  nextSteps: 6,
  nextStep: 300,
  runbookIds: 5,
} as const;
