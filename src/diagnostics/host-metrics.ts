import type { Collector } from './collector.ts';
import { DiagnosticNotApplicableError, DiagnosticUnavailableError } from './diagnostic.ts';

/**
 * A host's metrics, from what Guardian holds: OTLP points feed the detectors and are not kept,
 * so the only values Guardian has are those its metric signals in this incident carry (the value
 * that crossed a threshold, the anomalous point). The result says so when there are none.
 */
export const hostMetrics: Collector<'host_metrics'> = {
  title: (d) => `Host metrics (${d.metrics.join(', ')})`,
  async collect(d, { incident }) {
    const hosts = new Set(
      incident.entities.filter((e) => e.startsWith('host:')).map((e) => e.slice('host:'.length)),
    );
    if (incident.rootCause?.entity.startsWith('host:'))
      hosts.add(incident.rootCause.entity.slice('host:'.length));
    if (hosts.size === 0) throw new DiagnosticNotApplicableError('the incident names no host');
    const wanted = new Set(d.metrics);
    const lines: string[] = [];
    for (const s of incident.signals) {
      const m = /^metric:([^{]+)\{(.*)\}$/.exec(s.entity);
      if (!m || !wanted.has(m[1]!)) continue;
      const host = /(?:^|,)host\.name="([^"]*)"/.exec(m[2]!)?.[1];
      if (!host || !hosts.has(host)) continue;
      const values = s.evidence.filter((e) => e.kind === 'value');
      const shown = values.map((v) => `${v.label} ${v.value}${v.unit && v.unit !== '1' ? ` ${v.unit}` : ''}`);
      lines.push(
        `${m[1]} on ${host}: ${shown.join(', ') || 'no value'} (${s.status}, ${new Date(s.firstSeen).toISOString()}–${new Date(s.lastSeen).toISOString().slice(11, 19)})`,
      );
    }
    const list = [...hosts].join(', ');
    if (lines.length === 0) {
      throw new DiagnosticUnavailableError(
        `Guardian keeps no metric history (OTLP points only feed its detectors), and no signal of ${d.metrics.join(', ')} on ${list} is in this incident`,
      );
    }
    return { label: `Host metrics of ${list}, from this incident's signals (no history kept)`, lines };
  },
};
