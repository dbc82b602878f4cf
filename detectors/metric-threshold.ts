import type { ThresholdRule } from '../src/config/schema.ts';
import type { MetricObservation, Observation } from '../src/core/index.ts';
import { type Evidence, stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import {
  compileMatchers,
  type SeriesMatcher,
  seriesGroup,
  seriesNameOf,
  seriesRelations,
} from './series-match.ts';

/**
 * Threshold rules on metric series: a series whose value compares badly with the rule's value
 * for at least `for` is breaching, until a point no longer breaches. Breaching series of one rule
 * are grouped (`groupBy`, by default the host, function or service they are about): a group fires
 * one signal when its first series breaches, fires again with the new count each time the count
 * doubles, and resolves when its last series recovers. So one rule breaching on a hundred thousand
 * series of one host is one signal, not a hundred thousand. One state per breaching series and one
 * per group; points of metrics no rule names cost one map lookup. A monotonic cumulative sum is
 * compared by its rate per second (unless the rule says `compare: value`): its running total
 * never falls, so `errors > 0` on the total could never clear, and a restarted exporter (its
 * total back at 0) would look like a recovery.
 */
export const THRESHOLD_DETECTOR_ID = 'metric-threshold';

interface CompiledRule {
  readonly rule: ThresholdRule;
  readonly matches: SeriesMatcher;
  readonly breaches: (value: number) => boolean;
  /** Whether `a` is further past the threshold than `b`. */
  readonly worse: (a: number, b: number) => boolean;
  /** Breaching series, by series key. */
  readonly series: Map<string, SeriesState>;
  /** Groups with at least one breaching series, by group key. */
  readonly groups: Map<string, GroupState>;
}

interface SeriesState {
  breachingSince: number | null;
  firing: boolean;
  /** The series' last point: what a forgotten series reports as its last value. */
  last: MetricObservation;
  readonly group: GroupState;
}

interface GroupState {
  readonly key: string;
  /** Its series are compared by their rate per second. */
  readonly byRate: boolean;
  readonly label: string;
  readonly fingerprint: string;
  /** The first series of the group that fired: the signal's entity for the group's life. */
  first: MetricObservation | null;
  /** The worst point seen among the group's firing series. */
  worst: MetricObservation | null;
  /** Series tracked (breaching, firing or not), so the group lives while any does. */
  members: number;
  /** Series firing now. */
  firing: number;
  /** The count the last firing signal reported; the next one goes out when the count doubles. */
  reported: number;
  firingSince: number;
  /**
   * The time of the group's last signal. Each later one is at least 1 ms after it, so a count
   * that grows within one timestamp (one export of many series) is still news downstream.
   */
  lastSent: number;
}

/** The previous point of a series compared by rate. */
interface LastPoint {
  readonly time: number;
  readonly value: number;
  readonly start: number | undefined;
  /** The rate computed at this point, for the other rules on the same series. */
  readonly rate: number | undefined;
}

/** Series remembered for rates, per detector; past it the least recently seen is forgotten. */
const MAX_RATE_SERIES = 100_000;

const COMPARE: Record<ThresholdRule['op'], (v: number, t: number) => boolean> = {
  '>': (v, t) => v > t,
  '>=': (v, t) => v >= t,
  '<': (v, t) => v < t,
  '<=': (v, t) => v <= t,
  '==': (v, t) => v === t,
  '!=': (v, t) => v !== t,
};

/**
 * `maxSeries`: breaching series remembered at most, per rule. A series that breached and then
 * went away is never seen healthy again, so without a cap its state would stay for ever; past it
 * the series without news for longest is forgotten, as if it had recovered.
 * @defaultValue 10000
 */
export function createThresholdDetector(rules: readonly ThresholdRule[], maxSeries = 10_000): Detector {
  const byMetric = new Map<string, CompiledRule[]>();
  const compiled: CompiledRule[] = [];
  for (const rule of rules) {
    const compare = COMPARE[rule.op];
    const below = rule.op === '<' || rule.op === '<=';
    const c: CompiledRule = {
      rule,
      matches: compileMatchers(rule.match),
      breaches: (v) => compare(v, rule.value),
      worse: below ? (a, b) => a < b : (a, b) => Math.abs(a - rule.value) > Math.abs(b - rule.value),
      series: new Map(),
      groups: new Map(),
    };
    compiled.push(c);
    const list = byMetric.get(rule.metric) ?? [];
    list.push(c);
    byMetric.set(rule.metric, list);
  }

  /** The last point of each series compared by rate, by series key, least recently seen first. */
  const last = new Map<string, LastPoint>();

  function observe(obs: Observation, ctx: DetectorContext): void {
    if (obs.type !== 'metric') return;
    const candidates = byMetric.get(obs.name);
    if (!candidates) return;
    for (const c of candidates) {
      if (!c.matches(obs.attributes)) continue;
      evaluate(c, obs, ctx);
    }
  }

  function evaluate(c: CompiledRule, point: MetricObservation, ctx: DetectorContext): void {
    const byRate = comparesRate(c.rule, point);
    const rate = byRate ? rateOf(point) : undefined;
    if (byRate && rate === undefined) return;
    // From here on the point is judged, remembered and shown by the value compared.
    const obs: MetricObservation = byRate
      ? { ...point, value: rate!, unit: `${point.unit || '1'}/s` }
      : point;
    let state = c.series.get(obs.series);
    const breaching = c.breaches(obs.value);
    if (!state) {
      if (!breaching) return; // nothing to remember about a healthy series
      if (c.series.size >= maxSeries) {
        const [oldestKey, oldest] = c.series.entries().next().value!;
        leave(c, oldestKey, oldest, oldest.last, ctx);
      }
      state = { breachingSince: null, firing: false, last: obs, group: join(c, obs, byRate) };
    } else {
      state.last = obs;
      c.series.delete(obs.series); // re-inserted: insertion order is recency order
    }
    c.series.set(obs.series, state);
    const group = state.group;
    if (breaching) {
      state.breachingSince ??= obs.time;
      if (state.firing) {
        if (c.worse(obs.value, group.worst!.value)) group.worst = obs;
        return;
      }
      if (obs.time - state.breachingSince < c.rule.for) return;
      state.firing = true;
      group.firing++;
      if (!group.worst || c.worse(obs.value, group.worst.value)) group.worst = obs;
      if (group.firing === 1 && group.reported === 0) {
        group.first = obs;
        group.firingSince = state.breachingSince;
      }
      if (group.firing >= Math.max(1, group.reported * 2)) {
        const time = group.reported === 0 ? group.firingSince : Math.max(obs.time, group.lastSent + 1);
        group.reported = group.firing;
        group.lastSent = time;
        ctx.emit(signal(c.rule, group, 'firing', time));
      }
      return;
    }
    leave(c, obs.series, state, obs, ctx);
  }

  /** A series stops being tracked (it recovered, or is forgotten): its group resolves with its last member. */
  function leave(
    c: CompiledRule,
    key: string,
    state: SeriesState,
    recovered: MetricObservation,
    ctx: DetectorContext,
  ): void {
    const group = state.group;
    c.series.delete(key);
    group.members--;
    if (state.firing) group.firing--;
    if (group.members > 0) return;
    c.groups.delete(group.key);
    if (group.reported > 0)
      ctx.emit(signal(c.rule, group, 'resolved', Math.max(recovered.time, group.lastSent + 1), recovered));
  }

  /**
   * Per-second rate of a series at this point: the increase since the previous point of the same
   * accumulation, or, after a reset (a restarted process starts its total again), the total over
   * its own start time. Undefined when there is nothing to compare with yet. Every rule on the
   * series reads the same previous point, so it is updated once per point.
   */
  function rateOf(obs: MetricObservation): number | undefined {
    const prev = last.get(obs.series);
    if (prev && prev.time === obs.time && prev.value === obs.value) return prev.rate;
    if (prev && obs.time < prev.time) return undefined; // a late point says nothing new
    let rate: number | undefined;
    if (obs.temporality === 'delta') {
      const span = obs.startTime !== undefined ? obs.time - obs.startTime : 0;
      rate = span > 0 ? (obs.value / span) * 1000 : undefined;
    } else if (prev && obs.time > prev.time && obs.value >= prev.value && obs.startTime === prev.start) {
      rate = ((obs.value - prev.value) / (obs.time - prev.time)) * 1000;
    } else if (prev && obs.monotonic && obs.startTime !== undefined && obs.time > obs.startTime) {
      rate = (obs.value / (obs.time - obs.startTime)) * 1000; // a reset: the total since its new start
    } else if (prev && !obs.monotonic && obs.time > prev.time) {
      rate = ((obs.value - prev.value) / (obs.time - prev.time)) * 1000;
    }
    last.delete(obs.series);
    last.set(obs.series, { time: obs.time, value: obs.value, start: obs.startTime, rate });
    if (last.size > MAX_RATE_SERIES) last.delete(last.keys().next().value!);
    return rate;
  }

  function join(c: CompiledRule, obs: MetricObservation, byRate: boolean): GroupState {
    const { key, label } = seriesGroup(obs.attributes, c.rule.groupBy);
    let group = c.groups.get(key);
    if (!group) {
      group = {
        key,
        byRate,
        label,
        fingerprint: stableId('thr_', c.rule.id, key),
        first: null,
        worst: null,
        members: 0,
        firing: 0,
        reported: 0,
        firingSince: obs.time,
        lastSent: obs.time,
      };
      c.groups.set(key, group);
    }
    group.members++;
    return group;
  }

  return {
    id: THRESHOLD_DETECTOR_ID,
    accepts: ['metric'],
    observe,
    size: () => {
      let n = last.size;
      for (const c of compiled) n += c.series.size + c.groups.size;
      return n;
    },
  };
}

/** Whether the rule compares this series by its rate. */
function comparesRate(rule: ThresholdRule, obs: MetricObservation): boolean {
  if (rule.compare !== 'auto') return rule.compare === 'rate';
  return obs.metricType === 'sum' && obs.monotonic === true && obs.temporality !== 'delta';
}

function signal(
  rule: ThresholdRule,
  group: GroupState,
  status: 'firing' | 'resolved',
  time: number,
  recovered?: MetricObservation,
) {
  const first = group.first!;
  const worst = group.worst!;
  const count = group.reported;
  const on =
    count > 1
      ? `${count.toLocaleString('en-US')} series of ${first.name}${group.label ? `, ${group.label}` : ''}`
      : seriesNameOf(first);
  const rate = group.byRate ? 'rate ' : '';
  const shown = `${fmt(worst.value)}${group.byRate ? '/s' : ''}`;
  const defaultTitle =
    status === 'firing'
      ? `${on}: ${count > 1 ? 'worst ' : ''}${rate}${shown} ${rule.op} ${rule.value}`
      : `${on} back within ${rule.op} ${rule.value}`;
  const title = (rule.title ?? defaultTitle)
    .replaceAll('{metric}', first.name)
    .replaceAll('{series}', on)
    .replaceAll('{key}', first.series)
    .replaceAll('{value}', shown);
  const evidence: Evidence[] = [
    status === 'firing'
      ? {
          kind: 'value',
          label: count > 1 ? 'worst observed' : 'observed',
          value: worst.value,
          unit: worst.unit,
        }
      : { kind: 'value', label: 'observed (recovered)', value: recovered!.value, unit: recovered!.unit },
    { kind: 'value', label: `threshold (${rule.op})`, value: rule.value, unit: worst.unit },
  ];
  if (count > 1) {
    evidence.push(
      { kind: 'value', label: 'series breaching', value: count },
      { kind: 'text', label: 'worst series', text: worst.series },
    );
  }
  evidence.push(
    {
      kind: 'text',
      label: 'rule',
      text: `${rule.id}: ${rate ? 'rate of ' : ''}${rule.metric} ${rule.op} ${rule.value} for ${rule.for / 1000}s`,
    },
    { kind: 'text', label: 'series', text: first.series },
  );
  return {
    fingerprint: group.fingerprint,
    kind: 'metric.threshold',
    status,
    entity: first.series,
    related: seriesRelations(first.attributes),
    time,
    severity: rule.severity,
    title,
    detector: THRESHOLD_DETECTOR_ID,
    evidence,
  } as const;
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}
