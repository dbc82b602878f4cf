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

/**
 * The message's layout, which a draft fills and is validated against: the title is the header's
 * cause (the header adds the impact and stays within Slack's 150), every field is one line, one
 * to three next steps, so the first post keeps to its 15 lines.
 */
export const DRAFT_LIMITS = {
  title: 100,
  summary: 300,
  probableCause: 300,
  impact: 300,
  nextSteps: 3,
  nextStep: 700,
  runbookIds: 5,
} as const;
