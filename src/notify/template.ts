import type { Evidence, Incident, IncidentSignal, Severity } from '../core/index.ts';
import { severityRank } from '../core/index.ts';
import type { IncidentChange } from '../correlation/incident-state.ts';
import { BLOCK_KIT, blocksSize, escapeMrkdwn, truncate } from './block-kit.ts';
import type { SlackBlock, SlackMessage } from './channel.ts';

/** How an incident message is rendered. */
export interface RenderOptions {
  /** Link to the incident in Guardian's API or UI; no link when absent. */
  incidentUrl?: (id: string) => string;
}

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
  signals: 10,
  signalTitle: 120,
  entities: 12,
  entity: 160,
  evidenceItems: 6,
  evidenceText: 400,
  logLines: 12,
  logLine: 160,
  logBlock: 1800,
  fallbackTitle: 200,
  /** Whole-message budget, with room to spare below Slack's undocumented ~13k `msg_blocks_too_long`. */
  messageChars: 9000,
} as const;

/**
 * The incident's top-level message: what broke and how badly, since when, what Guardian saw, the
 * probable cause, what is affected and the evidence, written for an engineer woken at 3 a.m.
 *
 * Deterministic: the same incident renders to the same message (the notifier compares renders to
 * decide whether Slack needs an edit), so nothing here reads the clock. Every render passes
 * {@link validateBlocks}: long content is cut with `…` and long lists end with "+N more".
 */
export function renderIncidentMessage(incident: Incident, options: RenderOptions = {}): SlackMessage {
  const ordered = [...incident.signals].sort(byImportance);
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`${headerEmoji(incident)} ${incident.title}`, BLOCK_KIT.headerText),
        emoji: true,
      },
    },
    section(statusLine(incident)),
  ];

  if (ordered.length > 0) blocks.push(section(`*What happened*\n${signalLines(ordered).join('\n')}`));

  if (incident.rootCause) {
    const rc = incident.rootCause;
    const confidence = Math.round(Math.min(1, Math.max(0, rc.confidence)) * 100);
    blocks.push(
      section(
        `*Probable cause* (${confidence}% confidence)\n${code(truncate(rc.entity, LIMITS.entity))} · ${escapeMrkdwn(rc.kind)}`,
      ),
    );
  }

  if (incident.entities.length > 0) {
    const shown = incident.entities
      .slice(0, LIMITS.entities)
      .map((e) => `• ${code(truncate(e, LIMITS.entity))}`);
    const more = incident.entities.length - LIMITS.entities;
    if (more > 0) shown.push(`_+${more} more_`);
    blocks.push(section(`*Affected (${incident.entities.length})*\n${shown.join('\n')}`));
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

  const link = options.incidentUrl ? ` · <${options.incidentUrl(incident.id)}|Open in Guardian>` : '';
  blocks.push({ type: 'divider' });
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncate(`Guardian incident ${code(incident.id)}${link}`, 2000) }],
  });

  return { text: fallbackText(incident, ordered), blocks: fitMessage(blocks) };
}

/**
 * The short reply in the incident's thread that says what changed: resolved (and after how long),
 * a new signal joined, or the severity went up. Deterministic like {@link renderIncidentMessage}.
 */
export function renderIncidentUpdate(incident: Incident, change: IncidentChange): SlackMessage {
  const title = truncate(incident.title, LIMITS.fallbackTitle);
  let mrkdwn: string;
  let plain: string;
  switch (change) {
    case 'resolved': {
      const lasted =
        incident.resolvedAt === null ? '' : ` after ${duration(incident.resolvedAt - incident.openedAt)}`;
      const at = incident.resolvedAt === null ? '' : ` at ${utc(incident.resolvedAt)}`;
      const n = incident.signals.length;
      const cleared = `${n === 1 ? 'its signal' : `all ${n} signals`} cleared`;
      mrkdwn = `:white_check_mark: *Resolved*${lasted}${at}: ${cleared}.`;
      plain = `[RESOLVED] ${title}: resolved${lasted}, ${cleared}`;
      break;
    }
    case 'signal_added': {
      const newest = [...incident.signals].sort(
        (a, b) => b.firstSeen - a.firstSeen || compareStrings(a.fingerprint, b.fingerprint),
      )[0];
      const what = newest
        ? `${escapeMrkdwn(truncate(newest.title, LIMITS.signalTitle))} (${newest.severity}) on ${code(truncate(newest.entity, LIMITS.entity))}`
        : 'a new signal';
      mrkdwn = `:heavy_plus_sign: *New signal joined*: ${what}. ${incident.signals.length} signals now.`;
      plain = `[${incident.status.toUpperCase()}] ${title}: new signal ${newest ? truncate(newest.title, LIMITS.signalTitle) : ''}`;
      break;
    }
    case 'severity_raised': {
      const cause = [...incident.signals].sort(byImportance)[0];
      const by = cause ? ` by ${escapeMrkdwn(truncate(cause.title, LIMITS.signalTitle))}` : '';
      mrkdwn = `:arrow_up: *Severity raised to ${incident.severity}* ${SEVERITY_EMOJI[incident.severity]}${by}.`;
      plain = `[${incident.status.toUpperCase()}] ${title}: severity raised to ${incident.severity}`;
      break;
    }
    default:
      mrkdwn = `Incident is now *${incident.status.toUpperCase()}* (severity ${incident.severity}).`;
      plain = `[${incident.status.toUpperCase()}] ${title}`;
  }
  return {
    text: truncate(plain.trim(), BLOCK_KIT.fallbackText),
    blocks: [section(mrkdwn)],
  };
}

function statusLine(incident: Incident): string {
  const status = `*${incident.status.toUpperCase()}*`;
  const severity = `${SEVERITY_EMOJI[incident.severity]} ${incident.severity}`;
  const opened = `opened ${utc(incident.openedAt)}`;
  const timing =
    incident.resolvedAt === null
      ? // No clock here (renders must be deterministic): age is measured at the last change.
        `${opened} · last change ${utc(incident.updatedAt)} (${duration(incident.updatedAt - incident.openedAt)} in)`
      : `${opened} · resolved ${utc(incident.resolvedAt)} · lasted ${duration(incident.resolvedAt - incident.openedAt)}`;
  return `${status} · ${severity} · ${timing}`;
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
        lines.push(`• ${label}: ${escapeMrkdwn(truncate(e.text, LIMITS.evidenceText))}`);
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
  const tail = all.slice(-LIMITS.logLines).map((l) => escapeMrkdwn(truncate(l, LIMITS.logLine)));
  const skipped = all.length - tail.length;
  const body = truncate(tail.join('\n'), LIMITS.logBlock).replaceAll('```', "'''");
  return `${skipped > 0 ? `_(last ${tail.length} of ${all.length} lines)_\n` : ''}\`\`\`${body || ' '}\`\`\``;
}

function fallbackText(incident: Incident, ordered: readonly IncidentSignal[]): string {
  const firing = ordered.filter((s) => s.status === 'firing').length;
  const timing =
    incident.resolvedAt === null
      ? `${firing} of ${ordered.length} signals firing`
      : `resolved after ${duration(incident.resolvedAt - incident.openedAt)}`;
  return truncate(
    `[${incident.status.toUpperCase()}] ${truncate(incident.title, LIMITS.fallbackTitle)} (${incident.severity}, ${timing})`,
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

function headerEmoji(incident: Incident): string {
  return incident.status === 'resolved' ? ':white_check_mark:' : SEVERITY_EMOJI[incident.severity];
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
