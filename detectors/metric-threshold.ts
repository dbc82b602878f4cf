import type { ThresholdRule } from '../src/config/schema.ts';
import type { MetricObservation, Observation } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import { compileMatchers, type SeriesMatcher, seriesRelations } from './series-match.ts';

/**
 * Threshold rules on metric series: a series whose value compares badly with the rule's value
 * for at least `for` fires one signal, and resolves when a point no longer breaches. One state
 * per (rule, series); points of metrics no rule names cost one map lookup.
 */
export const THRESHOLD_DETECTOR_ID = 'metric-threshold';

interface CompiledRule {
  readonly rule: ThresholdRule;
  readonly matches: SeriesMatcher;
  readonly breaches: (value: number) => boolean;
}

interface SeriesState {
  breachingSince: number | null;
  firing: boolean;
  fingerprint: string;
}

const COMPARE: Record<ThresholdRule['op'], (v: number, t: number) => boolean> = {
  '>': (v, t) => v > t,
  '>=': (v, t) => v >= t,
  '<': (v, t) => v < t,
  '<=': (v, t) => v <= t,
  '==': (v, t) => v === t,
  '!=': (v, t) => v !== t,
};

export function createThresholdDetector(rules: readonly ThresholdRule[]): Detector {
  const byMetric = new Map<string, CompiledRule[]>();
  for (const rule of rules) {
    const compare = COMPARE[rule.op];
    const compiled: CompiledRule = {
      rule,
      matches: compileMatchers(rule.match),
      breaches: (v) => compare(v, rule.value),
    };
    const list = byMetric.get(rule.metric) ?? [];
    list.push(compiled);
    byMetric.set(rule.metric, list);
  }
  /** Keyed by rule id, then series key. */
  const states = new Map<string, Map<string, SeriesState>>();

  function observe(obs: Observation, ctx: DetectorContext): void {
    if (obs.type !== 'metric') return;
    const candidates = byMetric.get(obs.name);
    if (!candidates) return;
    for (const c of candidates) {
      if (!c.matches(obs.attributes)) continue;
      evaluate(c, obs, ctx);
    }
  }

  function evaluate(c: CompiledRule, obs: MetricObservation, ctx: DetectorContext): void {
    let perRule = states.get(c.rule.id);
    if (!perRule) {
      perRule = new Map();
      states.set(c.rule.id, perRule);
    }
    let state = perRule.get(obs.series);
    const breaching = c.breaches(obs.value);
    if (!state) {
      if (!breaching) return; // nothing to remember about a healthy series
      state = { breachingSince: null, firing: false, fingerprint: stableId('thr_', c.rule.id, obs.series) };
      perRule.set(obs.series, state);
    }
    if (breaching) {
      state.breachingSince ??= obs.time;
      if (!state.firing && obs.time - state.breachingSince >= c.rule.for) {
        state.firing = true;
        ctx.emit(signal(c.rule, obs, state, 'firing', state.breachingSince));
      }
      return;
    }
    if (state.firing) ctx.emit(signal(c.rule, obs, state, 'resolved', obs.time));
    perRule.delete(obs.series);
  }

  return {
    id: THRESHOLD_DETECTOR_ID,
    accepts: ['metric'],
    observe,
    size: () => {
      let n = 0;
      for (const m of states.values()) n += m.size;
      return n;
    },
  };
}

function signal(
  rule: ThresholdRule,
  obs: MetricObservation,
  state: SeriesState,
  status: 'firing' | 'resolved',
  time: number,
) {
  const title = (rule.title ?? `{metric} ${rule.op} ${rule.value} on {series}`)
    .replaceAll('{metric}', obs.name)
    .replaceAll('{series}', obs.series)
    .replaceAll('{value}', String(obs.value));
  return {
    fingerprint: state.fingerprint,
    kind: 'metric.threshold',
    status,
    entity: obs.series,
    related: seriesRelations(obs.attributes),
    time,
    severity: rule.severity,
    title,
    detector: THRESHOLD_DETECTOR_ID,
    evidence: [
      {
        kind: 'value',
        label: status === 'firing' ? 'observed' : 'observed (recovered)',
        value: obs.value,
        unit: obs.unit,
      },
      { kind: 'value', label: `threshold (${rule.op})`, value: rule.value, unit: obs.unit },
      {
        kind: 'text',
        label: 'rule',
        text: `${rule.id}: ${rule.metric} ${rule.op} ${rule.value} for ${rule.for / 1000}s`,
      },
    ],
  } as const;
}
