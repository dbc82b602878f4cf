import type { Evidence, ImpactTask, Incident, IncidentSignal, Severity } from '../core/index.ts';
import { evidenceText, parseTaskKey, severityRank, timeOfDay } from '../core/index.ts';
import { goneAbsences } from '../correlation/incident-state.ts';
import type { DiagnosticResult } from '../diagnostics/diagnostic.ts';
import type { Actor } from '../incidents/store.ts';
import type { IncidentDraft } from '../llm/draft.ts';
import { ERROR_LINE_LABEL, EXCEPTION_LABEL } from '../logs/failure-text.ts';
import { redact, redactCut } from '../logs/redact.ts';
import { errorClass } from '../logs/signatures.ts';
import { BLOCK_KIT, blocksSize, escapeMrkdwn, truncate } from './block-kit.ts';
import type { SlackBlock, SlackMessage } from './channel.ts';

/** A playbook as the message shows it: its title, links made for this incident, first fix steps. */
export interface PlaybookRef {
  readonly id: string;
  readonly title: string;
  readonly links: readonly { readonly title: string; readonly url: string }[];
  /** The first steps of its "How to fix", shown when there is no LLM draft. */
  readonly fixSteps?: readonly string[];
}

/** Something a person did to the incident, shown in the message with who did it. */
export interface HumanAction {
  readonly type: 'acknowledged' | 'resolved' | 'reopened' | 'silenced';
  readonly actor: Actor;
  readonly at: number;
  /** For silences: what was silenced until when. */
  readonly text?: string;
}

/** How an incident message is rendered. */
export interface RenderOptions {
  /** Link to the incident in Guardian's API or UI; no link when absent. */
  incidentUrl?: (id: string) => string;
  /** The validated LLM draft; its prose replaces the template's where it has some. */
  draft?: IncidentDraft | null;
  /** Matching playbooks, best first: runbook buttons and, without a draft, next steps. */
  playbooks?: readonly PlaybookRef[];
  /** What people did, oldest first: the latest acknowledgement or resolution is named. */
  actions?: readonly HumanAction[];
  /**
   * Show the Acknowledge / Resolve / Silence / Reopen buttons (they need the Slack app).
   * @defaultValue true
   */
  buttons?: boolean;
}

/** What the thread has not been told yet, for {@link renderThreadUpdate}. */
export interface ThreadChanges {
  /** Signals that joined since the last reply. */
  readonly joined: readonly IncidentSignal[];
  /** Signals that cleared since the last reply. */
  readonly cleared: readonly IncidentSignal[];
  /** Signals that fired again after clearing. */
  readonly refired: readonly IncidentSignal[];
  readonly severity?: { readonly from: Severity; readonly to: Severity };
  readonly status?: {
    readonly from: Incident['status'];
    readonly to: Incident['status'];
    readonly by?: Actor;
  };
  /** What the matched playbooks' diagnostics found, not yet told in the thread. */
  readonly diagnostics?: readonly DiagnosticResult[];
  /** Tell the details the top-level message leaves out ({@link renderIncidentDetails}). */
  readonly details?: boolean;
}

/** Action ids of the message's interactive elements; the Slack app routes on them. */
export const ACTION_IDS = {
  acknowledge: 'guardian_ack',
  resolve: 'guardian_resolve',
  reopen: 'guardian_reopen',
  silence: 'guardian_silence',
  runbook: 'guardian_runbook',
} as const;

/** Durations offered by the Silence menu, as option value suffixes. */
export const SILENCE_DURATIONS: readonly { readonly label: string; readonly value: string }[] = [
  { label: '1 hour', value: '1h' },
  { label: '4 hours', value: '4h' },
  { label: '24 hours', value: '24h' },
  { label: '7 days', value: '7d' },
];

/** Message metadata event type of incident posts (how a retry finds a post it never recorded). */
export const INCIDENT_EVENT_TYPE = 'guardian_incident';

const SEVERITY_EMOJI: Readonly<Record<Severity, string>> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  low: ':large_yellow_circle:',
  info: ':large_blue_circle:',
};

/**
 * Caps that keep the worst case (hundreds of signals, thousands of entities, megabytes of log
 * lines) well inside Block Kit's per-block limits and under the ~12k characters a whole message
 * can hold. Each section stays below its cap even when every line is at its own cap.
 */
const LIMITS = {
  signals: 8,
  signalTitle: 120,
  entities: 10,
  entity: 160,
  evidenceItems: 6,
  evidenceText: 400,
  logLines: 10,
  logLine: 160,
  logBlock: 1500,
  /** DAGs named in the impact, one line each; the rest are counted. */
  impactDags: 3,
  impactTasksPerDag: 4,
  rootCauseEvidence: 5,
  rootCauseEvidenceLine: 240,
  /** The probable cause and its reason, the draft's impact: one line each. */
  causeLine: 300,
  /** Next steps shown: 1 to 3, each in full (a playbook step is a few lines of Markdown). */
  fixSteps: 3,
  fixStep: 700,
  runbookButtons: 5,
  fallbackTitle: 200,
  threadItems: 6,
  /** Diagnostics shown in one thread reply (each is one section). */
  diagnostics: 8,
  /** Whole-message budget, with room to spare below Slack's undocumented ~13k `msg_blocks_too_long`. */
  messageChars: 9000,
} as const;

