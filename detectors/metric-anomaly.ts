import type { AttributeMatcher } from '../src/config/schema.ts';
import type { Evidence, MetricObservation, Observation, Severity, Signal } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import { DEPARTED_AT, DEPARTURE } from '../src/correlation/resources.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import type { SeriesSeen } from '../src/detection/series-seen.ts';
import {
  type AnomalyChannel,
  type AnomalyScorerConfig,
  AnomalyScorerPool,
  BYTES_PER_SERIES,
} from './anomaly/core.ts';
import { type Baseline, type Derivation, derivationOf, SeriesDeriver } from './anomaly/derive.ts';
import { RecentPoints } from './anomaly/recent.ts';
import { compileMatchers, type SeriesMatcher, seriesNameOf, seriesRelations } from './series-match.ts';
import { type Departed, stillDeparted, type YoungDeparture, youngDeparture } from './young-departure.ts';

/**
 * Learnt anomalies on every metric series, with no rule to write: `metric.anomaly` when a series
 * does something its own history says is very unlikely (a spike, a dip, a level shift, a change
 * of trend or variance, an unusual value for the time of day or week, or the same value over and
 * over where the series never repeats itself for that long: a stuck exporter, sensor or feed),
 * and `metric.silent` when a series that reported on a regular cadence stops. Counters are judged by their rate, histograms
 * by their p95. An anomaly fires on one surprising point and resolves only after a run of calm
 * ones, so a noisy stretch cannot flap it. State is bounded: past `maxSeries` the least recently
 * seen series is forgotten. Rules are optional: one can raise a series' severity (rows ingested
 * that stop should page), limit it to rises or to falls, mute its stuck runs or not watch it.
 */
export const METRIC_ANOMALY_DETECTOR_ID = 'metric-anomaly';

export interface MetricAnomalyOptions {
  /**
   * Series tracked at most (each derived value counts once); the least recently seen series is
   * forgotten first.
   * @defaultValue 10000
   */
  readonly maxSeries?: number;
  /**
   * Anomaly score (0–1) at or above which a point fires. The score is `s / (s + 4)` for a surprise
   * of `s` = −log10 p: 0.5 is a one-in-ten-thousand point for the series, 0.6 one in a million.
   * @defaultValue 0.6
   */
  readonly fireScore?: number;
  /**
   * Score below which a point counts as calm.
   * @defaultValue 0.4
   */
  readonly calmScore?: number;
  /**
   * Consecutive calm points that resolve a firing anomaly.
   * @defaultValue 5
   */
  readonly calmPoints?: number;
  /**
   * Histogram quantiles tracked, each as its own derived series.
   * @defaultValue [0.95]
   */
  readonly quantiles?: readonly number[];
  /**
   * A series is silent after this many of its usual intervals without a point…
   * @defaultValue 5
   */
  readonly silentIntervals?: number;
  /**
   * …and at least this long, ms.
   * @defaultValue 60000
   */
  readonly minSilenceMs?: number;
  /**
   * Points seen before a series' cadence is trusted to judge silence.
   * @defaultValue 10
   */
  readonly minPointsForSilence?: number;
  /**
   * Severity of `metric.anomaly`.
   * @defaultValue 'low'
   */
  readonly severity?: Severity;
  /**
   * Severity of `metric.silent`.
   * @defaultValue 'low'
   */
  readonly silentSeverity?: Severity;
  /**
   * How matching series are watched (`detection.anomalies` in the config file); the first rule
   * that matches a series applies, and what a rule leaves out is the detector's default.
   * @defaultValue []
   */
  readonly rules?: readonly MetricAnomalyRule[];
  /** Scorer tuning; the defaults are what the benchmarks were run with. */
  readonly scorer?: Partial<AnomalyScorerConfig>;
}

/** Departures from normal a rule can limit a series' anomalies to. */
export type AnomalyDirection = 'both' | 'up' | 'down';

/** A rule for the series of one metric whose attributes match. */
export interface MetricAnomalyRule {
  readonly id: string;
  readonly metric: string;
  readonly match?: Readonly<Record<string, AttributeMatcher>>;
  /** false: the series are not modelled at all. */
  readonly watch?: boolean;
  readonly severity?: Severity;
  readonly silentSeverity?: Severity;
  /** `up`: spikes, rises, higher than usual for the time; `down`: the opposite; `both` adds variance. */
  readonly direction?: AnomalyDirection;
  /** Whether a value stuck where the series usually changes fires. */
  readonly stuck?: boolean;
  readonly fireScore?: number;
}

