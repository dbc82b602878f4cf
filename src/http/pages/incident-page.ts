import type { ImpactTask, Incident } from '../../core/index.ts';
import { describeSilence } from '../../incidents/silences.ts';
import type { RecordedEvent, Silence } from '../../incidents/store.ts';
import { html, SafeHtml } from './html.ts';

const STYLE = `
@font-face { font-family: "Guardian Sans"; src: url("/assets/dejavu-sans.ttf") format("truetype"); font-weight: 400; }
@font-face { font-family: "Guardian Sans"; src: url("/assets/dejavu-sans-bold.ttf") format("truetype"); font-weight: 700; }
:root { color-scheme: light; --fg:#1d1c1d; --muted:#616061; --line:#e8e8e8; --accent:#1264a3; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 "Guardian Sans", system-ui, sans-serif; color: var(--fg); background: #fafafa; }
main { max-width: 960px; margin: 0 auto; padding: 16px; }
header.top { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; border-bottom: 1px solid var(--line); padding-bottom: 8px; }
header.top a { color: var(--accent); text-decoration: none; font-weight: 600; }
h1 { font-size: 22px; line-height: 1.3; margin: 12px 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 2px 0 8px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 12px 0; overflow-x: auto; }
.meta { color: var(--muted); font-size: 14px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px; font-weight: 600; color: #fff; }
.sev-critical { background: #b01243; } .sev-high { background: #e8912d; } .sev-low { background: #2f7eb5; } .sev-info { background: #6b6b6b; }
.st-open { background: #e01e5a; } .st-acknowledged { background: #ecb22e; color: #1d1c1d; } .st-resolved { background: #2eb67d; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px 4px 0; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
td code { overflow-wrap: anywhere; }
@media (max-width: 600px) { .wide { display: none; } main { padding: 8px; } section { padding: 10px 12px; } }
code { font-size: 13px; background: #f4f4f4; padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
img.chart { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
ul { padding-left: 20px; margin: 4px 0; }
a { color: var(--accent); }
.empty { color: var(--muted); font-style: italic; }
`;

/** The page frame every page shares. */
export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<title>${title} · Guardian</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
<main>
<header class="top"><a href="/">Guardian</a><a href="/incidents">Incidents</a><a href="/docs">API</a></header>
${body}
</main>
</body>
</html>
`.value;
}

function time(ms: number | null | undefined): string {
  return ms ? `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC` : '—';
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

/** The landing page: what Guardian is and where to go. */
export function landingPage(): string {
  return page(
    'Guardian',
    html`<h1>Guardian</h1>
<p>The first on-call engineer of the data platform.</p>
<ul>
<li><a href="/incidents">Incidents</a>: what broke, why, and what it affected.</li>
<li><a href="/docs">HTTP API</a> (OpenAPI).</li>
<li><a href="/healthz">Health</a>.</li>
</ul>`,
  );
}

/** The incident list: newest first, with status and severity. */
export function incidentListPage(incidents: readonly Incident[], linkQuery: (id: string) => string): string {
  const rows = incidents.map(
    (i) => html`<tr>
<td><span class="badge st-${i.status}">${i.status}</span></td>
<td><span class="badge sev-${i.severity}">${i.severity}</span></td>
<td><a href="/incidents/${encodeURIComponent(i.id)}${linkQuery(i.id)}">${i.title}</a></td>
<td class="meta">${time(i.openedAt)}</td>
</tr>`,
  );
  return page(
    'Incidents',
    html`<h1>Incidents</h1>
<section>${
      incidents.length === 0
        ? html`<p class="empty">No incidents.</p>`
        : html`<table><thead><tr><th>status</th><th>severity</th><th>incident</th><th>opened</th></tr></thead><tbody>${rows}</tbody></table>`
    }</section>`,
  );
}

export interface IncidentPageInput {
  readonly incident: Incident;
  readonly timeline: readonly RecordedEvent[];
  /** Active silences that cover this incident. */
  readonly silences: readonly Silence[];
  /** How many charts `/incidents/{id}/charts/{n}.png` serves for it. */
  readonly charts: number;
  /** Appended to links to this incident's charts (a signed link's `?exp=…&sig=…`), or ''. */
  readonly query: string;
  /** The Slack channel's address, when the incident was posted. */
  readonly slackUrl?: string | undefined;
  readonly now: number;
}

/**
 * An incident's page: cause and impact first (as the Slack message), then the evidence behind the
 * cause, the tasks it hit by DAG, the charts, who did what, the silences, and the timeline.
 */
export function incidentPage(input: IncidentPageInput): string {
  const { incident: i } = input;
  const rc = i.rootCause;
  const impact = i.impact;
  const failed = impact
    ? impact.tasks.filter((t) => t.state !== 'upstream_failed').length + (impact.omittedTasks ?? 0)
    : 0;
  const lasted = (i.resolvedAt ?? input.now) - i.openedAt;
  const actions = input.timeline.filter((e) => e.actor);
  const byDag = new Map<string, ImpactTask[]>();
  for (const t of impact?.tasks ?? []) byDag.set(t.dagId, [...(byDag.get(t.dagId) ?? []), t]);

  const body = html`<h1>${i.title}</h1>
