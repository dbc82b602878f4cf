/**
 * Streaming anomaly scoring for metric series: O(1) work and a fixed 1.8 KB of state per series,
 * held in typed-array slabs so that a hundred thousand series cost one allocation, not a hundred
 * thousand objects.
 *
 * Each point is looked at through two models of "normal":
 *
 * - **local**: a fast, outlier-resistant level; the one-step residual is scaled by a blend of the
 *   series' usual residual and the usual residual at this time of day (so a nightly batch spike
 *   that happens every night stops being news, while the same spike at noon is);
 * - **context**: a smoothed level compared with what this series looked like at this time of day
 *   (and, once learnt and sharper, at this hour of the week) over the last days and weeks.
 *
 * From those come ten evidence channels: spike and dip (one point against the local model), drift
 * up and down (an exponentially weighted mean of the local residual: level shifts, trend
 * changes), variance up and down (the log of a short exponentially weighted mean of the squared
 * residual z: a series that starts to thrash, or one that goes suspiciously calm, a stuck sensor
 * or a stalled feed), seasonal high and low (the context model by time of day) and weekly high
 * and low (by hour of the week). The two contexts' deviations differ (a weekend is far off the
 * daily profile, on the weekly one), so each pair has its own tails, both learning at every point,
 * and only the context in use at the point is scored. A channel's
 * value is turned into a surprise, `-log10` of its tail probability, by a peaks-over-threshold
 * model of that channel's own history (a high quantile tracked online, the excesses over it
 * fitted by a generalised Pareto distribution through their moments). Surprises are therefore
 * comparable across channels and series: a heavy-tailed, spiky series needs a much larger spike
 * to surprise than a calm one.
 *
 * How long a tail should remember its excesses differs from series to series, and the ranking of
 * anomalies is sensitive to it. So each tail is fitted twice, with a slower and a faster memory,
 * and the point is scored by both: each memory's surprise is the largest of its channels, and is
 * sharpened on its own by a refractory envelope (a point only scores in full when it is more
 * surprising than what the series has just shown, so one incident yields one high score at its
 * onset rather than a plateau). The score is the mean of the two.
 *
 * Apart from the score, the pool follows runs of exact repeats (`repeats`): a series whose noise
 * never lets a value repeat for long, now showing the same value over and over, is stuck (an
 * exporter, a sensor, a feed re-sending its last value), though no single point is out of range.
 * It also follows lulls (`calmness`): points that come calm, well inside the usual residual, far
 * more often than the series' own habit allows. The variance-down channel names such a lull but
 * rarely scores it high, because its tail learns the lull while it deepens; the lull's own
 * sequential test does not.
 */

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** Weight of a new point's residual in the drift channel (about fifteen points of memory). */
const DRIFT_RATE = 0.065;
/** 1 / the standard deviation of the drift mean under white noise. */
const DRIFT_NORM = 1 / Math.sqrt(DRIFT_RATE / (2 - DRIFT_RATE));
/** No excess is more surprising than this (−log10 p beyond the tail's base): keeps noiseless series finite. */
const MAX_EXCESS_SURPRISE = 30;
/**
 * The refractory envelope remembers no surprise above this (−log10 p: one in a hundred million, a
 * certain anomaly whatever its exact figure): one extreme point must not mute its series for the
 * thousand points it would take an envelope of 20 or 30 to decay to an ordinary alarm's size.
 */
const REFRACTORY_CEILING = 8;
/** Time-of-day buckets (30 minutes). */
const DAY_BUCKETS = 48;
/** Hour-of-week buckets (2 hours). */
const WEEK_BUCKETS = 84;
/** Per value, the weight of what was counted before it in how often a series repeats itself. */
const REPEAT_MEMORY = 0.999;
/**
 * However rarely a series has repeated itself, a repeat is given at least this chance: a few
 * equal values in a row are then a one-in-a-million run, not an instant certainty.
 */
const REPEAT_FLOOR = 0.01;
/** Values counted (a run of repeats counts once it ends) before a run of repeats is judged. */
const REPEAT_EVIDENCE = 30;
/** A point is calm when its residual is under this share of the series' median residual. */
const CALM_SHARE = 0.25;
/** Step of the median tracker, as a share of the median (per point). */
const MEDIAN_STEP = 0.02;
/** How often a series that has gone calm is calm: the alternative of the calm CUSUM. */
const CALM_ALTERNATIVE = 0.8;
/** The calm CUSUM stops rising at 10^10 (certain), so that it falls back soon once the lull ends. */
const CALM_CEILING_RATIO = 1e10;
/** Points counted before the calm CUSUM is judged. */
const CALM_EVIDENCE = 300;

/** The evidence channels, in slab order. */
export const CHANNELS = [
  'spike',
  'dip',
  'drift-up',
  'drift-down',
  'variance-up',
  'variance-down',
  'seasonal-high',
  'seasonal-low',
  'weekly-high',
  'weekly-low',
] as const;
export type AnomalyChannel = (typeof CHANNELS)[number];
const NCH = CHANNELS.length;
const CH_SEASONAL_HIGH = 6;
const CH_WEEKLY_HIGH = 8;

