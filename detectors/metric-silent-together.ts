import type { EntityKey, MetricObservation, Observation, Signal } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import { DEPARTED_AT, resourcesOfSeries, TELEMETRY_PIPELINE } from '../src/correlation/resources.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import { seriesNameOf } from './series-match.ts';

/**
 * Many series that reported regularly stopping together: one fact about what they have in
 * common, the pipeline they reach Guardian by (an exporter, a collector, a gateway refusing
 * data), not one silence per series. `telemetry.silent` fires when, among the series that reported
 * on a regular cadence, at least {@link SilentTogetherOptions.share} of them, about at least
 * {@link SilentTogetherOptions.minResources} distinct resources (hosts or services), have been
 * silent for {@link SilentTogetherOptions.silentIntervals} of their own intervals, each silence
 * begun within {@link SilentTogetherOptions.recentMs}. It resolves once most of them report again.
 *
 * A collector restarting (a gap of seconds) is shorter than the silence judged; one host going
 * silent is one resource, the per-series silence's business; a Guardian that just started has
 * learnt no cadence yet, so it judges nothing until each series has shown one (no flood at
 * start-up).
 */
export const SILENT_TOGETHER_DETECTOR_ID = 'metric-silent-together';

/** The parameters (docs/causal-correlation.md says how they were chosen). */
export interface SilentTogetherOptions {
  /** Series watched at most; past it the least recently seen is forgotten. @defaultValue 10000 */
  readonly maxSeries?: number;
  /** A series is silent after this many of its usual intervals without a point. @defaultValue 3 */
  readonly silentIntervals?: number;
  /** Share of the regularly reporting series that must be silent together. @defaultValue 0.5 */
  readonly share?: number;
  /** Distinct resources (hosts, else services) the silent series must be about. @defaultValue 3 */
  readonly minResources?: number;
  /** Points a series must have shown before its cadence is trusted. @defaultValue 5 */
  readonly minPoints?: number;
  /** Silences begun longer ago than this are old news (a host retired), not this one. @defaultValue 15 min */
  readonly recentMs?: number;
}

interface Tracked {
  readonly series: EntityKey;
  readonly label: string;
  /** What the series is about: its host, else its service. */
  readonly resource: string;
  lastSeen: number;
  /** Smallest gap between its points, ms (0 until two were seen): its cadence. */
  interval: number;
  points: number;
}

/** What the signal is about: the metrics missing, which name the pipeline they arrive by. */
const MISSING = `${TELEMETRY_PIPELINE}:missing`;

/** Gaps shorter than this (a point resent) say nothing of a series' cadence. */
const MIN_GAP_MS = 1000;

/** Series named in the signal at most (the count says how many in all). */
const MAX_NAMED = 200;