/** How one series is watched: its rule's settings over the detector's defaults. */
interface Policy {
  /** The rule's id, or undefined for the defaults. */
  readonly rule: string | undefined;
  readonly watch: boolean;
  readonly severity: Severity;
  readonly silentSeverity: Severity;
  /** The channels that may fire, or undefined for all. */
  readonly channels: ReadonlySet<AnomalyChannel> | undefined;
  readonly stuck: boolean;
  readonly fireScore: number;
}

const DIRECTION_CHANNELS: Record<Exclude<AnomalyDirection, 'both'>, ReadonlySet<AnomalyChannel>> = {
  up: new Set(['spike', 'drift-up', 'seasonal-high']),
  down: new Set(['dip', 'drift-down', 'seasonal-low']),
};

/** Points kept per derived series for the chart in the evidence. */
const RECENT_POINTS = 32;
/** A cadence whose gaps vary by more than this share of the interval is not regular. */
const MAX_JITTER = 0.5;

const PATTERN: Record<AnomalyChannel, string> = {
  spike: 'spike',
  dip: 'dip',
  'drift-up': 'sustained rise',
  'drift-down': 'sustained fall',
  'variance-up': 'more erratic than usual',
  'variance-down': 'steadier than usual',
  'seasonal-high': 'higher than usual for the time of day',
  'seasonal-low': 'lower than usual for the time of day',
  'weekly-high': 'higher than usual for the hour of the week',
  'weekly-low': 'lower than usual for the hour of the week',
};

const STUCK_PATTERN = 'the same value over and over (a stuck exporter, sensor or feed?)';
const STEADY_PATTERN =
  'far steadier than usual: the values still move, but much less than this series does (a feed interpolating or re-sending near-copies, a sensor losing its signal?)';

const YOUNG_PATTERN: Record<YoungDeparture, string> = {
  rise: 'jumped far above anything it showed (new series, model still warming up)',
  fall: 'fell to a small share of anything it showed (new series, model still warming up)',
  saturated: 'pinned at its limit (new series, model still warming up)',
};

/** A run of points that is unusual as a whole: the same value repeated, or a lull in the noise. */
interface Episode {
  readonly kind: 'stuck' | 'steady' | YoungDeparture;
  /** Points in the run. */
  readonly points: number;
}

interface Track {
  /** '' for the value itself, 'rate' for a counter, 'p95' … for a histogram. */
  readonly label: string;
  readonly slot: number;
  readonly fingerprint: string;
  readonly recent: RecentPoints;
  firing: Signal | undefined;
  /** The young departure the firing signal stands for, while the series is young. */
  departed?: Departed | undefined;
  calm: number;
  /** Time of the latest value that differed from the one before: where a run of repeats began. */
  changed: number;
}

interface Tracked {
  readonly series: string;
  readonly name: string;
  /** The series' human name, for titles. */
  readonly label: string;
  /** The latest value reported (before any derivation), for `GET /api/v1/series`. */
  lastValue: number;
  readonly unit: string;
  readonly related: readonly string[];
  readonly deriver: SeriesDeriver;
  readonly tracks: Track[];
  readonly silentFingerprint: string;
  /** Resolved at the series' first point (after a restart too, so edited rules apply). */
  policy: Policy | undefined;
  lastSeen: number;
  /** Usual gap between points, ms (EWMA); 0 until two points were seen. */
  interval: number;
  /** Usual |gap − interval| / interval. */
  jitter: number;
  seen: number;
  silent: Signal | undefined;
}

/** The anomaly detector, which also says which series it watches. */
export type { SeriesSeen };

export interface MetricAnomalyDetector extends Detector {
  /**
   * Watched series in key order, at most `limit`, after the key `after`; `next` is the cursor
   * of the following page. Bounded as the detector's state is (`maxSeries`).
   */
  seriesSeen(after: string | undefined, limit: number): { series: SeriesSeen[]; next?: string };
}