/**
 * The incident's top-level message, written for an engineer woken at 3 a.m. and kept to what
 * they act on: a header with the cause and the impact in one line (at most 150 characters); then
 * at most 15 lines: the status and since when, the impact in DAG and task terms (and what heals
 * by itself: tasks up for retry), the probable cause with its confidence and the one-line reason,
 * one to three next steps in full (the LLM's when a validated draft is given, the matching
 * playbook's otherwise), runbook buttons, the Acknowledge / Resolve / Silence / Reopen controls
 * and a context line. Evidence, signals, log templates and diagnostics go to the thread
 * ({@link renderIncidentDetails}, {@link renderThreadUpdate}).
 *
 * Deterministic: the same inputs render the same message (the notifier compares renders to
 * decide whether Slack needs an edit), so nothing here reads the clock. Every render passes
 * {@link validateBlocks}: long content is cut with `…` and long lists end with "+N more".
 */
export function renderIncidentMessage(incident: Incident, options: RenderOptions = {}): SlackMessage {
  const draft = options.draft ?? null;
  const unexplained = firstFailureOnly(incident);
  const cause = oneLine(draft?.title || unexplained?.headline || incident.rootCause?.title || incident.title);
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: headline(incident, cause), emoji: true } },
    section(statusLine(incident, options.actions ?? [])),
  ];

  const impact = impactSection(incident, draft);
  if (impact) blocks.push(section(impact));

  const why = causeSection(incident, draft, unexplained);
  if (why) blocks.push(section(why));

  const steps = nextSteps(draft, options.playbooks ?? []);
  if (steps) blocks.push(section(steps));

  const runbooks = runbookButtons(draft, options.playbooks ?? []);
  if (runbooks.length > 0)
    blocks.push({ type: 'actions', block_id: 'guardian_runbooks', elements: runbooks });
  if (options.buttons !== false) {
    blocks.push({ type: 'actions', block_id: 'guardian_lifecycle', elements: lifecycleElements(incident) });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: contextLine(incident, options) }] });

  return { text: fallbackText(incident, cause, draft), blocks: fitMessage(blocks) };
}

/**
 * The first reply in the incident's thread: what the top-level message leaves out so that it
 * stays short. The signals (firing and cleared), why Guardian blames the root cause, the leading
 * signal's evidence (values, log templates and lines, in code blocks), and the entities touched.
 */
export function renderIncidentDetails(incident: Incident): SlackMessage {
  const ordered = [...incident.signals].sort(byImportance);
  const blocks: SlackBlock[] = [];
  if (ordered.length > 0) {
    blocks.push(
      section(
        `:mag: *What happened* (${count(ordered.length, 'signal')})\n${signalLines(ordered).join('\n')}`,
      ),
    );
  }
  const rc = incident.rootCause;
  const because = rc?.evidence ?? [];
  if (rc && because.length > 0) {
    const shown = because
      .slice(0, LIMITS.rootCauseEvidence)
      .map((e) => `• ${escapeMrkdwn(truncate(oneLine(e), LIMITS.rootCauseEvidenceLine))}`);
    if (because.length > LIMITS.rootCauseEvidence)
      shown.push(`_+${because.length - LIMITS.rootCauseEvidence} more_`);
    const cls = rc.errorClass ? ` · error class ${code(truncate(rc.errorClass, 80))}` : '';
    blocks.push(
      section(
        `*Why ${escapeMrkdwn(truncate(rc.title ?? rc.kind, 150))}* · ${code(truncate(rc.entity, LIMITS.entity))} · ${escapeMrkdwn(truncate(rc.kind, 80))}${cls}\n${shown.join('\n')}`,
      ),
    );
  }
  const top = ordered[0];
  const evidence = top ? evidenceLines(top.evidence) : [];
  if (top && evidence.length > 0) {
    blocks.push(
      section(
        `*Evidence* · ${escapeMrkdwn(truncate(top.title, LIMITS.signalTitle))}\n${evidence.join('\n')}`,
      ),
    );
  }
  if (incident.entities.length > 0) {
    const shown = incident.entities.slice(0, LIMITS.entities).map((e) => code(truncate(e, LIMITS.entity)));
    const more = incident.entities.length - LIMITS.entities;
    blocks.push(
      section(
        `*Entities* (${incident.entities.length})\n${shown.join(' · ')}${more > 0 ? ` _+${more} more_` : ''}`,
      ),
    );
  }
  if (blocks.length === 0) blocks.push(section('_No further details._'));
  const text = truncate(`Details: ${truncate(incident.title, LIMITS.fallbackTitle)}`, BLOCK_KIT.fallbackText);
  return { text, blocks: fitMessage(blocks) };
}

/**
 * One thread reply saying everything that changed since the last reply, summarised: who
 * acknowledged, resolved or reopened it, signals that joined, cleared or fired again, a severity
 * change, and the impact now. Null when there is nothing to say.
 */