// A series' state lives in four slabs, each indexed by its slot:
//
// - the head: Float64 fields, then Float32 fields and the tails' hot part, four cache lines that
//   every point reads and writes;
// - the excesses: the tails' cold part, touched only by channel values beyond their quantile;
// - the time-of-day and hour-of-week profiles, stored bucket-major (bucket by bucket, every
//   slot's entry for that bucket side by side). Collectors deliver every series' point for a
//   minute together, and series at the same time of day read the same buckets, so scoring a
//   minute sweeps each profile slab in order instead of jumping 1.8 KB from series to series.
const F_N = 0; // points scored
const F_T0 = 1; // time of the first point
const F_TL = 2; // time of the last point
const F_DT = 3; // usual interval between points (robust EWMA)
const F_LEVEL = 4; // fast local level
const F_SMOOTH = 5; // smoothed level (context model input)
const F_MEAN = 6; // slow mean of the raw values
const F_REF = 7; // the first value: profiles are stored relative to it, so Float32 keeps precision
const F_EXPECTED = 8; // expected value at the last point (for evidence)
const F_LOW = 9; // low end of the expected range at the last point
const F_HIGH = 10; // high end of the expected range at the last point
const F_LAST = 11; // the last value, exactly (to see repeats)
const NF64 = 12;
// Float32 head fields, in Float32 units from the start of the slot's head.
const H_SCALE = NF64 * 2; // usual absolute one-step residual
const H_SPREAD = H_SCALE + 1; // slow mean absolute deviation of the raw values
const H_CTXDEV = H_SCALE + 2; // usual absolute deviation of the smoothed level from its profile
const H_DRIFT = H_SCALE + 3; // EW mean of the clipped residual z
const H_VOLATILITY = H_SCALE + 4; // EW mean of the squared (clipped) residual z: the recent variance
const H_REFRACTORY = H_SCALE + 5; // decaying envelope of recent surprises (slow-memory tails)
const H_REFRACTORY_FAST = H_SCALE + 6; // the same envelope for the fast-memory tails
const H_SURPRISE = H_SCALE + 7; // raw surprise (-log10 p) of the last point
const H_CHANNEL = H_SCALE + 8; // index of the most surprising channel at the last point
// Repeats, counted with a memory of about a thousand values (`REPEAT_MEMORY`):
const H_REPEATS = H_SCALE + 9; // values equal to the one before them
const H_VALUES = H_SCALE + 10; // values
const H_REPEATS_AGAIN = H_SCALE + 11; // values after a repeat that repeated it again
const H_VALUES_AGAIN = H_SCALE + 12; // values after a repeat
const H_RESOLUTION = H_SCALE + 13; // smallest change between two values seen: the series' resolution
const H_RUN = H_SCALE + 14; // values in a row, up to the last, equal to the one before
const H_RUN_SURPRISE = H_SCALE + 15; // -log10 of the chance of that run
// Calm points (a residual well inside the usual one), counted like repeats, and a CUSUM of them:
const H_MEDIAN = H_SCALE + 16; // tracked median of the absolute one-step residual
const H_CALM = H_SCALE + 17; // calm points
const H_CALM_VALUES = H_SCALE + 18; // points
const H_CALM_AGAIN = H_SCALE + 19; // calm points right after a calm point
const H_CALM_AGAIN_VALUES = H_SCALE + 20; // points right after a calm point
const H_CALM_LAST = H_SCALE + 21; // 1 when the last point was calm
const H_CALM_CUSUM = H_SCALE + 22; // likelihood ratio of "calmer than usual", floored at 1 (0 before the first)
const H_CALM_RUN = H_SCALE + 23; // points since that ratio last rose above 1
/** Per channel, read and written at every point: tracked high quantile, EW mean value. */
const G_TAIL = Math.ceil((H_CALM_RUN + 1) / 16) * 16;
const TAIL_FIELDS = 2;
/** Float32 units of a slot's head, whole cache lines (16 floats = 64 bytes). */
const HEAD_F32 = Math.ceil((G_TAIL + NCH * TAIL_FIELDS) / 16) * 16;
const HEAD_F64 = HEAD_F32 / 2;
/**
 * Per channel, used only by values over the quantile: EW mean and mean square of the excesses
 * (slow memory), the same (fast memory), excess count.
 */
const EXCESS_FIELDS = 5;
const EXCESS_F32 = NCH * EXCESS_FIELDS;
/** Per time-of-day bucket: usual |one-step residual|, smoothed level, its usual |deviation|. */
const DAY_FIELDS = 3;
/** Per hour-of-week bucket: smoothed level, its usual |deviation|. */
const WEEK_FIELDS = 2;

/** State bytes per series. */
export const BYTES_PER_SERIES =
  4 * (HEAD_F32 + EXCESS_F32 + DAY_BUCKETS * DAY_FIELDS + WEEK_BUCKETS * WEEK_FIELDS);
/** Slots a pool holds before it first grows. */
const INITIAL_SLOTS = 64;