export function createMetricAnomalyDetector(options: MetricAnomalyOptions = {}): MetricAnomalyDetector {
  const maxSeries = options.maxSeries ?? 10_000;
  const fireScore = options.fireScore ?? 0.6;
  const calmScore = options.calmScore ?? 0.4;
  const calmPoints = options.calmPoints ?? 5;
  const quantiles = options.quantiles ?? [0.95];
  const silentIntervals = options.silentIntervals ?? 5;
  const minSilenceMs = options.minSilenceMs ?? 60_000;
  const minPointsForSilence = options.minPointsForSilence ?? 10;
  const severity = options.severity ?? 'low';
  const silentSeverity = options.silentSeverity ?? 'low';
  const pool = new AnomalyScorerPool(maxSeries, options.scorer);
  const defaults: Policy = {
    rule: undefined,
    watch: true,
    severity,
    silentSeverity,
    channels: undefined,
    stuck: true,
    fireScore,
  };
  /** Rules by metric name, each with its compiled matchers, in the order given. */
  const rules = new Map<string, { readonly matches: SeriesMatcher; readonly policy: Policy }[]>();
  for (const rule of options.rules ?? []) {
    const list = rules.get(rule.metric) ?? [];
    const direction = rule.direction ?? 'both';
    list.push({
      matches: compileMatchers(rule.match ?? {}),
      policy: {
        rule: rule.id,
        watch: rule.watch ?? true,
        severity: rule.severity ?? severity,
        silentSeverity: rule.silentSeverity ?? silentSeverity,
        channels: direction === 'both' ? undefined : DIRECTION_CHANNELS[direction],
        stuck: rule.stuck ?? true,
        fireScore: rule.fireScore ?? fireScore,
      },
    });
    rules.set(rule.metric, list);
  }

  function policyFor(obs: MetricObservation): Policy {
    for (const r of rules.get(obs.name) ?? []) if (r.matches(obs.attributes)) return r.policy;
    return defaults;
  }
  /** Insertion order is recency order: a point moves its series to the end. */
  const tracked = new Map<string, Tracked>();

  function observe(obs: Observation, ctx: DetectorContext): void {
    if (obs.type !== 'metric') return;
    const entry = track(obs, ctx);
    if (!entry) return;
    if (obs.time >= entry.lastSeen) entry.lastValue = obs.value;
    seen(entry, obs.time, ctx);
    const values = entry.deriver.next(obs);
    if (!values) return;
    for (let i = 0; i < entry.tracks.length; i++) {
      const value = values[i];
      if (value !== undefined) judge(entry, entry.tracks[i]!, obs, value, ctx);
    }
  }

  function track(obs: MetricObservation, ctx: DetectorContext): Tracked | undefined {
    const derivation = derivationOf(obs);
    const known = tracked.get(obs.series);
    const policy = known?.policy ?? policyFor(obs);
    if (!policy.watch) {
      if (known) forget(known, ctx, `anomaly rule ${policy.rule} does not watch it`);
      return undefined;
    }
    if (known && known.deriver.derivation === derivation) {
      known.policy = policy;
      tracked.delete(obs.series);
      tracked.set(obs.series, known);
      return known;
    }
    if (known) forget(known, ctx, 'its type changed');
    const deriver = new SeriesDeriver(derivation, quantiles);
    const tracks: Track[] = [];
    for (const label of deriver.labels()) {
      let slot = pool.allocate();
      while (slot < 0 && tracked.size > 0) {
        forget(tracked.values().next().value!, ctx, 'too many series');
        slot = pool.allocate();
      }
      if (slot < 0) {
        for (const t of tracks) pool.release(t.slot);
        return undefined;
      }
      tracks.push({
        label,
        slot,
        fingerprint: stableId('anom_', obs.series, label),
        recent: new RecentPoints(RECENT_POINTS),
        firing: undefined,
        calm: 0,
        changed: obs.time,
      });
    }
    const entry: Tracked = {
      series: obs.series,
      name: obs.name,
      label: seriesNameOf(obs),
      lastValue: obs.value,
      unit: obs.unit,
      related: seriesRelations(obs.attributes),
      deriver,
      tracks,
      silentFingerprint: stableId('silent_', obs.series),
      policy,
      lastSeen: obs.time,
      interval: 0,
      jitter: 0,
      seen: 0,
      silent: undefined,
    };
    tracked.set(obs.series, entry);
    return entry;
  }

  /** Drops a series, resolving what it had firing: nobody would ever resolve it otherwise. */
  function forget(entry: Tracked, ctx: DetectorContext, why: string): void {
    tracked.delete(entry.series);
    const now = ctx.now();
    for (const t of entry.tracks) {
      pool.release(t.slot);
      if (t.firing)
        ctx.emit({
          ...t.firing,
          status: 'resolved',
          time: now,
          title: `${what(entry, t)} no longer tracked (${why})`,
        });
    }
    if (entry.silent) {
      ctx.emit({
        ...entry.silent,
        status: 'resolved',
        time: now,
        title: `${entry.label} no longer tracked (${why})`,
      });
    }
  }

  /** Learns the series' cadence; a point from a silent series resolves its silence. */
  function seen(entry: Tracked, time: number, ctx: DetectorContext): void {
    if (entry.seen > 0 && time > entry.lastSeen) {
      const gap = time - entry.lastSeen;
      if (entry.interval === 0) entry.interval = gap;
      else {
        entry.jitter += 0.1 * (Math.min(2, Math.abs(gap - entry.interval) / entry.interval) - entry.jitter);
        entry.interval += 0.1 * (Math.min(gap, 3 * entry.interval) - entry.interval);
      }
    }
    if (time > entry.lastSeen || entry.seen === 0) entry.lastSeen = time;
    entry.seen++;
    if (entry.silent) {
      ctx.emit({
        ...entry.silent,
        status: 'resolved',
        time,
        title: `${entry.label} is reporting again`,
      });
      entry.silent = undefined;
    }
  }

  function judge(
    entry: Tracked,
    t: Track,
    obs: MetricObservation,
    value: number,
    ctx: DetectorContext,
  ): void {
    const policy = entry.policy ?? defaults;
    const raw = pool.score(t.slot, obs.time, value);
    // A departure in a direction the series' rule does not care about scores 0.
    const score = !policy.channels || policy.channels.has(pool.explain(t.slot).channel) ? raw : 0;
    t.recent.push(obs.time, value);
    const half = pool.config.halfScoreSurprise;
    const repeats = pool.repeats(t.slot);
    if (repeats.run === 0) t.changed = obs.time;
    // A run of repeats, and a lull, are scored on the same scale: −log10 of their chance for
    // this series. A lull is a change of variance: a rule for rises or falls only ignores it.
    const stuck = policy.stuck ? repeats.surprise / (repeats.surprise + half) : 0;
    const lull = policy.channels ? undefined : pool.calmness(t.slot);
    const steady = lull ? lull.surprise / (lull.surprise + half) : 0;
    const fire = policy.fireScore;
    // Before the model has warmed up, a departure from the series' own few points still counts.
    const departure =
      entry.seen < pool.config.warmupPoints ? youngDeparture(t.recent.toJSON().v, entry.unit) : undefined;
    const young =
      departure && (!policy.channels || policy.channels.has(departure.way === 'fall' ? 'dip' : 'spike'))
        ? departure
        : undefined;
    if (!t.firing) {
      if (score >= fire) t.firing = anomalySignal(entry, t, value, score, obs.time);
      else if (young) {
        t.firing = anomalySignal(entry, t, value, 1, obs.time, { kind: young.way, points: 2 });
        t.departed = young;
      } else if (stuck >= fire)
        t.firing = anomalySignal(entry, t, value, stuck, obs.time, {
          kind: 'stuck',
          points: repeats.run + 1,
        });
      else if (lull && steady >= fire)
        t.firing = anomalySignal(entry, t, value, steady, obs.time, { kind: 'steady', points: lull.points });
      else return;
      t.calm = 0;
      ctx.emit(t.firing);
      return;
    }
    // A point is calm when it scores low and would have scored below the fire level even without
    // the scorer's refractory damping: a series still throwing spikes is not calm just because
    // its spikes are no longer news. A series still repeating itself, or still in a lull, is not
    // calm either.
    const surprise = score > 0 ? pool.explain(t.slot).surprise : 0;
    const undamped = surprise / (surprise + half);
    // A young series that departed is calm only back on the near side of the line it crossed,
    // while it is young: its own few points cannot say that a value it keeps is its new normal.
    const departed = t.departed && entry.seen < pool.config.warmupPoints && stillDeparted(t.departed, value);
    t.calm =
      score < calmScore && undamped < fire && stuck < calmScore && steady < calmScore && !young && !departed
        ? t.calm + 1
        : 0;
    if (t.calm < calmPoints) return;
    ctx.emit({
      ...t.firing,
      status: 'resolved',
      time: obs.time,
      title: `${what(entry, t)} back to normal`,
      evidence: [
        { kind: 'value', label: 'observed (recovered)', value, unit: entry.unit },
        { kind: 'text', label: 'recent points', text: JSON.stringify(t.recent) },
        // when it began stays part of what the incident knows of it
        ...t.firing.evidence.filter((e) => e.label === DEPARTED_AT || e.label === DEPARTURE),
      ],
    });
    t.firing = undefined;
    t.departed = undefined;
  }

  /**
   * The firing signal for a surprising point, or for an `episode`: a run of repeats of the value
   * before it, or a lull.
   */
  function anomalySignal(
    entry: Tracked,
    t: Track,
    value: number,
    score: number,
    time: number,
    episode?: Episode,
  ): Signal {
    const why = pool.explain(t.slot);
    const unit = entry.unit;
    const range = `expected ${fmt(why.low)} to ${fmt(why.high)}`;
    const series = what(entry, t);
    let pattern: string;
    let title: string;
    let detail: Evidence[];
    if (episode?.kind === 'stuck') {
      const since = new Date(t.changed).toISOString();
      pattern = STUCK_PATTERN;
      title = `${series} stuck at ${fmt(value)} for ${episode.points} points`;
      detail = [
        { kind: 'value', label: 'repeated values', value: episode.points },
        { kind: 'text', label: 'unchanged since', text: since },
      ];
    } else if (episode?.kind === 'steady') {
      const since = new Date(time - episode.points * entry.interval).toISOString();
      pattern = STEADY_PATTERN;
      title = `${series} far steadier than usual for ${episode.points} points`;
      detail = [
        { kind: 'value', label: 'steady points', value: episode.points },
        { kind: 'text', label: 'steady since', text: since },
      ];
    } else if (episode) {
      const prior = t.recent.toJSON().v.slice(0, -2);
      pattern = YOUNG_PATTERN[episode.kind as YoungDeparture];
      title = `${series}: ${pattern}, ${fmt(value)} where its first ${prior.length} points were ${fmt(Math.min(...prior))} to ${fmt(Math.max(...prior))}`;
      detail = [
        { kind: 'value', label: 'departing points', value: episode.points },
        // it departed at the first of the points judged, not at the one that confirmed it
        {
          kind: 'text',
          label: DEPARTED_AT,
          text: new Date(time - (episode.points - 1) * entry.interval).toISOString(),
        },
      ];
    } else {
      pattern = PATTERN[why.channel];
      title = `${series}: ${pattern} at ${fmt(value)}`;
      detail = [{ kind: 'value', label: 'expected', value: round(why.expected), unit }];
    }
    const way =
      episode?.kind === 'fall' || (!episode && DIRECTION_CHANNELS.down.has(why.channel))
        ? 'fall'
        : episode?.kind === 'rise' ||
            episode?.kind === 'saturated' ||
            (!episode && DIRECTION_CHANNELS.up.has(why.channel))
          ? 'rise'
          : undefined;
    const evidence: Evidence[] = [
      { kind: 'value', label: 'observed', value, unit },
      ...detail,
      ...(way ? [{ kind: 'text', label: DEPARTURE, text: way } as const] : []),
      { kind: 'value', label: 'expected low', value: round(why.low), unit },
      { kind: 'value', label: 'expected high', value: round(why.high), unit },
      { kind: 'value', label: 'anomaly score', value: round(score) },
      { kind: 'text', label: 'pattern', text: pattern },
      { kind: 'text', label: 'expected range', text: range },
      { kind: 'text', label: 'series', text: entry.series },
      { kind: 'text', label: 'recent points', text: JSON.stringify(t.recent) },
      ...(entry.policy?.rule
        ? [{ kind: 'text', label: 'anomaly rule', text: entry.policy.rule } as const]
        : []),
    ];
    return {
      fingerprint: t.fingerprint,
      kind: 'metric.anomaly',
      status: 'firing',
      entity: entry.series,
      related: entry.related,
      time,
      severity: entry.policy?.severity ?? severity,
      title,
      evidence,
      detector: METRIC_ANOMALY_DETECTOR_ID,
    };
  }

  function tick(ctx: DetectorContext): void {
    const now = ctx.now();
    for (const entry of tracked.values()) {
      if (entry.silent || entry.seen < minPointsForSilence || entry.interval <= 0) continue;
      if (entry.jitter > MAX_JITTER) continue;
      const limit = Math.max(silentIntervals * entry.interval, minSilenceMs);
      if (now - entry.lastSeen <= limit) continue;
      entry.silent = {
        fingerprint: entry.silentFingerprint,
        kind: 'metric.silent',
        status: 'firing',
        entity: entry.series,
        related: entry.related,
        time: entry.lastSeen + limit,
        severity: entry.policy?.silentSeverity ?? silentSeverity,
        title: `${entry.label} stopped reporting (usually every ${seconds(entry.interval)})`,
        evidence: [
          { kind: 'text', label: 'series', text: entry.series },
          { kind: 'value', label: 'silent for', value: Math.round((now - entry.lastSeen) / 1000), unit: 's' },
          { kind: 'text', label: 'last point', text: new Date(entry.lastSeen).toISOString() },
          { kind: 'value', label: 'usual interval', value: Math.round(entry.interval / 1000), unit: 's' },
          // The silence began with the first point that did not come, not when it was judged
          // silent several intervals later: temporal precedence compares when anomalies began.
          {
            kind: 'text',
            label: DEPARTED_AT,
            text: new Date(entry.lastSeen + entry.interval).toISOString(),
          },
        ],
        detector: METRIC_ANOMALY_DETECTOR_ID,
      };
      ctx.emit(entry.silent);
    }
  }

  function snapshot(): MetricAnomalySnapshot {
    const series: SeriesSnapshot[] = [];
    for (const e of tracked.values()) {
      series.push({
        series: e.series,
        name: e.name,
        label: e.label,
        lastValue: e.lastValue,
        unit: e.unit,
        related: e.related,
        derivation: e.deriver.derivation,
        ...(e.deriver.baseline ? { baseline: e.deriver.baseline } : {}),
        lastSeen: e.lastSeen,
        interval: e.interval,
        jitter: e.jitter,
        seen: e.seen,
        ...(e.silent ? { silent: e.silent } : {}),
        tracks: e.tracks.map((t) => ({
          label: t.label,
          model: Buffer.from(pool.exportSlot(t.slot)).toString('base64'),
          recent: t.recent.toJSON(),
          calm: t.calm,
          changed: t.changed,
          ...(t.firing ? { firing: t.firing } : {}),
          ...(t.departed ? { departed: t.departed } : {}),
        })),
      });
    }
    return { format: SNAPSHOT_FORMAT, modelBytes: BYTES_PER_SERIES, series };
  }

  function restore(state: unknown): number {
    const snap = state as Partial<MetricAnomalySnapshot> | null;
    if (snap?.format !== SNAPSHOT_FORMAT || snap.modelBytes !== BYTES_PER_SERIES) return 0;
    if (!Array.isArray(snap.series)) return 0;
    let restored = 0;
    // Oldest first, as saved; only the newest that fit.
    for (const saved of snap.series.slice(-maxSeries)) {
      if (tracked.has(saved?.series)) continue;
      const entry = restoreSeries(saved);
      if (!entry) continue;
      tracked.set(entry.series, entry);
      restored++;
    }
    return restored;
  }

  /** A saved series as it was, or undefined (its slots back in the pool) when it does not fit. */
  function restoreSeries(saved: SeriesSnapshot): Tracked | undefined {
    const tracks: Track[] = [];
    try {
      const numbers = [saved.lastSeen, saved.interval, saved.jitter, saved.seen];
      if (
        typeof saved.series !== 'string' ||
        typeof saved.name !== 'string' ||
        typeof saved.unit !== 'string' ||
        !Array.isArray(saved.related) ||
        !Array.isArray(saved.tracks) ||
        !numbers.every(Number.isFinite)
      )
        return undefined;
      const deriver = new SeriesDeriver(saved.derivation, quantiles);
      const labels = deriver.labels();
      if (labels.length !== saved.tracks.length) return undefined;
      if (saved.baseline) deriver.baseline = saved.baseline;
      for (const [i, t] of saved.tracks.entries()) {
        if (t.label !== labels[i]) throw new Error('quantiles changed');
        const model = Buffer.from(t.model, 'base64');
        const slot = pool.allocate();
        if (slot < 0) throw new Error('no slot');
        tracks.push({
          label: t.label,
          slot,
          fingerprint: stableId('anom_', saved.series, t.label),
          recent: RecentPoints.fromJSON(t.recent, RECENT_POINTS),
          firing: t.firing,
          departed: t.firing && isDeparted(t.departed) ? t.departed : undefined,
          calm: t.calm,
          changed: Number.isFinite(t.changed) ? t.changed : saved.lastSeen,
        });
        pool.importSlot(slot, model);
      }
      return {
        series: saved.series,
        name: saved.name,
        label: typeof saved.label === 'string' ? saved.label : saved.name,
        lastValue: typeof saved.lastValue === 'number' ? saved.lastValue : Number.NaN,
        unit: saved.unit,
        related: saved.related,
        deriver,
        tracks,
        silentFingerprint: stableId('silent_', saved.series),
        policy: undefined,
        lastSeen: saved.lastSeen,
        interval: saved.interval,
        jitter: saved.jitter,
        seen: saved.seen,
        silent: saved.silent,
      };
    } catch {
      for (const t of tracks) pool.release(t.slot);
      return undefined;
    }
  }

  function seriesSeen(after: string | undefined, limit: number): { series: SeriesSeen[]; next?: string } {
    const keys: string[] = [];
    for (const k of tracked.keys()) if (after === undefined || k > after) keys.push(k);
    keys.sort();
    const page = keys.slice(0, limit).map((k) => {
      const e = tracked.get(k)!;
      return {
        series: e.series,
        name: e.name,
        label: e.label,
        unit: e.unit,
        lastValue: e.lastValue,
        lastSeen: e.lastSeen,
        interval: Math.round(e.interval),
        firing: e.silent !== undefined || e.tracks.some((t) => t.firing !== undefined),
      };
    });
    return keys.length > limit ? { series: page, next: page[page.length - 1]!.series } : { series: page };
  }

  return {
    id: METRIC_ANOMALY_DETECTOR_ID,
    accepts: ['metric'],
    observe,
    tick,
    seriesSeen,
    size: () => tracked.size,
    snapshot,
    restore,
  };
}

