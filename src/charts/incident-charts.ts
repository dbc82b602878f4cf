import type { Incident, IncidentSignal } from '../core/index.ts';
import type { SeriesHistory } from './series-history.ts';
import type { ChartSpec } from './svg.ts';

/** Charts per incident at most: the series behind its root cause first, then the rest. */
export const MAX_CHARTS = 4;

/** A chart an incident has: the metric signal it shows and what to draw. */
export interface IncidentChart {
  readonly fingerprint: string;
  readonly spec: ChartSpec;
}

/**
 * The charts of an incident's metric evidence: one per metric signal whose series has a history,
 * with the threshold or the learnt expected band its evidence gives and the moment it fired.
 */
export function incidentCharts(incident: Incident, history: SeriesHistory): IncidentChart[] {
  const metric = incident.signals.filter((s) => s.entity.startsWith('metric:'));
  const root = incident.rootCause?.entity;
  metric.sort((a, b) => Number(b.entity === root) - Number(a.entity === root) || a.firstSeen - b.firstSeen);
  const charts: IncidentChart[] = [];
  for (const signal of metric) {
    if (charts.length >= MAX_CHARTS) break;
    const series = seriesOf(signal);
    const points = history.points(series);
    if (points.length < 2) continue;
    charts.push({ fingerprint: signal.fingerprint, spec: specOf(signal, points) });
  }
  return charts;
}

/** A grouped threshold signal names its worst series; a single-series signal is about its own. */
function seriesOf(signal: IncidentSignal): string {
  const worst = signal.evidence.find((e) => e.kind === 'text' && e.label === 'worst series');
  return worst?.kind === 'text' ? worst.text : signal.entity;
}

function specOf(signal: IncidentSignal, points: ChartSpec['points']): ChartSpec {
  const value = (label: string) => {
    const e = signal.evidence.find((x) => x.kind === 'value' && x.label === label);
    return e?.kind === 'value' ? e : undefined;
  };
  const thresholdEvidence = signal.evidence.find(
    (e) => e.kind === 'value' && e.label.startsWith('threshold ('),
  );
  const low = value('expected low');
  const high = value('expected high');
  const unit = value('observed')?.unit ?? value('worst observed')?.unit;
  return {
    title: signal.title,
    unit,
    points,
    threshold:
      thresholdEvidence?.kind === 'value'
        ? { value: thresholdEvidence.value, op: /\((.+)\)/.exec(thresholdEvidence.label)?.[1] ?? '' }
        : undefined,
    band: low && high ? { low: low.value, high: high.value } : undefined,
    firedAt: signal.firstSeen,
  };
}