export function createSilentTogetherDetector(options: SilentTogetherOptions = {}): Detector {
  const maxSeries = options.maxSeries ?? 10_000;
  const silentIntervals = options.silentIntervals ?? 3;
  const share = options.share ?? 0.5;
  const minResources = options.minResources ?? 3;
  const minPoints = options.minPoints ?? 5;
  const recentMs = options.recentMs ?? 15 * 60_000;
  /** Insertion order is recency order: the first is the least recently seen. */
  const tracked = new Map<EntityKey, Tracked>();
  /** The series of the firing signal, while it fires. */
  let firing: { members: EntityKey[]; since: number } | undefined;

  function observe(obs: Observation): void {
    if (obs.type !== 'metric') return;
    const t = tracked.get(obs.series);
    if (!t) {
      if (tracked.size >= maxSeries) tracked.delete(tracked.keys().next().value!);
      tracked.set(obs.series, {
        series: obs.series,
        label: seriesNameOf(obs),
        resource: resourceOf(obs),
        lastSeen: obs.time,
        interval: 0,
        points: 1,
      });
      return;
    }
    if (obs.time <= t.lastSeen) return; // a late or repeated point says nothing about silence
    const gap = obs.time - t.lastSeen;
    // its cadence is its shortest gap (a point resent within a second is no cadence)
    if (gap >= MIN_GAP_MS) t.interval = t.interval === 0 ? gap : Math.min(t.interval, gap);
    t.lastSeen = obs.time;
    t.points++;
    tracked.delete(obs.series);
    tracked.set(obs.series, t);
  }

  function tick(ctx: DetectorContext): void {
    const now = ctx.now();
    const regular: Tracked[] = [];
    const silent: Tracked[] = [];
    for (const t of tracked.values()) {
      if (t.points < minPoints || t.interval <= 0) continue;
      const since = t.lastSeen + t.interval;
      // Gone long ago (a replaced host): neither part of this nor of what reports.
      if (now - since > recentMs) continue;
      regular.push(t);
      if (now - t.lastSeen > silentIntervals * t.interval) silent.push(t);
    }
    if (firing) {
      // Resolved once most of its series report again.
      const back = firing.members.filter((s) => {
        const t = tracked.get(s);
        return t !== undefined && now - t.lastSeen <= silentIntervals * t.interval;
      }).length;
      if (back * 2 >= firing.members.length) {
        ctx.emit(signal(firing.members, firing.since, now, 'resolved', regular.length, tracked));
        firing = undefined;
        return;
      }
      // More series going silent while it holds are part of it: named before their own silences
      // are judged, so these join it rather than open incidents of their own.
      const held = new Set(firing.members);
      const more = silent.filter((t) => !held.has(t.series));
      if (more.length > 0) {
        firing.members.push(...more.map((t) => t.series));
        ctx.emit(signal(firing.members, firing.since, now, 'firing', regular.length, tracked));
      }
      return;
    }
    if (silent.length === 0 || silent.length < share * regular.length) return;
    if (new Set(silent.map((t) => t.resource)).size < minResources) return;
    const since = Math.min(...silent.map((t) => t.lastSeen + t.interval));
    firing = { members: silent.map((t) => t.series), since };
    ctx.emit(signal(firing.members, since, now, 'firing', regular.length, tracked));
  }

  return {
    id: SILENT_TOGETHER_DETECTOR_ID,
    accepts: ['metric'],
    observe,
    tick,
    size: () => tracked.size,
  };
}

/** The host a series is about, else its service: what "many resources" counts. */
function resourceOf(obs: MetricObservation): string {
  const host = resourcesOfSeries(obs.series).find((r) => r.startsWith('host:'));
  return host ?? obs.attributes['service.name'] ?? obs.series;
}

function signal(
  members: readonly EntityKey[],
  since: number,
  now: number,
  status: Signal['status'],
  regular: number,
  tracked: ReadonlyMap<EntityKey, Tracked>,
): Signal {
  const resources = new Set(members.map((s) => tracked.get(s)?.resource ?? s));
  const labels = members.slice(0, 5).map((s) => tracked.get(s)?.label ?? s);
  return {
    fingerprint: stableId('tsil_', TELEMETRY_PIPELINE),
    kind: 'telemetry.silent',
    status,
    entity: MISSING,
    related: members.slice(0, MAX_NAMED),
    names: [TELEMETRY_PIPELINE],
    time: now,
    severity: 'high',
    title:
      status === 'firing'
        ? `${members.length} of ${regular} metric series from ${resources.size} hosts or services stopped reporting together: the pipeline they arrive by`
        : `Metric series stopped together are reporting again (${members.length})`,
    detector: SILENT_TOGETHER_DETECTOR_ID,
    evidence: [
      { kind: 'value', label: 'series silent', value: members.length },
      { kind: 'value', label: 'series reporting regularly', value: regular },
      { kind: 'value', label: 'resources', value: resources.size },
      { kind: 'text', label: 'for example', text: labels.join('; ') },
      { kind: 'text', label: DEPARTED_AT, text: new Date(since).toISOString() },
    ],
  };
}