/** Bumped when the snapshot's shape changes; an older snapshot is then dropped. */
const SNAPSHOT_FORMAT = 1;

/** What the detector saves: each series' derivation, cadence, open signals and learnt model. */
interface MetricAnomalySnapshot {
  readonly format: number;
  /** The scorer's state size: a model saved by a different layout cannot be read back. */
  readonly modelBytes: number;
  /** Least recently seen first. */
  readonly series: readonly SeriesSnapshot[];
}

interface SeriesSnapshot {
  readonly series: string;
  readonly name: string;
  readonly label?: string;
  readonly lastValue?: number;
  readonly unit: string;
  readonly related: readonly string[];
  readonly derivation: Derivation;
  readonly baseline?: Baseline;
  readonly lastSeen: number;
  readonly interval: number;
  readonly jitter: number;
  readonly seen: number;
  readonly silent?: Signal;
  readonly tracks: readonly {
    readonly label: string;
    /** `AnomalyScorerPool.exportSlot`, base64. */
    readonly model: string;
    readonly recent: { t: number[]; v: number[] };
    readonly calm: number;
    readonly changed?: number;
    readonly firing?: Signal;
    readonly departed?: Departed;
  }[];
}

function isDeparted(d: Partial<Departed> | undefined): d is Departed {
  return (
    d !== undefined &&
    (d.way === 'rise' || d.way === 'fall' || d.way === 'saturated') &&
    Number.isFinite(d.bound)
  );
}

function what(entry: Tracked, t: Track): string {
  return t.label ? `${t.label} of ${entry.label}` : entry.label;
}

function round(v: number): number {
  return Number(v.toPrecision(6));
}

function fmt(v: number): string {
  return String(round(v));
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}