export function renderThreadUpdate(incident: Incident, changes: ThreadChanges): SlackMessage | null {
  const lines: string[] = [];
  const plain: string[] = [];
  const by = (a: Actor | undefined) => (a ? ` by ${mention(a)}` : '');
  const status = changes.status;
  if (status?.to === 'resolved' && incident.mergedInto) {
    lines.push(
      `:twisted_rightwards_arrows: *Merged* into ${code(incident.mergedInto)}: one cause, followed there.`,
    );
    plain.push(`merged into ${incident.mergedInto}`);
  } else if (status?.to === 'resolved') {
    const lasted =
      incident.resolvedAt === null ? '' : ` after ${duration(incident.resolvedAt - incident.openedAt)}`;
    const at = incident.resolvedAt === null ? '' : ` at ${utc(incident.resolvedAt)}`;
    lines.push(
      `:white_check_mark: *Resolved*${lasted}${at}${status.by ? by(status.by) : `: ${whyEnded(incident)}`}.`,
    );
    plain.push(`resolved${lasted}`);
  } else if (status?.to === 'acknowledged') {
    lines.push(`:eyes: *Acknowledged*${by(status.by)}.`);
    plain.push('acknowledged');
  } else if (status && status.from === 'resolved') {
    lines.push(`:leftwards_arrow_with_hook: *Reopened*${by(status.by)}.`);
    plain.push('reopened');
  }
  if (changes.severity) {
    const up = severityRank(changes.severity.to) > severityRank(changes.severity.from);
    lines.push(
      `${up ? ':arrow_up: *Severity raised' : ':arrow_down: *Severity lowered'} to ${changes.severity.to}* ${SEVERITY_EMOJI[changes.severity.to]} (was ${changes.severity.from}).`,
    );
    plain.push(`severity ${changes.severity.to}`);
  }
  const list = (signals: readonly IncidentSignal[]) => {
    const shown = signals
      .slice(0, LIMITS.threadItems)
      .map(
        (s) =>
          `• ${escapeMrkdwn(truncate(s.title, LIMITS.signalTitle))} (${s.severity}) on ${code(truncate(s.entity, LIMITS.entity))}`,
      );
    if (signals.length > LIMITS.threadItems) shown.push(`_+${signals.length - LIMITS.threadItems} more_`);
    return shown.join('\n');
  };
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  if (changes.joined.length > 0) {
    lines.push(`:heavy_plus_sign: *${count(changes.joined.length, 'new signal')}*:\n${list(changes.joined)}`);
    plain.push(count(changes.joined.length, 'new signal'));
  }
  if (changes.refired.length > 0) {
    lines.push(
      `:repeat: *${count(changes.refired.length, 'signal')} fired again*:\n${list(changes.refired)}`,
    );
    plain.push(`${count(changes.refired.length, 'signal')} fired again`);
  }
  if (changes.cleared.length > 0 && status?.to !== 'resolved') {
    lines.push(
      `:white_check_mark: *${count(changes.cleared.length, 'signal')} cleared*:\n${list(changes.cleared)}`,
    );
    plain.push(`${count(changes.cleared.length, 'signal')} cleared`);
  }
  const diagnostics = diagnosticsBlocks(changes.diagnostics ?? []);
  if (diagnostics.length > 0) plain.push('diagnostics');
  const details = changes.details ? renderIncidentDetails(incident).blocks : [];
  if (details.length > 0) plain.unshift('details');
  if (lines.length === 0 && diagnostics.length === 0 && details.length === 0) return null;
  const firing = incident.signals.filter((s) => s.status === 'firing').length;
  const tasks = incident.impact?.tasks ?? [];
  const failed = tasks.filter((t) => t.state !== 'recovered').length;
  const now =
    incident.status === 'resolved'
      ? ''
      : `_Now: ${firing} of ${incident.signals.length} signals firing${tasks.length > 0 ? `, ${failed} of ${tasks.length} tasks not recovered` : ''}._`;
  const text = truncate(
    `[${incident.status.toUpperCase()}] ${truncate(incident.title, LIMITS.fallbackTitle)}: ${plain.join(', ')}`,
    BLOCK_KIT.fallbackText,
  );
  const summary = lines.length > 0 ? [section([...lines, now].filter(Boolean).join('\n'))] : [];
  return { text, blocks: fitMessage([...details, ...summary, ...diagnostics]) };
}

/**
 * The "Diagnostics" part of a thread reply: one section per diagnostic, its label and its lines
 * as inert text in a code block (links defanged, like log evidence), or why it is unavailable.
 * The gatherer already redacted and capped the text; each block stays within Block Kit's limit.
 */
function diagnosticsBlocks(all: readonly DiagnosticResult[]): SlackBlock[] {
  const results = all.filter((r) => r.status !== 'skipped');
  if (results.length === 0) return [];
  const blocks: SlackBlock[] = [
    section(':mag: *Diagnostics* (gathered automatically from the matched playbooks)'),
  ];
  for (const r of results.slice(0, LIMITS.diagnostics)) {
    const label = escapeMrkdwn(truncate(r.label, 200));
    if (r.status === 'unavailable') {
      blocks.push(
        section(`• *${label}*: _unavailable: ${escapeMrkdwn(defang(truncate(r.reason ?? 'unknown', 300)))}_`),
      );
      continue;
    }
    blocks.push(section(`• *${label}*\n${logBlock(r.lines)}`));
  }
  return blocks;
}

/** Why an incident resolved on its own: its conditions cleared, the last one named. */
function whyEnded(incident: Incident): string {
  const n = incident.signals.length;
  // Resolved with signals still firing: the host the cause took away is not coming back (its
  // replacement reports under another name), and every task it hit has recovered.
  const gone = goneAbsences(incident).length;
  if (gone > 0 && incident.rootCause) {
    const host = incident.rootCause.entity.replace(/^host:/, '');
    return `every affected task recovered; ${host} is gone, so its ${gone} absence ${gone === 1 ? 'signal stays' : 'signals stay'} as they are`;
  }
  const last = [...incident.signals]
    .filter((s) => s.status === 'resolved')
    .sort((a, b) => b.lastSeen - a.lastSeen || compareStrings(a.fingerprint, b.fingerprint))[0];
  const all = n === 1 ? 'its signal cleared' : `all ${n} signals cleared`;
  return last && n > 1
    ? `${all}, the last at ${utc(last.lastSeen)}: ${escapeMrkdwn(truncate(last.title, LIMITS.signalTitle))}`
    : all;
}