/** Tuning of the scorer. One configuration serves every series; nothing here is per-series. */
export interface AnomalyScorerConfig {
  /**
   * Weight of a new point in the fast local level.
   * @defaultValue 0.3
   */
  readonly levelRate: number;
  /**
   * Weight of a new residual in the series' usual residual.
   * @defaultValue 0.01
   */
  readonly scaleRate: number;
  /**
   * Share of the time-of-day residual in the spike scale (the rest is the series-wide one).
   * @defaultValue 0.7
   */
  readonly bucketScaleShare: number;
  /**
   * How far a day's points move a time-of-day bucket towards what they show.
   * @defaultValue 0.25
   */
  readonly dayLearningRate: number;
  /**
   * How far a week's points move an hour-of-week bucket towards what they show.
   * @defaultValue 0.7
   */
  readonly weekLearningRate: number;
  /**
   * Time constant of the smoothed level compared with the profiles, ms.
   * @defaultValue 900000
   */
  readonly smoothingMs: number;
  /**
   * Days of history after which the time-of-day context is scored.
   * @defaultValue 3
   */
  readonly dayContextAfterDays: number;
  /**
   * Days of history after which the hour-of-week context may replace the time-of-day one (where
   * it is tighter). Its own tails learn from the end of the first week, so that by then they know
   * what its deviations look like.
   * @defaultValue 21
   */
  readonly weekContextAfterDays: number;
  /**
   * The context deviation is widened by `1 + this / daysOfHistory` (young profiles are unsure).
   * @defaultValue 2
   */
  readonly dayContextDoubt: number;
  /**
   * Same for the hour-of-week profile.
   * @defaultValue 2
   */
  readonly weekContextDoubt: number;
  /**
   * Days over which a newly scored context's surprises ramp from nothing to full weight.
   * @defaultValue 2.5
   */
  readonly contextRampDays: number;
  /**
   * Share of the series-wide context deviation mixed into a bucket's own (shrinkage).
   * @defaultValue 0.35
   */
  readonly contextShrinkage: number;
  /**
   * Tail probability of the tracked quantile over which excesses are modelled.
   * @defaultValue 0.025
   */
  readonly tailProbability: number;
  /**
   * Step size of the quantile tracker, relative to the channel's mean value.
   * @defaultValue 0.0275
   */
  readonly tailQuantileRate: number;
  /**
   * Weights of a new excess in the tail moments of the slow and the fast memory. Each channel's
   * tail is fitted with both, and the score is the mean of what each makes of the point: no one
   * memory suits every series, and the pair ranks anomalies more steadily than either alone.
   * @defaultValue [0.015, 0.03]
   */
  readonly tailMomentRates: readonly [slow: number, fast: number];
  /**
   * A tail fitted on `n` excesses is trusted `n / (n + this)`: young tails claim less.
   * @defaultValue 9
   */
  readonly tailDoubt: number;
  /**
   * Points over which the refractory envelope decays by 1/e.
   * @defaultValue 500
   */
  readonly refractoryPoints: number;
  /**
   * Factor applied to a point's surprise when it does not exceed the refractory envelope.
   * @defaultValue 0.5
   */
  readonly refractoryFactor: number;
  /**
   * Points scored 0 while the models learn.
   * @defaultValue 100
   */
  readonly warmupPoints: number;
  /**
   * Scale floor, as a fraction of the series' spread (keeps noiseless series finite, and keeps
   * the ordinary steps of a quantised or plateau series, a CPU percentage or disk bytes, from
   * reading as many-sigma spikes). Chosen on the synthetic families (bench/metric-families.ts:
   * 0.01–0.02 is a plateau there, 0.005 misses plateaus far outside the range); NAB's
   * leave-one-category-out figure is the same for 0.005 and 0.015.
   * @defaultValue 0.015
   */
  readonly scaleFloor: number;
  /**
   * Residuals beyond this many scales move the fast level only this far (outlier resistance).
   * @defaultValue 4
   */
  readonly levelClip: number;
  /**
   * Weight of a new squared residual in the recent variance (variance-up and -down channels).
   * @defaultValue 0.15
   */
  readonly volatilityRate: number;
  /**
   * Surprise (−log10 p) that maps to a score of 0.5.
   * @defaultValue 4
   */
  readonly halfScoreSurprise: number;
}

export const DEFAULT_ANOMALY_CONFIG: AnomalyScorerConfig = {
  levelRate: 0.3,
  scaleRate: 0.01,
  bucketScaleShare: 0.7,
  dayLearningRate: 0.25,
  weekLearningRate: 0.7,
  smoothingMs: 900_000,
  dayContextAfterDays: 3,
  weekContextAfterDays: 21,
  dayContextDoubt: 2,
  weekContextDoubt: 2,
  contextRampDays: 2.5,
  contextShrinkage: 0.35,
  tailProbability: 0.025,
  tailQuantileRate: 0.0275,
  tailMomentRates: [0.015, 0.03],
  tailDoubt: 9,
  refractoryPoints: 500,
  refractoryFactor: 0.5,
  warmupPoints: 100,
  scaleFloor: 0.015,
  levelClip: 4,
  volatilityRate: 0.15,
  halfScoreSurprise: 4,
};

/** What the scorer expected at a series' last point, for evidence. */
export interface AnomalyExplanation {
  /** The value the most surprised model expected. */
  readonly expected: number;
  /** Expected range (±3 usual deviations) of that model. */
  readonly low: number;
  readonly high: number;
  /** −log10 of the tail probability of the most surprising channel. */
  readonly surprise: number;
  readonly channel: AnomalyChannel;
}

/**
 * Anomaly scorers for up to `capacity` series in one buffer. A series is a slot: `allocate()`
 * one, `score()` its points in time order, `release()` it when forgotten.
 */
export class AnomalyScorerPool {
  readonly capacity: number;
  readonly config: AnomalyScorerConfig;
  /** Slots the slabs hold. */
  #held = 0;
  #f64 = new Float64Array(0);
  #f32 = new Float32Array(0);
  #excesses = new Float32Array(0);
  #day = new Float32Array(0);
  #week = new Float32Array(0);
  /** Slots handed out at least once; the buffer holds at least this many. */
  #issued = 0;
  /** Released slots, reused first. */
  readonly #free: number[] = [];
  /** Channel values of the point being scored. */
  readonly #u = new Float64Array(NCH);
  // Configuration, unpacked for the hot path.
  readonly #levelRate: number;
  readonly #scaleRate: number;
  readonly #bucketShare: number;
  readonly #dayRate: number;
  readonly #weekRate: number;
  readonly #smoothingMs: number;
  readonly #dayAfterMs: number;
  readonly #weekAfterMs: number;
  readonly #dayDoubt: number;
  readonly #weekDoubt: number;
  readonly #rampMs: number;
  readonly #shrinkage: number;
  readonly #tailBase: number;
  readonly #tailStepUp: number;
  readonly #tailStepDown: number;
  readonly #momentRateSlow: number;
  readonly #momentRateFast: number;
  /**
   * Fractional arguments and results of the helpers `score` calls (`#beyond`, `#repeat`,
   * `#calm`): V8 does not inline them into `score`, and a double passed to or returned from a
   * call that is not inlined is boxed on the heap, which made garbage collection a sixth of the
   * run. Handed over in this array, they are not.
   */
  readonly #io = new Float64Array(2);
  readonly #tailDoubt: number;
  readonly #refractoryDecay: number;
  readonly #refractoryFactor: number;
  readonly #warmup: number;
  readonly #floorShare: number;
  readonly #levelClip: number;
  readonly #volatilityRate: number;
  readonly #half: number;

