import { z } from 'zod';
import type { Incident } from '../core/index.ts';
import { withoutInvisible } from '../logs/redact.ts';
import { DRAFT_LIMITS, type IncidentDraft } from './draft.ts';

/** The tool input the model is asked for (snake_case, as in the tool's JSON schema). */
const toolInputSchema = z.object({
  title: z.string(),
  summary: z.string(),
  probable_cause: z.object({ text: z.string(), confidence: z.number() }),
  impact: z.string().default(''),
  next_steps: z.array(z.string()).default([]),
  runbook_ids: z.array(z.string()).default([]),
});

/** What a draft may refer to: the incident's own facts and the playbooks that matched it. */
export interface DraftFacts {
  readonly incident: Incident;
  /** Ids of the matched playbooks. */
  readonly playbookIds: readonly string[];
  /** Links the draft may contain (the matched playbooks' runbook links, Guardian's incident link). */
  readonly allowedUrls: readonly string[];
}

export interface ValidatedDraft {
  /** Null when nothing usable is left: the template stays. */
  readonly draft: IncidentDraft | null;
  /** Why the input is unusable, when `draft` is null. */
  readonly problem?: string;
  /** What was cut, dropped or repaired. */
  readonly repairs: readonly string[];
}

/** Canonical entity keys (`core/entity-keys.ts`) as they can appear inside prose. */
const ENTITY_KEY =
  /\b(?:airflow:(?:task|dagrun|dag|import|scheduler)|spark:(?:master|worker|connect|app|job|stage|executor)|host|metric|log):[^\s`'",;)]*/g;
const URL = /\bhttps?:\/\/[^\s<>`'")\]]+/gi;
/** Phrases of an instruction aimed at the model or at readers, not at an incident. */
const INSTRUCTION =
  /\b(ignore (all |any |the )?(previous|prior|above) (instructions|prompts?)|disregard (the |all )?(previous|prior|above)|system prompt|you are now|new instructions)\b/i;
/** Claims that nothing is wrong any more; only the incident's status may say that. */
const RESOLUTION_CLAIM =
  /(^\s*(resolved|fixed|recovered)\b)|\b((is|has been|was|were|are|now|been) (resolved|fixed|closed)|resolved itself|no (further )?action (is )?(needed|required)|nothing to do|all clear|false alarm|can be ignored|safe to ignore)\b/i;
const CHANNEL_REF = /(^|[\s(])#[a-z0-9][a-z0-9_-]{1,79}\b/i;
const SLACK_SPECIAL = /<[!@#][^>]*>/g;
const MASS_MENTION = /@(channel|here|everyone)\b/gi;

/**
 * Checks and repairs the model's tool input. The draft can only add words: runbook ids must be
 * of matched playbooks, entity keys must be the incident's, links must be ones Guardian made;
 * a sentence that breaks a rule (or reads like an instruction, or claims the incident is over
 * while it is not) is dropped; every field is cut to its limit. Log text is untrusted, and a
 * model that was fooled by it should not be able to change what the message says is true.
 */
export function validateDraft(input: unknown, facts: DraftFacts): ValidatedDraft {
  const parsed = toolInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      draft: null,
      problem: `${issue.path.join('.') || '(input)'}: ${issue.message}`,
      repairs: [],
    };
  }
  const raw = parsed.data;
  const repairs: string[] = [];
  const known = knownEntities(facts.incident);
  const allowed = new Set(facts.allowedUrls);
  const clean = (field: string, text: string, max: number) =>
    cleanText(field, text, max, { incident: facts.incident, known, allowed, repairs });

  const title = clean('title', raw.title, DRAFT_LIMITS.title).replace(/\.$/, '');
  const summary = clean('summary', raw.summary, DRAFT_LIMITS.summary);
  const causeText = clean('probable_cause.text', raw.probable_cause.text, DRAFT_LIMITS.probableCause);
  const impact = clean('impact', raw.impact, DRAFT_LIMITS.impact);
  let nextSteps = raw.next_steps
    .map((s, i) => clean(`next_steps.${i}`, s, DRAFT_LIMITS.nextStep))
    .filter((s) => s.length > 0);
  if (nextSteps.length > DRAFT_LIMITS.nextSteps) {
    repairs.push(`next_steps: kept ${DRAFT_LIMITS.nextSteps} of ${nextSteps.length}`);
    nextSteps = nextSteps.slice(0, DRAFT_LIMITS.nextSteps);
  }
  const ids = new Set(facts.playbookIds);
  const runbookIds = [...new Set(raw.runbook_ids)].filter((id) => {
    if (ids.has(id)) return true;
    repairs.push(`runbook_ids: dropped ${JSON.stringify(id.slice(0, 80))} (not a matched playbook)`);
    return false;
  });
  let confidence = raw.probable_cause.confidence;
  if (!Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
    const fixed = Number.isFinite(confidence)
      ? Math.min(1, Math.max(0, confidence))
      : (facts.incident.rootCause?.confidence ?? 0);
    repairs.push(`probable_cause.confidence: ${confidence} → ${fixed}`);
    confidence = fixed;
  }

  if (!summary && !causeText) {
    return { draft: null, problem: 'nothing usable is left in summary and probable_cause', repairs };
  }
  return {
    draft: {
      title: title || facts.incident.title.slice(0, DRAFT_LIMITS.title),
      summary,
      probableCause: { text: causeText, confidence },
      impact,
      nextSteps,
      runbookIds: runbookIds.slice(0, DRAFT_LIMITS.runbookIds),
    },
    repairs,
  };
}

/** A draft read back from the store: the shape is checked again, anything else is refused. */
export function parseStoredDraft(raw: unknown): IncidentDraft | null {
  const parsed = storedDraftSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

const storedDraftSchema = z.object({
  title: z.string().max(DRAFT_LIMITS.title),
  summary: z.string().max(DRAFT_LIMITS.summary),
  probableCause: z.object({
    text: z.string().max(DRAFT_LIMITS.probableCause),
    confidence: z.number().min(0).max(1),
  }),
  impact: z.string().max(DRAFT_LIMITS.impact),
  nextSteps: z.array(z.string().max(DRAFT_LIMITS.nextStep)).max(DRAFT_LIMITS.nextSteps),
  runbookIds: z.array(z.string()).max(DRAFT_LIMITS.runbookIds),
});

interface CleanContext {
  readonly incident: Incident;
  readonly known: ReadonlySet<string>;
  readonly allowed: ReadonlySet<string>;
  readonly repairs: string[];
}

function cleanText(field: string, text: string, max: number, ctx: CleanContext): string {
  // Control characters out, whitespace runs folded; Slack's special sequences (<!channel>,
  // <@U…>, <#C…>) and bare mass mentions cannot survive into a message.
  let out = withoutInvisible(text)
    .replace(SLACK_SPECIAL, '')
    .replace(MASS_MENTION, '$1')
    .replace(/[ \t]+/g, ' ')
    .trim();
  const sentences = splitSentences(out);
  const kept = sentences.filter((sentence) => {
    const why = rejection(sentence, ctx);
    if (why) ctx.repairs.push(`${field}: dropped a sentence (${why})`);
    return !why;
  });
  out = kept.join(' ').trim();
  if (out.length > max) {
    ctx.repairs.push(`${field}: cut from ${out.length} to ${max} characters`);
    out = `${out.slice(0, max - 1).trimEnd()}…`;
  }
  return out;
}

function rejection(sentence: string, ctx: CleanContext): string | undefined {
  if (INSTRUCTION.test(sentence)) return 'reads like an instruction';
  if (CHANNEL_REF.test(sentence)) return 'names a Slack channel';
  if (ctx.incident.status !== 'resolved' && RESOLUTION_CLAIM.test(sentence)) {
    return 'claims the incident is over while it is open';
  }
  for (const m of sentence.matchAll(URL)) {
    const url = m[0].replace(/[.,;:]+$/, '');
    if (!ctx.allowed.has(url)) return `links to ${url.slice(0, 60)}, not a link Guardian made`;
  }
  for (const m of sentence.matchAll(ENTITY_KEY)) {
    const key = m[0].replace(/[.,;:]+$/, '');
    if (!ctx.known.has(key)) return `names ${key.slice(0, 80)}, not an entity of this incident`;
  }
  return undefined;
}

/** Sentences (and list lines) of a text; a sentence ends at `.`, `!` or `?` followed by space. */
function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=\S)|\n+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Every entity key the incident knows: its entities, its signals' and the root cause's. */
export function knownEntities(incident: Incident): Set<string> {
  const keys = new Set<string>(incident.entities);
  for (const s of incident.signals) {
    keys.add(s.entity);
    for (const r of s.related) keys.add(r);
  }
  if (incident.rootCause) keys.add(incident.rootCause.entity);
  for (const t of incident.impact?.tasks ?? []) keys.add(t.entity);
  return keys;
}