/** Longest header Slack shows; the cause comes first, so a cut only loses impact words. */
const HEADER_MAX = BLOCK_KIT.headerText;

/** `:emoji: cause — impact`, or `:white_check_mark: Resolved: cause — impact`, in one line. */
function headline(incident: Incident, cause: string): string {
  const impact = impactHeadline(incident);
  const lead =
    incident.status === 'resolved'
      ? ':white_check_mark: Resolved: '
      : `${SEVERITY_EMOJI[incident.severity]} `;
  const head = `${lead}${cause}`;
  if (!impact) return truncate(head, HEADER_MAX);
  const full = `${head} — ${impact}`;
  if (full.length <= HEADER_MAX) return full;
  // Keep the impact whole when the cause can give way; else cut the line.
  const room = HEADER_MAX - lead.length - impact.length - 3;
  return room >= 40 ? `${lead}${truncate(cause, room)} — ${impact}` : truncate(full, HEADER_MAX);
}

/** The impact in a few words for the header: "4 tasks in 3 DAGs failed", "2 Spark jobs failed". */
function impactHeadline(incident: Incident): string {
  const impact = incident.impact;
  if (!impact) return '';
  const tasks = impactCounts(impact);
  if (tasks.total > 0) {
    const where = tasks.dags > 0 ? ` in ${count(tasks.dags, 'DAG')}` : '';
    const states = tasks.phrases;
    if (states.length === 1)
      return `${count(tasks.total, 'task')}${where} ${states[0]!.replace(/^\d+ /, '')}`;
    return `${count(tasks.total, 'task')}${where}: ${states.join(', ')}`;
  }
  if (impact.sparkJobs > 0) return `${count(impact.sparkJobs, 'Spark job')} failed`;
  return '';
}

/** Tasks by what happened to them, in the order that matters: failed, then retrying, then the rest. */
function impactCounts(impact: NonNullable<Incident['impact']>): {
  total: number;
  dags: number;
  retrying: number;
  phrases: string[];
} {
  const by = new Map<string, number>();
  for (const t of impact.tasks) by.set(t.state, (by.get(t.state) ?? 0) + 1);
  const omitted = impact.omittedTasks ?? 0;
  const phrases = (
    [
      ['failed', 'failed'],
      ['upstream_failed', 'upstream failed'],
      ['retrying', 'up for retry'],
      ['recovered', 'recovered'],
    ] as const
  )
    .filter(([state]) => by.has(state))
    .map(([state, words]) => `${by.get(state)} ${words}`);
  if (omitted > 0) phrases.push(`${omitted} more`);
  return {
    total: impact.tasks.length + omitted,
    dags: impact.dags.length + (impact.omittedDags ?? 0),
    retrying: by.get('retrying') ?? 0,
    phrases,
  };
}

/** Probable cause, its confidence, and the one-line reason: the evidence that weighs most. */
function causeSection(
  incident: Incident,
  draft: IncidentDraft | null,
  unexplained: FirstFailureOnly | undefined,
): string | undefined {
  const rc = incident.rootCause;
  if (!rc && !draft?.probableCause.text) return undefined;
  const confidence = rc ? rc.confidence : draft!.probableCause.confidence;
  const head = `*Probable cause* · ${percent(confidence)} confidence`;
  if (draft?.probableCause.text) {
    return `${head}\n${escapeMrkdwn(truncate(oneLine(draft.probableCause.text), LIMITS.causeLine))}`;
  }
  if (unexplained) {
    return `*Probable cause* · not singled out yet\n${escapeMrkdwn(truncate(oneLine(unexplained.line), LIMITS.causeLine))}`;
  }
  const what = rc!.title ?? `${rc!.kind} on ${rc!.entity}`;
  const evidence = (rc!.evidence ?? []).filter((e) => e !== what);
  // The ranking's summary line ("… explains 7 of 8 failures in all") says more than a count of lines.
  const explains = evidence.map((e) => EXPLAINS.exec(e)).find((m) => m !== null);
  const rest = evidence.slice(1).filter((e) => !EXPLAINS.test(e)).length;
  const more = explains
    ? ` · explains ${explains[1]} of ${count(Number(explains[2]), 'failure')}`
    : rest > 0
      ? ` (and ${count(rest, 'more signal')})`
      : '';
  // A cause first seen as itself reads "… since 02:07:00Z", not its own title twice.
  const first = evidence[0] === undefined ? undefined : CLOCKED.exec(evidence[0]);
  const reason =
    evidence.length === 0
      ? ''
      : first && first[2] === what
        ? ` since ${first[1]}${more}`
        : `: ${evidence[0]}${more}`;
  return `${head}\n${escapeMrkdwn(truncate(oneLine(`${what}${reason}`), LIMITS.causeLine))}`;
}

/** What the message says instead of a cause when the root cause is only the first failure. */
interface FirstFailureOnly {
  /** For the header: what the failures share, else how many DAGs fail. */
  readonly headline: string;
  /** For the cause section: what they share, the first of them, and what was seen before it. */
  readonly line: string;
}