  constructor(capacity: number, config: Partial<AnomalyScorerConfig> = {}) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
    const c: AnomalyScorerConfig = { ...DEFAULT_ANOMALY_CONFIG, ...config };
    this.config = c;
    // The buffer grows (doubling) as slots are handed out, up to `capacity`.
    this.#grow(Math.min(capacity, INITIAL_SLOTS));
    this.#levelRate = c.levelRate;
    this.#scaleRate = c.scaleRate;
    this.#bucketShare = c.bucketScaleShare;
    this.#dayRate = c.dayLearningRate;
    this.#weekRate = c.weekLearningRate;
    this.#smoothingMs = c.smoothingMs;
    this.#dayAfterMs = c.dayContextAfterDays * DAY_MS;
    this.#weekAfterMs = c.weekContextAfterDays * DAY_MS;
    this.#dayDoubt = c.dayContextDoubt;
    this.#weekDoubt = c.weekContextDoubt;
    this.#rampMs = Math.max(c.contextRampDays * DAY_MS, 1);
    this.#shrinkage = c.contextShrinkage;
    this.#tailBase = -Math.log10(c.tailProbability);
    this.#tailStepUp = c.tailQuantileRate * (1 - c.tailProbability);
    this.#tailStepDown = c.tailQuantileRate * c.tailProbability;
    [this.#momentRateSlow, this.#momentRateFast] = c.tailMomentRates;
    this.#tailDoubt = c.tailDoubt;
    this.#refractoryDecay = Math.exp(-1 / c.refractoryPoints);
    this.#refractoryFactor = c.refractoryFactor;
    this.#warmup = c.warmupPoints;
    this.#floorShare = c.scaleFloor;
    this.#levelClip = c.levelClip;
    this.#volatilityRate = c.volatilityRate;
    this.#half = c.halfScoreSurprise;
  }

  /** Slots in use. */
  get size(): number {
    return this.#issued - this.#free.length;
  }

