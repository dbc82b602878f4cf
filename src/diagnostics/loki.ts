import { incidentVariables } from '../playbooks/links.ts';
import { TEMPLATE_VARIABLE } from '../playbooks/schema.ts';
import type { Collector } from './collector.ts';
import { DiagnosticNotApplicableError } from './diagnostic.ts';
import { cut } from './text.ts';

const MS_NS = 1_000_000n;

/**
 * The playbook's LogQL query, its `{{variables}}` filled from the incident, over the incident's
 * time (15 minutes before it opened to now, or 5 minutes after it resolved): the newest `limit`
 * lines, shown oldest first.
 */
export const lokiQuery: Collector<'loki_query'> = {
  title: (d) => `Loki ${cut(d.query, 100)}`,
  async collect(d, { incident, targets, signal, now }) {
    const loki = targets.loki;
    if (!loki) throw new DiagnosticNotApplicableError('Loki is not configured (LOKI_URL)');
    const variables = incidentVariables(incident);
    const missing: string[] = [];
    const query = d.query.replace(TEMPLATE_VARIABLE, (_all, name: string) => {
      const value = (variables as Record<string, string | undefined>)[name];
      if (value === undefined) {
        missing.push(name);
        return '';
      }
      return value.replace(/["\\]/g, '\\$&');
    });
    if (missing.length > 0) {
      throw new DiagnosticNotApplicableError(
        `the query needs {{${missing.join('}}, {{')}}}, which the incident does not name`,
      );
    }
    const from = incident.openedAt - 15 * 60_000;
    const to = incident.resolvedAt === null ? now : Math.min(now, incident.resolvedAt + 5 * 60_000);
    const streams = await loki.queryRange(
      {
        query,
        startNs: BigInt(from) * MS_NS,
        endNs: BigInt(Math.max(to, from + 1)) * MS_NS,
        limit: d.limit,
        direction: 'backward',
      },
      signal,
    );
    const entries: { ns: bigint; line: string }[] = [];
    for (const s of streams) {
      for (const [ts, line] of s.values) entries.push({ ns: BigInt(ts), line });
    }
    entries.sort((a, b) => (a.ns < b.ns ? 1 : a.ns > b.ns ? -1 : 0));
    const shown = entries.slice(0, d.limit).reverse();
    return {
      label: `Loki ${cut(query, 160)} (${shown.length} line${shown.length === 1 ? '' : 's'})`,
      lines:
        shown.length > 0
          ? shown.map((e) => `${new Date(Number(e.ns / MS_NS)).toISOString().slice(11, 23)} ${e.line}`)
          : ['no matching line'],
      keep: 'tail',
    };
  },
};