const FAILED_TRY_KINDS = new Set(['airflow.task_retry', 'airflow.task_failed']);
/** Signals that are themselves failures of work, never the evidence of what made it fail. */
const WORK = /^(airflow:(task|dagrun|dag):|spark:(job|stage):)/;

/**
 * The root cause is one of the incident's own failed tasks, ranked first only because it failed
 * first, while tasks of other DAGs fail too: nothing the graph holds explains them. Naming that
 * task as the cause would send the engineer to a victim. The message says so, says what the
 * failures share (their error class, else the exception, when most of them have one), which
 * failed first and the error its log ends with, and the most severe signal of something else
 * seen before it: the lead the ranking could not tie in, put before the error so that it stays
 * when the line is cut.
 */
function firstFailureOnly(incident: Incident): FirstFailureOnly | undefined {
  const rc = incident.rootCause;
  const dags = (incident.impact?.dags.length ?? 0) + (incident.impact?.omittedDags ?? 0);
  if (!rc?.entity.startsWith('airflow:task:') || dags < 2) return undefined;
  const tries = incident.signals.filter((s) => FAILED_TRY_KINDS.has(s.kind));
  if (!tries.some((s) => s.entity === rc.entity)) return undefined;
  let first = tries[0]!;
  const ways = new Map<string, number>();
  for (const s of tries) {
    if (s.firstSeen < first.firstSeen) first = s;
    const way = s.errorClass
      ? (errorClass(s.errorClass)?.title ?? s.errorClass)
      : evidenceText(s, EXCEPTION_LABEL);
    if (way) ways.set(way, (ways.get(way) ?? 0) + 1);
  }
  const [top, n] = [...ways].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0] ?? [];
  const shared = top !== undefined && n! * 2 >= tries.length ? top : undefined;
  let lead: IncidentSignal | undefined;
  for (const s of incident.signals) {
    if (WORK.test(s.entity) || s.firstSeen > first.firstSeen) continue;
    if (severityRank(s.severity) < severityRank('high')) continue;
    if (
      !lead ||
      severityRank(s.severity) > severityRank(lead.severity) ||
      (s.severity === lead.severity && s.firstSeen < lead.firstSeen)
    )
      lead = s;
  }
  const task = parseTaskKey(first.entity);
  const name = task ? `${task.dagId}.${task.taskId}` : first.entity;
  const alike = shared
    ? `${count(dags, 'DAG')} fail alike: ${shared}`
    : `tasks of ${count(dags, 'DAG')} fail`;
  // The lead before the first failure: on a long line, the error text is what gives way.
  const before = lead ? ` · before them: ${lead.title} at ${timeOfDay(lead.firstSeen)}` : '';
  const said = evidenceText(first, ERROR_LINE_LABEL);
  const error = said ? `: ${redactCut(said, 200)}` : '';
  return {
    headline: shared ?? `Failures in ${count(dags, 'DAG')}`,
    line: `${alike}${before} · first ${name} at ${timeOfDay(first.firstSeen)}${error}`,
  };
}

/** An evidence line led by the time it was seen (`02:07:00Z …`). */
const CLOCKED = /^(\d\d:\d\d:\d\dZ) (.*)$/s;
/** The root cause's summary of how much of the incident it explains. */
const EXPLAINS = /^… explains (\d+) of (\d+) failures/;

/**
 * Impact in DAG and task terms: one line of figures (and what heals by itself), a line per DAG
 * naming its tasks and their state, the draft's words. Without tasks, what is affected, in words.
 */
function impactSection(incident: Incident, draft: IncidentDraft | null): string | undefined {
  const impact = incident.impact;
  const prose = draft?.impact ? `\n${escapeMrkdwn(truncate(oneLine(draft.impact), LIMITS.causeLine))}` : '';
  if (!impact || (impact.tasks.length === 0 && (impact.omittedTasks ?? 0) === 0)) {
    const jobs = impact && impact.sparkJobs > 0 ? `${count(impact.sparkJobs, 'Spark job')} failed · ` : '';
    const affected = affectedInWords(incident.entities);
    if (!jobs && !affected) return prose ? `*Impact*${prose}` : undefined;
    return `*Impact* · ${jobs}${escapeMrkdwn(affected)}${prose}`;
  }
  const c = impactCounts(impact);
  const heals =
    c.retrying > 0
      ? ` · ${c.retrying === 1 ? 'the task up for retry runs' : `the ${c.retrying} tasks up for retry run`} again on their own`
      : '';
  const allRecovered = (impact.omittedTasks ?? 0) === 0 && impact.tasks.every((t) => t.state === 'recovered');
  const jobs = impact.sparkJobs > 0 ? ` · ${count(impact.sparkJobs, 'Spark job')} failed` : '';
  const lines = [
    `*Impact* · ${count(c.total, 'task')} in ${count(c.dags, 'DAG')}: ${c.phrases.join(', ')}${jobs}${allRecovered ? ' · :white_check_mark: all recovered' : heals}`,
  ];
  const byDag = new Map<string, ImpactTask[]>();
  for (const t of impact.tasks) byDag.set(t.dagId, [...(byDag.get(t.dagId) ?? []), t]);
  const dags = [...byDag.entries()].sort(
    (a, b) =>
      Math.min(...a[1].map((t) => taskRank(t.state))) - Math.min(...b[1].map((t) => taskRank(t.state))) ||
      compareStrings(a[0], b[0]),
  );
  for (const [dag, tasks] of dags.slice(0, LIMITS.impactDags)) {
    const sorted = [...tasks].sort(
      (a, b) => taskRank(a.state) - taskRank(b.state) || compareStrings(a.taskId, b.taskId),
    );
    const shown = sorted
      .slice(0, LIMITS.impactTasksPerDag)
      .map(
        (t) =>
          `${escapeMrkdwn(truncate(t.taskId, 80))} ${TASK_STATE_WORDS[t.state] ?? escapeMrkdwn(t.state)}`,
      );
    const more = sorted.length - shown.length;
    const run = runLabel(sorted[0]!.runId);
    lines.push(
      `• ${code(truncate(dag, 80))}${run ? ` (${escapeMrkdwn(run)})` : ''}: ${shown.join(', ')}${more > 0 ? ` _+${more} more_` : ''}`,
    );
  }
  const moreDags = dags.length - Math.min(dags.length, LIMITS.impactDags) + (impact.omittedDags ?? 0);
  if (moreDags > 0) lines.push(`_+${count(moreDags, 'more DAG')}_`);
  return `${lines.join('\n')}${prose}`;
}