  /** A fresh slot, or -1 when every slot is taken. */
  allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) {
      this.reset(reused);
      return reused;
    }
    // A slot never handed out is still all zeros.
    if (this.#issued === this.capacity) return -1;
    const slot = this.#issued++;
    if (slot >= this.#held) this.#grow(Math.min(this.capacity, this.#held * 2));
    return slot;
  }

  /** Returns a slot to the pool. */
  release(slot: number): void {
    this.#free.push(slot);
  }

  #grow(slots: number): void {
    const held = this.#held;
    const head = new Float32Array(slots * HEAD_F32);
    head.set(this.#f32);
    this.#f32 = head;
    this.#f64 = new Float64Array(head.buffer);
    const excesses = new Float32Array(slots * EXCESS_F32);
    excesses.set(this.#excesses);
    this.#excesses = excesses;
    this.#day = regroup(this.#day, DAY_BUCKETS, held * DAY_FIELDS, slots * DAY_FIELDS);
    this.#week = regroup(this.#week, WEEK_BUCKETS, held * WEEK_FIELDS, slots * WEEK_FIELDS);
    this.#held = slots;
  }

  /** Forgets everything a slot learnt. */
  reset(slot: number): void {
    this.#regions(slot, (slab, from, floats) => slab.fill(0, from, from + floats));
  }

  /**
   * Everything a slot has learnt, as `BYTES_PER_SERIES` bytes (to carry a series' model over a
   * restart). Only a pool with the same layout (`BYTES_PER_SERIES`) can read it back.
   */
  exportSlot(slot: number): Uint8Array {
    const out = new Uint8Array(BYTES_PER_SERIES);
    let at = 0;
    this.#regions(slot, (slab, from, floats) => {
      out.set(new Uint8Array(slab.buffer, slab.byteOffset + from * 4, floats * 4), at);
      at += floats * 4;
    });
    return out;
  }

  /** Replaces what a slot has learnt with an `exportSlot` image. */
  importSlot(slot: number, state: Uint8Array): void {
    if (state.byteLength !== BYTES_PER_SERIES)
      throw new RangeError(`slot state must be ${BYTES_PER_SERIES} bytes, got ${state.byteLength}`);
    let at = 0;
    this.#regions(slot, (slab, from, floats) => {
      new Uint8Array(slab.buffer, slab.byteOffset + from * 4, floats * 4).set(
        state.subarray(at, at + floats * 4),
      );
      at += floats * 4;
    });
  }

  /** Visits the runs of floats that hold a slot's state, always in the same order. */
  #regions(slot: number, visit: (slab: Float32Array, from: number, floats: number) => void): void {
    visit(this.#f32, slot * HEAD_F32, HEAD_F32);
    visit(this.#excesses, slot * EXCESS_F32, EXCESS_F32);
    for (let k = 0; k < DAY_BUCKETS; k++) visit(this.#day, (k * this.#held + slot) * DAY_FIELDS, DAY_FIELDS);
    for (let k = 0; k < WEEK_BUCKETS; k++)
      visit(this.#week, (k * this.#held + slot) * WEEK_FIELDS, WEEK_FIELDS);
  }

  /** Points scored by a slot. */
  points(slot: number): number {
    return this.#f64[slot * HEAD_F64 + F_N]!;
  }

  /** Time of a slot's last point (epoch ms), 0 before the first. */
  lastTime(slot: number): number {
    return this.#f64[slot * HEAD_F64 + F_TL]!;
  }

  /** A slot's usual interval between points (ms), 0 until two points were seen. */
  interval(slot: number): number {
    return this.#f64[slot * HEAD_F64 + F_DT]!;
  }

  /**
   * How many of its usual intervals a slot's series has been silent at `now`: 0 before its
   * cadence is known, about 1 while it reports on time, much more once it has stopped.
   */
  silence(slot: number, now: number): number {
    const a = slot * HEAD_F64;
    const dt = this.#f64[a + F_DT]!;
    return dt > 0 ? Math.max(0, now - this.#f64[a + F_TL]!) / dt : 0;
  }

  /** What the scorer expected at the slot's last point. */
  explain(slot: number): AnomalyExplanation {
    const a = slot * HEAD_F64;
    const b = slot * HEAD_F32;
    const f = this.#f64;
    const g = this.#f32;
    return {
      expected: f[a + F_EXPECTED]!,
      low: f[a + F_LOW]!,
      high: f[a + F_HIGH]!,
      surprise: g[b + H_SURPRISE]!,
      channel: CHANNELS[g[b + H_CHANNEL]!] ?? 'spike',
    };
  }

  /**
   * Scores one point of a slot's series: 0 (expected) to 1 (extremely surprising), using only
   * this point and earlier ones, then learns from it. 0.5 means a surprise of
   * `halfScoreSurprise` (by default a one-in-ten-thousand event for its channel). Points must
   * come in time order; a non-finite value scores 0 and is not learnt.
   */
  score(slot: number, time: number, value: number): number {
    if (!Number.isFinite(value) || !Number.isFinite(time)) return 0;
    const f = this.#f64;
    const g = this.#f32;
    const day = this.#day;
    const week = this.#week;
    const a = slot * HEAD_F64;
    const b = slot * HEAD_F32;
    const n = f[a + F_N]!;
    if (n === 0) {
      f[a + F_N] = 1;
      f[a + F_T0] = time;
      f[a + F_TL] = time;
      f[a + F_LEVEL] = value;
      f[a + F_SMOOTH] = value;
      f[a + F_REF] = value;
      f[a + F_MEAN] = value;
      f[a + F_EXPECTED] = value;
      f[a + F_LOW] = value;
      f[a + F_HIGH] = value;
      f[a + F_LAST] = value;
      return 0;
    }
    f[a + F_N] = n + 1;

    // Cadence: a robust average of the gaps between points.
    const gap = time - f[a + F_TL]!;
    let dt = f[a + F_DT]!;
    if (gap > 0) {
      dt = dt === 0 ? gap : dt + 0.05 * (Math.min(Math.max(gap, 0.5 * dt), 2 * dt) - dt);
      f[a + F_DT] = dt;
      f[a + F_TL] = time;
    }
    const age = time - f[a + F_T0]!;
    const daily = dt > 0 && dt <= DAY_MS / 12;
    const weekly = dt > 0 && dt <= WEEK_MS / 56;
    const spread = g[b + H_SPREAD]!;
    const floor = this.#floorShare * spread + 1e-12;

    // Time-of-day and hour-of-week positions, each between two bucket centres.
    let d0 = 0;
    let d1 = 0;
    let dw = 0;
    let w0 = 0;
    let w1 = 0;
    let ww = 0;
    const days = time / DAY_MS;
    if (daily) {
      const pos = (days - Math.floor(days)) * DAY_BUCKETS - 0.5;
      d0 = Math.floor(pos);
      dw = pos - d0;
      d1 = d0 + 1;
      if (d0 < 0) d0 += DAY_BUCKETS;
      if (d1 >= DAY_BUCKETS) d1 -= DAY_BUCKETS;
      d0 = (d0 * this.#held + slot) * DAY_FIELDS;
      d1 = (d1 * this.#held + slot) * DAY_FIELDS;
    }
    if (weekly) {
      const weeks = (days + 4) / 7; // weeks start on Monday 00:00 UTC
      const pos = (weeks - Math.floor(weeks)) * WEEK_BUCKETS - 0.5;
      w0 = Math.floor(pos);
      ww = pos - w0;
      w1 = w0 + 1;
      if (w0 < 0) w0 += WEEK_BUCKETS;
      if (w1 >= WEEK_BUCKETS) w1 -= WEEK_BUCKETS;
      w0 = (w0 * this.#held + slot) * WEEK_FIELDS;
      w1 = (w1 * this.#held + slot) * WEEK_FIELDS;
    }

    // Local model: residual against the fast level, scaled by the usual residual here and now.
    const level = f[a + F_LEVEL]!;
    const residual = value - level;
    const scale = Math.max(g[b + H_SCALE]!, floor);
    let scale2 = scale * scale;
    // The usual |residual| at this time of day (0 until learnt, or for a series without days).
    let bd = 0;
    if (daily) {
      bd = (1 - dw) * day[d0]! + dw * day[d1]!;
      if (bd > 0) scale2 = (1 - this.#bucketShare) * scale2 + this.#bucketShare * bd * bd;
    }
    const localScale = 1.25 * Math.sqrt(scale2);
    const z = n < 3 ? 0 : residual / localScale;

    // Context model: smoothed level against the time-of-day (or hour-of-week) profile.
    const smoothed = f[a + F_SMOOTH]! + (dt / (this.#smoothingMs + dt)) * (value - f[a + F_SMOOTH]!);
    f[a + F_SMOOTH] = smoothed;
    const ref = f[a + F_REF]!;
    const smooth = smoothed - ref;
    let zc = 0;
    let ctxMean = 0;
    let ctxScale = 0;
    let zw = 0;
    let weekMean = 0;
    let weekScale = 0;
    let weekChosen = false;
    if (daily && age > this.#dayAfterMs) {
      const history = age / DAY_MS;
      const pm = (1 - dw) * day[d0 + 1]! + dw * day[d1 + 1]!;
      const pv = (1 - dw) * day[d0 + 2]! + dw * day[d1 + 2]!;
      const dev = g[b + H_CTXDEV]!;
      g[b + H_CTXDEV] = dev + 0.01 * (Math.min(Math.abs(smooth - pm), 6 * dev + floor) - dev);
      const shrunk = this.#shrinkage * dev * dev + floor * floor;
      ctxMean = pm;
      ctxScale = 1.25 * (1 + this.#dayDoubt / history) * Math.sqrt(pv * pv + shrunk);
      zc = (smooth - ctxMean) / ctxScale;
      // The hour-of-week context, once the profile has seen every hour of the week: its tails
      // learn from then on, and it is scored instead of the time-of-day one where it is tighter,
      // once trusted (`weekContextAfterDays`).
      if (weekly && age > WEEK_MS) {
        const qv = (1 - ww) * week[w0 + 1]! + ww * week[w1 + 1]!;
        weekMean = (1 - ww) * week[w0]! + ww * week[w1]!;
        weekScale = 1.25 * (1 + this.#weekDoubt / history) * Math.sqrt(qv * qv + shrunk);
        zw = (smooth - weekMean) / weekScale;
        weekChosen = qv < pv && age > this.#weekAfterMs;
      }
    }

    // Channels: one-point, short and long mean, mean square of the local residual; context.
    const drift = g[b + H_DRIFT]! + DRIFT_RATE * (Math.max(-20, Math.min(20, z)) - g[b + H_DRIFT]!);
    g[b + H_DRIFT] = drift;
    const driftZ = drift * DRIFT_NORM;
    // Recent variance relative to the usual one (z is scaled by the usual residual, which adapts
    // several times slower than this mean), in log terms: a series that starts to thrash, or one
    // that suddenly calms down (a stuck sensor, a stalled feed).
    const zz = Math.min(z * z, 400);
    const volatility = n < 3 ? 1 : g[b + H_VOLATILITY]! + this.#volatilityRate * (zz - g[b + H_VOLATILITY]!);
    g[b + H_VOLATILITY] = volatility;
    const logVolatility = Math.log(Math.max(volatility, 1e-6));
    const u = this.#u;
    u[0] = Math.max(z, 0);
    u[1] = Math.max(-z, 0);
    u[2] = Math.max(driftZ, 0);
    u[3] = Math.max(-driftZ, 0);
    u[4] = Math.max(logVolatility, 0);
    u[5] = Math.max(-logVolatility, 0);
    u[6] = Math.max(zc, 0);
    u[7] = Math.max(-zc, 0);
    u[8] = Math.max(zw, 0);
    u[9] = Math.max(-zw, 0);
    const channels = weekScale > 0 ? NCH : ctxScale > 0 ? CH_WEEKLY_HIGH : CH_SEASONAL_HIGH;
    // Both contexts' tails learn at every point; only the chosen context's pair is scored.
    const unscored = weekChosen ? CH_SEASONAL_HIGH : CH_WEEKLY_HIGH;

    // Each memory's surprise is its most surprising channel; the explanation names the channel
    // that surprises both most.
    let slow = 0;
    let fast = 0;
    let both = 0;
    let channel = 0;
    // A new context is trusted gradually: its channels ramp in over `contextRampDays`.
    const ramp = channels > CH_SEASONAL_HIGH ? Math.min(1, (age - this.#dayAfterMs) / this.#rampMs) : 0;
    for (
      let k = 0, t = b + G_TAIL, e = slot * EXCESS_F32;
      k < channels;
      k++, t += TAIL_FIELDS, e += EXCESS_FIELDS
    ) {
      // The channel's value against its tail (tracked quantile `th`); the tail learns it.
      const x = u[k]!;
      const th = g[t]!;
      const mean = g[t + 1]! + 0.01 * (x - g[t + 1]!);
      g[t + 1] = mean;
      let s: number;
      let sf: number;
      if (x <= th) {
        // Below the modelled tail: a ramp up to the tail's base surprise keeps the order.
        g[t] = Math.max(th - this.#tailStepDown * Math.max(mean, 1e-9), 0);
        s = th > 0 ? this.#tailBase * (x / th) : 0;
        sf = s;
      } else {
        const io = this.#io;
        io[0] = x - th;
        io[1] = mean;
        this.#beyond(t, e);
        s = io[0]!;
        sf = io[1]!;
      }
      if (k === unscored || k === unscored + 1) continue;
      if (k >= CH_SEASONAL_HIGH) {
        s *= ramp;
        sf *= ramp;
      }
      if (s > slow) slow = s;
      if (sf > fast) fast = sf;
      if (s + sf > both) {
        both = s + sf;
        channel = k;
      }
    }
    const surprise = 0.5 * (slow + fast);

    // Expected range of the model behind the most surprising channel.
    if (channel >= CH_WEEKLY_HIGH) {
      f[a + F_EXPECTED] = ref + weekMean;
      f[a + F_LOW] = ref + weekMean - 3 * weekScale;
      f[a + F_HIGH] = ref + weekMean + 3 * weekScale;
    } else if (channel >= CH_SEASONAL_HIGH) {
      f[a + F_EXPECTED] = ref + ctxMean;
      f[a + F_LOW] = ref + ctxMean - 3 * ctxScale;
      f[a + F_HIGH] = ref + ctxMean + 3 * ctxScale;
    } else {
      f[a + F_EXPECTED] = level;
      f[a + F_LOW] = level - 3 * localScale;
      f[a + F_HIGH] = level + 3 * localScale;
    }
    g[b + H_SURPRISE] = surprise;
    g[b + H_CHANNEL] = channel;

    const io = this.#io;
    io[0] = value;
    io[1] = localScale;
    this.#repeat(a, b);
    io[0] = residual;
    io[1] = bd;
    this.#calm(b);

    // Learn from the point.
    const absResidual = Math.abs(residual);
    const oldScale = g[b + H_SCALE]!;
    g[b + H_SCALE] =
      n === 1 ? absResidual : oldScale + this.#scaleRate * (Math.min(absResidual, 4 * scale) - oldScale);
    const mean = f[a + F_MEAN]! + 0.01 * (value - f[a + F_MEAN]!);
    f[a + F_MEAN] = mean;
    g[b + H_SPREAD] = spread + 0.01 * (Math.abs(value - mean) - spread);
    const clip = this.#levelClip * localScale;
    f[a + F_LEVEL] = level + this.#levelRate * Math.max(-clip, Math.min(clip, residual));
    if (daily) {
      const rate = this.#dayRate * Math.min(1, (dt * DAY_BUCKETS) / DAY_MS);
      const r0 = rate * (1 - dw);
      const r1 = rate * dw;
      const bd0 = day[d0]!;
      const bd1 = day[d1]!;
      // The time-of-day residual learns twice as fast as the profile: it only needs a scale.
      day[d0] = bd0 === 0 ? absResidual : bd0 + 2 * r0 * (Math.min(absResidual, 6 * bd0 + floor) - bd0);
      day[d1] = bd1 === 0 ? absResidual : bd1 + 2 * r1 * (Math.min(absResidual, 6 * bd1 + floor) - bd1);
      learnProfile(day, d0 + 1, r0, smooth, spread, floor);
      learnProfile(day, d1 + 1, r1, smooth, spread, floor);
      if (weekly) {
        const wr = this.#weekRate * Math.min(1, (dt * WEEK_BUCKETS) / WEEK_MS);
        learnProfile(week, w0, wr * (1 - ww), smooth, spread, floor);
        learnProfile(week, w1, wr * ww, smooth, spread, floor);
      }
    }

    if (n + 1 < this.#warmup) return 0;
    // Refractory, per memory: only what exceeds its recent surprise envelope scores in full.
    const sharp = 0.5 * (this.#sharpen(b + H_REFRACTORY, slow) + this.#sharpen(b + H_REFRACTORY_FAST, fast));
    return sharp / (sharp + this.#half);
  }

  /**
   * Tracks runs of exact repeats (a value equal to the one before it): how long the current run
   * is and how unlikely, given how often this series repeats itself. A series repeats by nature
   * (a gauge sampled faster than it changes, counts that are often zero) and by chance (two
   * values of a series with resolution `r` and noise `σ` are equal about `r / (2√π σ)` of the
   * time); the likelier of the two is the run's null model. What a run teaches is learnt when it
   * ends, so a series that stays stuck keeps looking stuck. The value is `#io[0]`, the local
   * scale `#io[1]`.
   */
  #repeat(a: number, b: number): void {
    const value = this.#io[0]!;
    const localScale = this.#io[1]!;
    const f = this.#f64;
    const g = this.#f32;
    const last = f[a + F_LAST]!;
    f[a + F_LAST] = value;
    const run = g[b + H_RUN]!;
    const resolution = g[b + H_RESOLUTION]!;
    if (value !== last) {
      const step = Math.abs(value - last);
      if (resolution === 0 || step < resolution) g[b + H_RESOLUTION] = step;
      // The run that ends here: `run` values that repeated the one before, then one that did not;
      // `run − 1` of them, and this one, came after a repeat.
      const fade = run === 0 ? REPEAT_MEMORY : REPEAT_MEMORY ** (run + 1);
      g[b + H_REPEATS] = g[b + H_REPEATS]! * fade + run;
      g[b + H_VALUES] = g[b + H_VALUES]! * fade + run + 1;
      if (run > 0) {
        const fadeAgain = REPEAT_MEMORY ** run;
        g[b + H_REPEATS_AGAIN] = g[b + H_REPEATS_AGAIN]! * fadeAgain + run - 1;
        g[b + H_VALUES_AGAIN] = g[b + H_VALUES_AGAIN]! * fadeAgain + run;
      }
      g[b + H_RUN] = 0;
      g[b + H_RUN_SURPRISE] = 0;
      return;
    }
    g[b + H_RUN] = run + 1;
    // A series that has never changed gives no evidence of being stuck.
    if (resolution === 0) return;
    const chance = resolution / (3.545 * localScale);
    // A series that often repeats itself repeats its repeats too: how often it repeats a value
    // bounds the odds of each repeat in a run from below.
    const p = g[b + H_REPEATS]! / (g[b + H_VALUES]! + 1);
    const again = run === 0 ? 0 : g[b + H_REPEATS_AGAIN]! / (g[b + H_VALUES_AGAIN]! + 1);
    const likelihood = Math.min(1, Math.max(p, again, chance, REPEAT_FLOOR));
    g[b + H_RUN_SURPRISE] = Math.min(g[b + H_RUN_SURPRISE]! - Math.log10(likelihood), MAX_EXCESS_SURPRISE);
  }

  /**
   * The run of exact repeats a slot's series is in at its last point: how many values in a row
   * equalled the one before, and −log10 of the chance of such a run for this series (0 until
   * `REPEAT_EVIDENCE` values have shown how often it repeats itself, and for a series that has
   * never changed). A stuck exporter or sensor, or a feed
   * re-sending its last value, shows here long before its calm would surprise the score.
   */
  repeats(slot: number): { readonly run: number; readonly surprise: number } {
    const b = slot * HEAD_F32;
    const g = this.#f32;
    const known = g[b + H_VALUES]! >= REPEAT_EVIDENCE;
    return { run: g[b + H_RUN]!, surprise: known ? g[b + H_RUN_SURPRISE]! : 0 };
  }

  /**
   * Follows how calm the series is: a point is calm when its one-step residual is well inside the
   * series' median residual (`CALM_SHARE`). How often a point is calm, and how often a calm point
   * follows a calm one, is learnt like repeats (a two-state Markov chain, with a memory of about a
   * thousand points); a CUSUM of the log-likelihood ratio of "calm `CALM_ALTERNATIVE` of the time"
   * against that chain rises while calm points come more often than the series' own habit allows.
   * The median moves little when a burst inflates the usual residual, so the lull after a burst
   * is not calm; a series calm by nature (held gauges, quiet nights) learns its calm runs. The
   * one-step residual is `#io[0]`, the usual residual at this time of day `#io[1]`.
   */
  #calm(b: number): void {
    const residual = this.#io[0]!;
    const bucketScale = this.#io[1]!;
    const g = this.#f32;
    const r = Math.abs(residual);
    // An exact repeat is the run tracker's to judge (a held gauge, a stuck value), not a lull.
    if (g[b + H_RUN]! > 0) return;
    const median = g[b + H_MEDIAN]!;
    if (median === 0) {
      // Not known until the first nonzero residual.
      if (r > 0) g[b + H_MEDIAN] = r;
      return;
    }
    // At a time of day that is usually quieter (nights), calm is judged against that quiet (a
    // mean absolute residual is about 1.2 times the median under normal noise).
    const usual = bucketScale > 0 ? Math.min(median, 0.85 * bucketScale) : median;
    const calm = r < CALM_SHARE * usual ? 1 : 0;
    g[b + H_MEDIAN] = median * (r > median ? 1 + MEDIAN_STEP : 1 - MEDIAN_STEP);
    const last = g[b + H_CALM_LAST]! === 1;
    const chance = last
      ? (g[b + H_CALM_AGAIN]! + 0.5) / (g[b + H_CALM_AGAIN_VALUES]! + 1)
      : (g[b + H_CALM]! + 0.5) / (g[b + H_CALM_VALUES]! + 1);
    const p = Math.min(Math.max(chance, 0.01), 0.99);
    // The CUSUM is kept as its likelihood ratio (≥ 1): a product per point, no logarithm.
    const step = calm ? CALM_ALTERNATIVE / p : (1 - CALM_ALTERNATIVE) / (1 - p);
    const ratio = Math.min(Math.max((g[b + H_CALM_CUSUM]! || 1) * step, 1), CALM_CEILING_RATIO);
    g[b + H_CALM_CUSUM] = ratio;
    g[b + H_CALM_RUN] = ratio > 1 ? g[b + H_CALM_RUN]! + 1 : 0;
    g[b + H_CALM] = g[b + H_CALM]! * REPEAT_MEMORY + calm;
    g[b + H_CALM_VALUES] = g[b + H_CALM_VALUES]! * REPEAT_MEMORY + 1;
    if (last) {
      g[b + H_CALM_AGAIN] = g[b + H_CALM_AGAIN]! * REPEAT_MEMORY + calm;
      g[b + H_CALM_AGAIN_VALUES] = g[b + H_CALM_AGAIN_VALUES]! * REPEAT_MEMORY + 1;
    }
    g[b + H_CALM_LAST] = calm;
  }

  /**
   * How much calmer than usual a slot's series has been lately: log10 of the likelihood ratio
   * of "calm most of the time" against the series' own habit (0 until `CALM_EVIDENCE` points were
   * counted), and the `points` since it started to rise. A noise that falls to a tenth, a
   * feed that starts smoothing or interpolating its values, shows here though no point is out of
   * range.
   */
  calmness(slot: number): { readonly points: number; readonly surprise: number } {
    const b = slot * HEAD_F32;
    const g = this.#f32;
    const known = g[b + H_CALM_VALUES]! >= CALM_EVIDENCE;
    const ratio = g[b + H_CALM_CUSUM]!;
    return { points: g[b + H_CALM_RUN]!, surprise: known && ratio > 1 ? Math.log10(ratio) : 0 };
  }

  /**
   * `surprise`, damped unless it exceeds the decaying envelope at `e`; then raises the envelope
   * (to at most `REFRACTORY_CEILING`).
   */
  #sharpen(e: number, surprise: number): number {
    const g = this.#f32;
    const envelope = g[e]!;
    g[e] = Math.max(envelope * this.#refractoryDecay, Math.min(surprise, REFRACTORY_CEILING));
    return surprise > envelope ? surprise : surprise * this.#refractoryFactor;
  }

  /**
   * Surprise of an excess `y` (`#io[0]`) over the tail quantile at `t` (whose channel's mean value
   * is now `mean`, `#io[1]`) under the slow- and the fast-memory fit of the excesses at `e`, left
   * in `#io[0]` and `#io[1]`; then learns `y` and raises the quantile.
   */
  #beyond(t: number, e: number): void {
    const io = this.#io;
    const y = io[0]!;
    const mean = io[1]!;
    const x = this.#excesses;
    const count = x[e + 4]!;
    io[0] = this.#excess(x[e]!, x[e + 1]!, count, y);
    io[1] = this.#excess(x[e + 2]!, x[e + 3]!, count, y);
    this.#learnExcess(e, y);
    const g = this.#f32;
    g[t] = g[t]! + this.#tailStepUp * Math.max(mean, 1e-9);
  }

  /**
   * Surprise of an excess `y` over a tail's threshold, from a generalised Pareto fit of the
   * `count` past excesses, whose mean is `m1` and mean square `m2`, by the method of moments
   * (ξ = ½(1 − m²/v), σ = ½m(1 + m²/v)).
   */
  #excess(m1: number, m2: number, count: number, y: number): number {
    let s = this.#tailBase;
    if (count >= 5) {
      const v = Math.max(m2 - m1 * m1, 1e-30);
      const r = (m1 * m1) / v;
      const xi = Math.max(0.5 * (1 - r), 0);
      const sigma = Math.max(0.5 * m1 * (1 + r), 1e-30);
      if (xi < 1e-3) s += Math.min(y / sigma / Math.LN10, MAX_EXCESS_SURPRISE);
      else {
        const q = 1 + (xi * y) / sigma;
        s += Math.min(Math.log10(q) / xi, MAX_EXCESS_SURPRISE);
      }
      s *= count / (count + this.#tailDoubt);
    }
    return s;
  }

  /** Learns one excess `y` into both memories of the excesses at `e`. */
  #learnExcess(e: number, y: number): void {
    const g = this.#excesses;
    const count = g[e + 4]!;
    const yy = y * y;
    if (count === 0) {
      g[e] = y;
      g[e + 1] = yy;
      g[e + 2] = y;
      g[e + 3] = yy;
    } else {
      const slow = this.#momentRateSlow;
      const fast = this.#momentRateFast;
      g[e] = g[e]! + slow * (y - g[e]!);
      g[e + 1] = g[e + 1]! + slow * (yy - g[e + 1]!);
      g[e + 2] = g[e + 2]! + fast * (y - g[e + 2]!);
      g[e + 3] = g[e + 3]! + fast * (yy - g[e + 3]!);
    }
    g[e + 4] = count + 1;
  }
}

/**
 * A bucket-major slab of `buckets` groups, each `from` floats long, re-laid out with groups `to`
 * floats long (the new tail of each group zeroed).
 */
function regroup(slab: Float32Array, buckets: number, from: number, to: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(buckets * to);
  for (let k = 0; k < buckets; k++) out.set(slab.subarray(k * from, (k + 1) * from), k * to);
  return out;
}

/** Moves a profile bucket's mean (at `i`) and absolute deviation (at `i + 1`) towards `s`. */
function learnProfile(
  g: Float32Array,
  i: number,
  rate: number,
  s: number,
  spread: number,
  floor: number,
): void {
  const m = g[i]!;
  const d = g[i + 1]!;
  if (m === 0 && d === 0) {
    g[i] = s;
    g[i + 1] = Math.max(spread, floor);
    return;
  }
  g[i] = m + rate * (s - m);
  g[i + 1] = d + rate * (Math.min(Math.abs(s - m), 4 * d + floor) - d);
}
