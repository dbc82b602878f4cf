import type { Incident, IncidentSignal, Severity } from '../core/index.ts';
import { severityRank } from '../core/index.ts';
import type { IncidentChange } from '../correlation/incident-state.ts';
import { BLOCK_KIT, truncate } from './block-kit.ts';
import type { SlackBlock, SlackMessage } from './channel.ts';

export interface RenderOptions {
  /** Link to the incident in Guardian's API or UI. */
  incidentUrl?: (id: string) => string;
}

const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  low: ':large_yellow_circle:',
  info: ':large_blue_circle:',
};

const MAX_SIGNALS = 10;
const MAX_ENTITIES = 15;
const MAX_EVIDENCE_CHARS = 1500;

/**
 * The deterministic incident message: what broke, how bad, since when, what Guardian saw, and
 * the evidence. The same incident always renders to the same message (the notifier compares
 * renders to decide whether Slack needs an edit), and every render fits Block Kit's limits.
 */
export function renderIncidentMessage(incident: Incident, options: RenderOptions = {}): SlackMessage {
  const status = incident.status.toUpperCase();
  const blocks: SlackBlock[] = [];
  blocks.push({
    type: 'header',
    text: {
      type: 'plain_text',
      text: truncate(`${statusEmoji(incident)} ${incident.title}`, BLOCK_KIT.headerText),
      emoji: true,
    },
  });
  const opened = utc(incident.openedAt);
  const timing =
    incident.resolvedAt === null
      ? `opened ${opened}`
      : `opened ${opened}, resolved ${utc(incident.resolvedAt)} (after ${duration(incident.resolvedAt - incident.openedAt)})`;
  blocks.push(
    section(`*${status}* · severity *${incident.severity}* ${SEVERITY_EMOJI[incident.severity]} · ${timing}`),
  );

  const ordered = [...incident.signals].sort(bySignalImportance);
  const lines = ordered.slice(0, MAX_SIGNALS).map(signalLine);
  if (ordered.length > MAX_SIGNALS) lines.push(`_+${ordered.length - MAX_SIGNALS} more signals_`);
  blocks.push(section(`*What happened*\n${lines.join('\n')}`));

  if (incident.rootCause) {
    const rc = incident.rootCause;
    blocks.push(
      section(
        `*Probable cause* (${Math.round(rc.confidence * 100)}% confidence)\n\`${rc.entity}\` — ${rc.kind}`,
      ),
    );
  }

  const entities = incident.entities.slice(0, MAX_ENTITIES).map((e) => `• \`${truncate(e, 180)}\``);
  if (incident.entities.length > MAX_ENTITIES)
    entities.push(`_+${incident.entities.length - MAX_ENTITIES} more_`);
  if (entities.length > 0) blocks.push(section(`*Affected*\n${entities.join('\n')}`));

  const top = ordered[0];
  const evidence = top ? evidenceText(top) : '';
  if (evidence) blocks.push(section(`*Evidence* (${truncate(top!.title, 150)})\n${evidence}`));

  const link = options.incidentUrl ? ` · <${options.incidentUrl(incident.id)}|open in Guardian>` : '';
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `Guardian incident \`${incident.id}\`${link}` }],
  });

  return {
    text: truncate(`[${status}] ${incident.title} (${incident.severity})`, BLOCK_KIT.fallbackText),
    blocks,
  };
}

/** The short reply in the incident's thread that says what changed. */
export function renderIncidentUpdate(incident: Incident, change: IncidentChange): SlackMessage {
  let emoji = '';
  let text: string;
  switch (change) {
    case 'resolved':
      emoji = ':white_check_mark:';
      text =
        incident.resolvedAt === null
          ? 'Resolved: every signal cleared.'
          : `Resolved at ${utc(incident.resolvedAt)}, after ${duration(incident.resolvedAt - incident.openedAt)}: every signal cleared.`;
      break;
    case 'severity_raised':
      emoji = ':arrow_up:';
      text = `Severity raised to ${incident.severity}.`;
      break;
    case 'signal_added': {
      emoji = ':heavy_plus_sign:';
      const newest = [...incident.signals].sort((a, b) => b.firstSeen - a.firstSeen)[0];
      text = newest ? `New signal: ${newest.title}` : 'New signal.';
      break;
    }
    default:
      text = `Incident is ${incident.status}.`;
  }
  return {
    text: truncate(`${incident.title}: ${text}`, BLOCK_KIT.fallbackText),
    blocks: [section(emoji ? `${emoji} ${text}` : text)],
  };
}

function section(text: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, BLOCK_KIT.sectionText) } };
}

function statusEmoji(incident: Incident): string {
  return incident.status === 'resolved' ? ':white_check_mark:' : SEVERITY_EMOJI[incident.severity];
}

function bySignalImportance(a: IncidentSignal, b: IncidentSignal): number {
  if (a.status !== b.status) return a.status === 'firing' ? -1 : 1;
  const sev = severityRank(b.severity) - severityRank(a.severity);
  if (sev !== 0) return sev;
  if (a.firstSeen !== b.firstSeen) return a.firstSeen - b.firstSeen;
  return a.fingerprint < b.fingerprint ? -1 : 1;
}

function signalLine(s: IncidentSignal): string {
  const state = s.status === 'firing' ? ':rotating_light: firing' : ':white_check_mark: cleared';
  const repeats = s.count > 1 ? ` · ${s.count}×` : '';
  return `• ${state} · ${truncate(s.title, 200)} · since ${utc(s.firstSeen)}${repeats}`;
}

function evidenceText(s: IncidentSignal): string {
  const parts: string[] = [];
  for (const e of s.evidence) {
    switch (e.kind) {
      case 'value':
        parts.push(`• ${e.label}: *${e.value}*${e.unit && e.unit !== '1' ? ` ${e.unit}` : ''}`);
        break;
      case 'text':
        parts.push(`• ${e.label}: ${truncate(e.text, 300)}`);
        break;
      case 'link':
        parts.push(`• <${e.url}|${truncate(e.label, 100)}>`);
        break;
      case 'log':
        parts.push(
          `• ${e.label}:\n\`\`\`${truncate(
            e.lines
              .slice(-5)
              .map((l) => truncate(l, 300))
              .join('\n')
              .replaceAll('```', "'''"),
            900,
          )}\`\`\``,
        );
        break;
    }
  }
  return truncate(parts.join('\n'), MAX_EVIDENCE_CHARS);
}

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${m % 60}m`;
}
