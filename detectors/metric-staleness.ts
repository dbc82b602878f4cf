import type { StalenessRule } from '../src/config/schema.ts';
import type { MetricObservation, Observation, Signal } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import { compileMatchers, type SeriesMatcher, seriesNameOf, seriesRelations } from './series-match.ts';

/**
 * A series that stops reporting. Silence is measured against the clock on every tick: a series is
 * stale once `now - lastPoint` exceeds the rule's `after`, or, without one, three of the series'
 * own reporting intervals (learnt as a moving average) and at least `minSilence`. The next point
 * resolves it; so does `retireAfter` of silence, after which the series is forgotten.
 */
export const STALENESS_DETECTOR_ID = 'metric-staleness';

interface SeriesState {
  readonly rule: StalenessRule;
  readonly series: string;
  /** Its human name, for titles. */
  readonly label: string;
  readonly related: string[];
  readonly fingerprint: string;
  lastTime: number;
  /** Mean gap between points, ms; 0 until two points were seen. */
  interval: number;
  stale: boolean;
}

/** Weight of the newest gap in the interval average. */
const ALPHA = 0.2;
const INTERVALS_OF_SILENCE = 3;

/**
 * `maxSeries`: series watched at most (each rule's apart, all rules together). Retirement bounds
 * what stopped; this bounds what churns faster than it retires: past it, the series with the
 * oldest point is forgotten (resolving its staleness if it fired). @defaultValue 10000
 */
export function createStalenessDetector(rules: readonly StalenessRule[], maxSeries = 10_000): Detector {
  const byMetric = new Map<string, { rule: StalenessRule; matches: SeriesMatcher }[]>();
  for (const rule of rules) {
    const list = byMetric.get(rule.metric) ?? [];
    list.push({ rule, matches: compileMatchers(rule.match) });
    byMetric.set(rule.metric, list);
  }
  const states = new Map<string, SeriesState>();

  function observe(obs: Observation, ctx: DetectorContext): void {
    if (obs.type !== 'metric') return;
    const candidates = byMetric.get(obs.name);
    if (!candidates) return;
    for (const { rule, matches } of candidates) {
      if (matches(obs.attributes)) seen(rule, obs, ctx);
    }
  }

  function seen(rule: StalenessRule, obs: MetricObservation, ctx: DetectorContext): void {
    const key = `${rule.id}\u0000${obs.series}`;
    const state = states.get(key);
    if (!state) {
      if (states.size >= maxSeries) forgetOldest(ctx);
      states.set(key, {
        rule,
        series: obs.series,
        label: seriesNameOf(obs),
        related: seriesRelations(obs.attributes),
        fingerprint: stableId('stale_', rule.id, obs.series),
        lastTime: obs.time,
        interval: 0,
        stale: false,
      });
      return;
    }
    if (obs.time <= state.lastTime) return; // late or duplicate point: no news about silence
    const gap = obs.time - state.lastTime;
    state.interval = state.interval === 0 ? gap : state.interval + ALPHA * (gap - state.interval);
    state.lastTime = obs.time;
    states.delete(key); // re-inserted: insertion order is recency order
    states.set(key, state);
    if (state.stale) {
      state.stale = false;
      ctx.emit(signal(state, 'resolved', obs.time, ctx.now()));
    }
  }

  function forgetOldest(ctx: DetectorContext): void {
    const [key, oldest] = states.entries().next().value!;
    states.delete(key);
    const now = ctx.now();
    if (oldest.stale) ctx.emit(signal(oldest, 'resolved', now, now, 'retired'));
  }

  function tick(ctx: DetectorContext): void {
    const now = ctx.now();
    for (const [key, state] of states) {
      // Gone for good (a replaced host): stop watching it, so state stays bounded and its
      // incident can resolve.
      if (now - state.lastTime > state.rule.retireAfter) {
        states.delete(key);
        if (state.stale) ctx.emit(signal(state, 'resolved', now, now, 'retired'));
        continue;
      }
      if (state.stale) continue;
      const limit = silenceLimit(state);
      if (limit !== undefined && now - state.lastTime > limit) {
        state.stale = true;
        ctx.emit(signal(state, 'firing', state.lastTime + limit, now));
      }
    }
  }

  return { id: STALENESS_DETECTOR_ID, accepts: ['metric'], observe, tick, size: () => states.size };
}

function silenceLimit(state: SeriesState): number | undefined {
  if (state.rule.after !== undefined) return state.rule.after;
  if (state.interval === 0) return undefined; // cannot tell silence from a slow series yet
  return Math.max(state.rule.minSilence, INTERVALS_OF_SILENCE * state.interval);
}

function signal(
  state: SeriesState,
  status: 'firing' | 'resolved',
  time: number,
  now: number,
  retired?: 'retired',
): Signal {
  const silentFor = Math.round((now - state.lastTime) / 1000);
  return {
    fingerprint: state.fingerprint,
    kind: 'metric.stale',
    status,
    entity: state.series,
    related: state.related,
    time,
    severity: state.rule.severity,
    title:
      status === 'firing'
        ? `${state.label} stopped reporting (silent ${silentFor}s)`
        : retired
          ? `${state.label} no longer watched (silent ${silentFor}s)`
          : `${state.label} is reporting again`,
    detector: STALENESS_DETECTOR_ID,
    evidence: [
      { kind: 'text', label: 'last point', text: new Date(state.lastTime).toISOString() },
      { kind: 'text', label: 'series', text: state.series },
      { kind: 'value', label: 'usual interval', value: Math.round(state.interval / 1000), unit: 's' },
    ],
  };
}
