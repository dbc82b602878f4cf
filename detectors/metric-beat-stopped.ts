import type { MetricObservation, Observation, Signal } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import { resourcesOfSeries } from '../src/correlation/resources.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import { seriesNameOf, seriesRelations } from './series-match.ts';

export const METRIC_BEAT_STOPPED_DETECTOR_ID = 'metric-beat-stopped';

/**
 * Beats a series must have shown (nonzero points, each after zeros, at a regular spacing) before
 * its stopping means anything on its own: three beats show a schedule, two may be chance (two
 * sporadic errors five minutes apart).
 */
const MIN_BEATS = 3;
/**
 * Beats enough when a sibling series (one about the same resource: the invocations of the function
 * whose rows stopped) kept beating through the beats this one missed: the work still runs, its
 * output stopped.
 */
const MIN_BEATS_WITH_SIBLING = 2;
/** Beats in a row that must be missed: one late beat is jitter. */
const MISSED_BEATS = 2;
/** Spacings of one schedule: the longest at most this many times the shortest. */
const REGULAR = 1.5;
/** Spacings remembered per series. */
const HISTORY = 8;

interface Beats {
  readonly series: string;
  /** What the series is about (its function, its source, its host): siblings share one. */
  readonly resources: readonly string[];
  readonly label: string;
  readonly related: string[];
  /** When its last nonzero point came (the last beat). */
  lastBeat: number;
  /** Whether the point before the last was zero (a beat stands alone, between zeros). */
  lastWasZero: boolean;
  /** Whether every nonzero point so far stood alone between zeros. */
  beating: boolean;
  beats: number;
  readonly gaps: number[];
  /** Its last point, of any value. */
  lastPoint: number;
  fired: Signal | undefined;
}

/**
 * A series that beats, and stopped beating while it still reports (`metric.beat_stopped`): rows
 * an ingestion function writes at each invocation, a count that rises with each run. Such a series
 * is zero between regular nonzero points; when its points keep coming but stay zero through two of
 * its beats, the work it counts stopped producing anything, with no error anywhere. That is absence
 * as evidence on a resource's own series: the correlator ties it to later failures that name what
 * the series is about. Silence (no points at all) is the staleness detector's; a series that was
 * ever nonzero on two points in a row (a level, a burst of errors) is not a beat and is not judged.
 * It resolves at the next nonzero point.
 */
export function createMetricBeatStoppedDetector(maxSeries = 10_000): Detector {
  const series = new Map<string, Beats>();
  /** Series by what they are about, to find a stopped series' siblings. */
  const byResource = new Map<string, Set<Beats>>();
  const pending: Signal[] = [];

  function observe(obs: Observation): void {
    if (obs.type !== 'metric' || !Number.isFinite(obs.value)) return;
    let s = series.get(obs.series);
    if (!s) {
      if (obs.value < 0) return;
      if (series.size >= maxSeries) forget(series.keys().next().value!);
      s = start(obs);
      series.set(obs.series, s);
      for (const r of s.resources) {
        const set = byResource.get(r) ?? new Set<Beats>();
        set.add(s);
        byResource.set(r, set);
      }
      return;
    }
    if (obs.time <= s.lastPoint) return;
    s.lastPoint = obs.time;
    if (obs.value < 0) s.beating = false;
    if (!s.beating) return;
    if (obs.value === 0) {
      s.lastWasZero = true;
      return;
    }
    if (!s.lastWasZero) {
      // two nonzero points in a row: a level or a burst, not a beat
      s.beating = false;
      return;
    }
    if (s.beats > 0) {
      s.gaps.push(obs.time - s.lastBeat);
      if (s.gaps.length > HISTORY) s.gaps.shift();
    }
    s.beats++;
    s.lastBeat = obs.time;
    s.lastWasZero = false;
    if (s.fired) {
      pending.push({ ...s.fired, status: 'resolved', time: obs.time, title: `${s.label} beats again` });
      s.fired = undefined;
    }
  }

  function forget(key: string): void {
    const s = series.get(key);
    series.delete(key);
    if (!s) return;
    for (const r of s.resources) {
      const set = byResource.get(r);
      set?.delete(s);
      if (set?.size === 0) byResource.delete(r);
    }
  }

  /** A series about the same resource that beat on the same schedule after `s` stopped. */
  function siblingBeats(s: Beats, spacing: number): boolean {
    for (const r of s.resources)
      for (const o of byResource.get(r) ?? [])
        if (
          o !== s &&
          o.beating &&
          o.beats >= MIN_BEATS_WITH_SIBLING &&
          o.lastBeat > s.lastBeat + spacing / 2 &&
          Math.max(...o.gaps) <= REGULAR * spacing &&
          spacing <= REGULAR * Math.min(...o.gaps)
        )
          return true;
    return false;
  }

  function start(obs: MetricObservation): Beats {
    return {
      series: obs.series,
      resources: resourcesOfSeries(obs.series).filter((r) => !r.startsWith('airflow:')),
      label: seriesNameOf(obs),
      related: seriesRelations(obs.attributes),
      lastBeat: obs.value > 0 ? obs.time : Number.NaN,
      lastWasZero: obs.value === 0,
      beating: true,
      beats: obs.value > 0 ? 1 : 0,
      gaps: [],
      lastPoint: obs.time,
      fired: undefined,
    };
  }

  function tick(ctx: DetectorContext): void {
    for (const p of pending.splice(0)) ctx.emit(p);
    for (const s of series.values()) {
      if (s.fired || !s.beating || s.beats < MIN_BEATS_WITH_SIBLING) continue;
      const shortest = Math.min(...s.gaps);
      const spacing = Math.max(...s.gaps);
      if (spacing > REGULAR * shortest) continue;
      // The missed beats must have been reported as zeros: the series still reports.
      const due = s.lastBeat + MISSED_BEATS * spacing;
      if (s.lastPoint < due) continue;
      if (s.beats < MIN_BEATS && !siblingBeats(s, spacing)) continue;
      s.fired = stoppedSignal(s, spacing, due);
      ctx.emit(s.fired);
    }
  }

  return {
    id: METRIC_BEAT_STOPPED_DETECTOR_ID,
    accepts: ['metric'],
    observe: (obs, ctx) => {
      observe(obs);
      for (const p of pending.splice(0)) ctx.emit(p);
    },
    tick,
    size: () => series.size + byResource.size,
  };
}

function stoppedSignal(s: Beats, spacing: number, due: number): Signal {
  const every = Math.round(spacing / 1000);
  return {
    fingerprint: stableId('beat_', s.series, String(s.lastBeat)),
    kind: 'metric.beat_stopped',
    status: 'firing',
    entity: s.series,
    related: s.related,
    time: due,
    severity: 'low',
    title: `${s.label} stopped: zero through ${MISSED_BEATS} of its beats (every ${every < 120 ? `${every}s` : `${Math.round(every / 60)} min`})`,
    detector: METRIC_BEAT_STOPPED_DETECTOR_ID,
    evidence: [
      { kind: 'text', label: 'last nonzero point', text: new Date(s.lastBeat).toISOString() },
      { kind: 'value', label: 'beats every', value: every, unit: 's' },
      { kind: 'value', label: 'beats seen', value: s.beats },
    ],
  };
}