<p class="meta"><span class="badge sev-${i.severity}">${i.severity}</span> <span class="badge st-${i.status}">${i.status}</span>
opened ${time(i.openedAt)}${i.resolvedAt ? html` · resolved ${time(i.resolvedAt)}` : ''} · ${i.resolvedAt ? 'lasted' : 'open for'} ${duration(lasted)}
${input.slackUrl ? html` · <a href="${input.slackUrl}">Slack thread</a>` : ''}</p>
<section>
<h2>Probable cause</h2>
${
  rc
    ? html`<p><strong>${rc.title ?? rc.kind}</strong> — <code>${rc.entity}</code> · ${rc.kind} · ${Math.round(rc.confidence * 100)}% confidence</p>
${rc.evidence?.length ? html`<ul>${rc.evidence.map((e) => html`<li>${e}</li>`)}</ul>` : ''}`
    : html`<p class="empty">No cause identified yet.</p>`
}
</section>
<section>
<h2>Impact</h2>
${
  impact && (impact.tasks.length > 0 || impact.sparkJobs > 0)
    ? html`<p>${failed} Airflow task${failed === 1 ? '' : 's'} in ${impact.dags.length + (impact.omittedDags ?? 0)} DAG${impact.dags.length === 1 ? '' : 's'}${impact.sparkJobs ? html`, ${impact.sparkJobs} Spark job${impact.sparkJobs === 1 ? '' : 's'}` : ''}${impact.omittedTasks ? html` (${impact.omittedTasks} more not listed)` : ''}.</p>
<table><thead><tr><th>DAG</th><th>task</th><th class="wide">run</th><th>state</th></tr></thead><tbody>${[
        ...byDag,
      ].map(([dag, tasks]) =>
        tasks.map(
          (t, n) =>
            html`<tr><td>${n === 0 ? dag : ''}</td><td>${t.taskId}</td><td class="wide"><code>${t.runId}</code></td><td>${t.state}</td></tr>`,
        ),
      )}</tbody></table>`
    : html`<p class="empty">No DAG or task affected.</p>`
}
</section>
${
  input.charts > 0
    ? html`<section><h2>Charts</h2>${Array.from(
        { length: input.charts },
        (_, n) =>
          html`<p><img class="chart" alt="chart ${n + 1}" src="/incidents/${encodeURIComponent(i.id)}/charts/${n}.png${input.query}" width="800" height="320"></p>`,
      )}</section>`
    : ''
}
<section>
<h2>Signals</h2>
<table><thead><tr><th>what</th><th>status</th><th>first seen</th></tr></thead><tbody>${i.signals.map(
    (s) =>
      html`<tr><td>${s.title}<br><code>${s.entity}</code></td><td>${s.status}</td><td class="meta">${time(s.firstSeen)}</td></tr>`,
  )}</tbody></table>
</section>
<section>
<h2>Actions and silences</h2>
${
  actions.length > 0
    ? html`<ul>${actions.map((e) => html`<li>${time(e.at)} — ${e.text} (${e.actor!.id} via ${e.actor!.via})</li>`)}</ul>`
    : html`<p class="empty">Nobody has acted on it yet.</p>`
}
${
  input.silences.length > 0
    ? html`<ul>${input.silences.map((s) => html`<li>Silenced: ${describeSilence(s)} until ${time(s.expiresAt)} by ${s.createdBy.id}${s.reason ? html` — ${s.reason}` : ''}</li>`)}</ul>`
    : ''
}
</section>
<section>
<h2>Timeline</h2>
${
  input.timeline.length > 0
    ? html`<table><tbody>${input.timeline.map((e) => html`<tr><td class="meta">${time(e.at)}</td><td>${e.text}</td></tr>`)}</tbody></table>`
    : html`<p class="empty">Nothing recorded yet.</p>`
}
</section>`;
  return page(i.title, body);
}