const TASK_STATE_WORDS: Readonly<Record<string, string>> = {
  failed: ':x: failed',
  retrying: ':hourglass_flowing_sand: up for retry',
  upstream_failed: ':no_entry_sign: upstream failed',
  recovered: ':white_check_mark: recovered',
};

/** `scheduled__2026-09-14T02:00:00+00:00` → `run of 2026-09-14 02:00`; other run ids as they are. */
function runLabel(runId: string): string {
  const m =
    /^(scheduled|manual|backfill|asset_triggered|dataset_triggered)__(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(
      runId,
    );
  if (m) return `${m[1] === 'scheduled' ? '' : `${m[1]} `}run of ${m[2]} ${m[3]}`;
  return truncate(runId, 60);
}

/** What entity keys stand for, counted in words: "host 10.0.6.44, Spark worker, 3 Spark executors". */
function affectedInWords(entities: readonly string[]): string {
  const kinds: [RegExp, string, string][] = [
    [/^host:(.+)$/, 'host', 'hosts'],
    [/^spark:worker:/, 'Spark worker', 'Spark workers'],
    [/^spark:executor:/, 'Spark executor', 'Spark executors'],
    [/^spark:app:/, 'Spark application', 'Spark applications'],
    [/^spark:(job|stage):/, 'Spark job', 'Spark jobs'],
    [/^spark:connect:(.+)$/, 'Spark Connect', 'Spark Connect endpoints'],
    [/^spark:master:/, 'Spark master', 'Spark masters'],
    [/^airflow:dag:(.+)$/, 'DAG', 'DAGs'],
    [/^airflow:dagrun:/, 'DAG run', 'DAG runs'],
    [/^airflow:task:/, 'task', 'tasks'],
    [/^airflow:import:(.+)$/, 'DAG file', 'DAG files'],
    [/^airflow:scheduler/, 'Airflow scheduler', 'Airflow schedulers'],
    [/^metric:/, 'metric series', 'metric series'],
    [/^log:/, 'log stream', 'log streams'],
  ];
  const found = new Map<string, { n: number; one: string; many: string; name?: string }>();
  for (const e of entities) {
    const kind = kinds.find(([re]) => re.test(e));
    if (!kind) continue;
    const name = kind[0].exec(e)?.[1];
    const entry = found.get(kind[1]) ?? { n: 0, one: kind[1], many: kind[2] };
    entry.n++;
    if (entry.n === 1 && name) entry.name = name;
    else delete entry.name;
    found.set(kind[1], entry);
  }
  const order = kinds.map((k) => k[1]);
  const parts = [...found.values()]
    .sort((a, b) => order.indexOf(a.one) - order.indexOf(b.one))
    .map((f) =>
      f.n === 1 ? (f.name ? `${f.one} ${truncate(f.name, 60)}` : `1 ${f.one}`) : `${f.n} ${f.many}`,
    );
  return truncate(parts.join(', '), 300);
}

function taskRank(state: string): number {
  const order = ['failed', 'upstream_failed', 'retrying', 'recovered'];
  const i = order.indexOf(state);
  return i < 0 ? order.length : i;
}

/** One to three next steps, each in full: the draft's, or the best playbook's "How to fix". */
function nextSteps(draft: IncidentDraft | null, playbooks: readonly PlaybookRef[]): string | undefined {
  if (draft && draft.nextSteps.length > 0) {
    const shown = draft.nextSteps.slice(0, LIMITS.fixSteps);
    return `*Next steps*\n${shown.map((s, i) => `${i + 1}. ${escapeMrkdwn(truncate(oneLine(s), LIMITS.fixStep))}`).join('\n')}`;
  }
  const top = playbooks[0];
  const steps = top?.fixSteps ?? [];
  if (!top || steps.length === 0) return undefined;
  const shown = steps
    .slice(0, LIMITS.fixSteps)
    .map((s, i) => `${i + 1}. ${escapeMrkdwn(truncate(oneLine(s), LIMITS.fixStep))}`);
  const more = steps.length - shown.length;
  return `*Next steps* (playbook: ${escapeMrkdwn(truncate(top.title, 100))}${more > 0 ? `, ${count(more, 'more step')} there` : ''})\n${shown.join('\n')}`;
}

/** URL buttons for the runbook links: the draft's chosen playbooks first, then the rest. */
function runbookButtons(draft: IncidentDraft | null, playbooks: readonly PlaybookRef[]): SlackBlock[] {
  const chosen = draft?.runbookIds ?? [];
  const ordered = [...playbooks].sort(
    (a, b) => rankOf(chosen, a.id) - rankOf(chosen, b.id) || playbooks.indexOf(a) - playbooks.indexOf(b),
  );
  const buttons: SlackBlock[] = [];
  for (const p of ordered) {
    for (const link of p.links) {
      if (buttons.length >= LIMITS.runbookButtons) break;
      if (link.url.length > BLOCK_KIT.buttonUrl) continue;
      buttons.push({
        type: 'button',
        action_id: `${ACTION_IDS.runbook}_${buttons.length}`,
        text: { type: 'plain_text', text: truncate(`📖 ${link.title}`, BLOCK_KIT.buttonText), emoji: true },
        url: link.url,
        value: truncate(p.id, 200),
      });
    }
  }
  return buttons;
}

function rankOf(chosen: readonly string[], id: string): number {
  const i = chosen.indexOf(id);
  return i < 0 ? chosen.length : i;
}

function lifecycleElements(incident: Incident): SlackBlock[] {
  const button = (actionId: string, text: string, style?: 'primary' | 'danger'): SlackBlock => ({
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text },
    value: incident.id,
    ...(style ? { style } : {}),
  });
  if (incident.status === 'resolved') return [button(ACTION_IDS.reopen, 'Reopen')];
  const elements: SlackBlock[] = [];
  if (incident.status === 'open') elements.push(button(ACTION_IDS.acknowledge, 'Acknowledge', 'primary'));
  elements.push({
    ...button(ACTION_IDS.resolve, 'Resolve', incident.status === 'acknowledged' ? 'primary' : undefined),
    confirm: {
      title: { type: 'plain_text', text: 'Resolve this incident?' },
      text: { type: 'plain_text', text: 'Guardian stops tracking it; a new signal opens a new incident.' },
      confirm: { type: 'plain_text', text: 'Resolve' },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  });
  elements.push({
    type: 'static_select',
    action_id: ACTION_IDS.silence,
    placeholder: { type: 'plain_text', text: 'Silence similar…' },
    options: SILENCE_DURATIONS.map((d) => ({
      text: { type: 'plain_text', text: `Silence ${d.label}` },
      value: `${incident.id}|${d.value}`,
    })),
  });
  return elements;
}

function contextLine(incident: Incident, options: RenderOptions): string {
  const parts = [`Guardian incident ${code(incident.id)}`];
  if (incident.status !== 'resolved') parts.push('evidence, signals and logs in the thread');
  const silences = (options.actions ?? []).filter((a) => a.type === 'silenced');
  const lastSilence = silences[silences.length - 1];
  if (lastSilence?.text) parts.push(`:no_bell: ${escapeMrkdwn(truncate(lastSilence.text, 300))}`);
  if (incident.mergedInto) parts.push(`merged into ${code(incident.mergedInto)}`);
  const link = options.incidentUrl ? `<${options.incidentUrl(incident.id)}|Open in Guardian>` : '';
  if (link) parts.push(link);
  return truncate(parts.join(' · '), 2000);
}

function mention(actor: Actor): string {
  if (actor.via === 'slack' && /^[UW][A-Z0-9]{2,30}$/.test(actor.id)) return `<@${actor.id}>`;
  return escapeMrkdwn(truncate(actor.name ?? actor.id, 80));
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** Text on one line: newlines and runs of spaces folded. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function percent(p: number): string {
  return `${Math.round(Math.min(1, Math.max(0, Number.isFinite(p) ? p : 0)) * 100)}%`;
}

function statusLine(incident: Incident, actions: readonly HumanAction[]): string {
  const latest = [...actions].reverse().find((a) => a.type !== 'silenced');
  const by =
    latest && latest.type === incidentStatusAction(incident.status) ? ` by ${mention(latest.actor)}` : '';
  const severity = `${SEVERITY_EMOJI[incident.severity]} ${incident.severity}`;
  if (incident.resolvedAt !== null) {
    return `*RESOLVED*${by} after ${duration(incident.resolvedAt - incident.openedAt)} · ${severity} · ${utc(incident.openedAt)} to ${utc(incident.resolvedAt)}`;
  }
  // No clock here (renders must be deterministic): age is measured at the last change.
  const age = duration(incident.updatedAt - incident.openedAt);
  return `*${incident.status.toUpperCase()}*${by} · ${severity} · since ${utc(incident.openedAt)} · updated ${utc(incident.updatedAt).slice(11)} (${age} in)`;
}

function incidentStatusAction(status: Incident['status']): HumanAction['type'] {
  return status === 'acknowledged' ? 'acknowledged' : status === 'resolved' ? 'resolved' : 'reopened';
}

function signalLines(ordered: readonly IncidentSignal[]): string[] {
  const lines = ordered.slice(0, LIMITS.signals).map((s) => {
    const state = s.status === 'firing' ? ':rotating_light: *firing*' : ':white_check_mark: resolved';
    const seen =
      s.firstSeen === s.lastSeen
        ? `seen ${utc(s.firstSeen)}`
        : `first ${utc(s.firstSeen)}, last ${utc(s.lastSeen)}`;
    const count = s.count > 1 ? ` · ${s.count}×` : '';
    return `• ${state} · ${s.severity} · ${escapeMrkdwn(truncate(s.title, LIMITS.signalTitle))} · ${seen}${count}`;
  });
  const more = ordered.length - LIMITS.signals;
  if (more > 0) {
    const firing = ordered.slice(LIMITS.signals).filter((s) => s.status === 'firing').length;
    lines.push(`_+${more} more signals (${firing} firing)_`);
  }
  return lines;
}

function evidenceLines(evidence: readonly Evidence[]): string[] {
  const lines: string[] = [];
  for (const e of evidence.slice(0, LIMITS.evidenceItems)) {
    const label = escapeMrkdwn(truncate(e.label, 80));
    switch (e.kind) {
      case 'value': {
        const unit = e.unit && e.unit !== '1' ? ` ${escapeMrkdwn(truncate(e.unit, 20))}` : '';
        lines.push(`• ${label}: *${formatNumber(e.value)}*${unit}`);
        break;
      }
      case 'text':
        lines.push(`• ${label}: ${escapeMrkdwn(defang(truncate(redact(e.text), LIMITS.evidenceText)))}`);
        break;
      case 'link':
        // A URL that long is not worth a broken link; show the label alone.
        lines.push(e.url.length <= 500 ? `• <${e.url}|${label}>` : `• ${label}`);
        break;
      case 'log':
        lines.push(`• ${label}:`, logBlock(e.lines));
        break;
    }
  }
  if (evidence.length > LIMITS.evidenceItems) lines.push(`_+${evidence.length - LIMITS.evidenceItems} more_`);
  return lines;
}

/** The last log lines (the failure is usually at the end), each cut, in a code block. */
function logBlock(all: readonly string[]): string {
  // Evidence should arrive redacted; redacting again is cheap and idempotent, and a source that
  // forgot cannot put a credential into Slack.
  const tail = all
    .slice(-LIMITS.logLines)
    .map((l) => escapeMrkdwn(defang(truncate(redact(l), LIMITS.logLine))));
  const skipped = all.length - tail.length;
  const body = truncate(tail.join('\n'), LIMITS.logBlock).replaceAll('```', "'''");
  return `${skipped > 0 ? `_(last ${tail.length} of ${all.length} lines)_\n` : ''}\`\`\`${body || ' '}\`\`\``;
}

/**
 * Log text is shown, never followed: URLs in it become `hxxp://…`, so a line that carries a link
 * (or an instruction to click one) cannot put a clickable link in an alert.
 */
function defang(text: string): string {
  return text.replace(/\bhttp(s?):\/\//gi, 'hxxp$1://');
}

/** The notification line (push notifications, screen readers): status, cause, impact, summary. */
function fallbackText(incident: Incident, cause: string, draft: IncidentDraft | null): string {
  const impact = impactHeadline(incident);
  const timing =
    incident.resolvedAt === null
      ? `${incident.severity}, open`
      : `${incident.severity}, resolved after ${duration(incident.resolvedAt - incident.openedAt)}`;
  const summary = draft?.summary ? ` ${oneLine(draft.summary)}` : '';
  return truncate(
    `[${incident.status.toUpperCase()}] ${truncate(cause, LIMITS.fallbackTitle)}${impact ? ` — ${impact}` : ''} (${timing})${summary}`,
    BLOCK_KIT.fallbackText,
  );
}

/**
 * The per-section caps bound each section, but JSON escaping (quotes in metric series keys) can
 * still add up: cut the longest section until the whole message is inside the budget.
 */
function fitMessage(blocks: SlackBlock[]): SlackBlock[] {
  let size = blocksSize(blocks);
  while (size > LIMITS.messageChars) {
    let longest = -1;
    let longestLength = 0;
    blocks.forEach((b, i) => {
      const length = sectionText(b)?.length ?? 0;
      if (length > longestLength) {
        longest = i;
        longestLength = length;
      }
    });
    if (longest < 0 || longestLength <= 200) break;
    const cut = Math.max(200, Math.floor(longestLength * 0.7));
    blocks[longest] = section(cutText(sectionText(blocks[longest]!)!, cut));
    size = blocksSize(blocks);
  }
  return blocks;
}

function sectionText(block: SlackBlock): string | undefined {
  if (block.type !== 'section') return undefined;
  const text = block.text as { text?: unknown } | undefined;
  return typeof text?.text === 'string' ? text.text : undefined;
}

function section(text: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: cutText(text, BLOCK_KIT.sectionText) } };
}

/** {@link truncate}, closing a code block the cut left open so the rest of the message renders. */
function cutText(text: string, max: number): string {
  const openFence = (t: string) => (t.match(/```/g)?.length ?? 0) % 2 === 1;
  const cut = truncate(text, max);
  if (cut === text || !openFence(cut)) return cut;
  const shorter = truncate(text, max - 3);
  return openFence(shorter) ? `${shorter}\`\`\`` : shorter;
}

/** Firing before resolved, then most severe, then oldest; fingerprint breaks ties deterministically. */
function byImportance(a: IncidentSignal, b: IncidentSignal): number {
  if (a.status !== b.status) return a.status === 'firing' ? -1 : 1;
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    a.firstSeen - b.firstSeen ||
    compareStrings(a.fingerprint, b.fingerprint)
  );
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Inline code; backticks inside would end it early, so they become quotes. */
function code(text: string): string {
  return `\`${escapeMrkdwn(text.replaceAll('`', "'"))}\``;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

function utc(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown time';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? ` ${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? ` ${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
