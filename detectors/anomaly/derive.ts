import type { HistogramValue, MetricObservation } from '../../src/core/index.ts';

/**
 * What a metric point means as a number worth scoring. A cumulative counter's value only ever
 * grows, so its story is its rate; a histogram's is its tail latency, not its running count.
 *
 * - gauges, delta sums and non-monotonic sums: the value as reported;
 * - cumulative monotonic sums: the rate per second since the previous point. A reset (the value
 *   drops, or the start of the accumulation window changes) starts a new baseline, not a rate;
 * - histograms: one estimate per requested quantile (p95 by default) from the bucket counts of
 *   the interval (cumulative histograms are differenced the same way counters are).
 */
export type Derivation = 'value' | 'rate' | 'histogram';

export function derivationOf(obs: MetricObservation): Derivation {
  if (obs.metricType === 'histogram') return 'histogram';
  if (obs.metricType === 'sum' && obs.monotonic && obs.temporality === 'cumulative') return 'rate';
  return 'value';
}

/** What a cumulative series reported last, to difference the next point against. */
export interface Baseline {
  readonly time: number;
  readonly value: number;
  readonly start: number | undefined;
  readonly counts: readonly number[] | undefined;
}

/** Turns one raw series' points into the values to score; remembers what differencing needs. */
export class SeriesDeriver {
  readonly derivation: Derivation;
  readonly quantiles: readonly number[];
  #last: Baseline | undefined;

  constructor(derivation: Derivation, quantiles: readonly number[]) {
    this.derivation = derivation;
    this.quantiles = quantiles;
  }

  /** What differencing the next point needs (undefined for gauges and before a first point). */
  get baseline(): Baseline | undefined {
    return this.#last;
  }

  /** Takes back a `baseline` (after a restart). */
  set baseline(baseline: Baseline | undefined) {
    this.#last = baseline;
  }

  /** Names of the derived values, in the order `next` returns them ('' for the value itself). */
  labels(): string[] {
    if (this.derivation === 'histogram') return this.quantiles.map(quantileLabel);
    return [this.derivation === 'rate' ? 'rate' : ''];
  }

  /**
   * The values this point yields, or undefined when it yields none (the first point of a
   * counter, a reset, an out-of-order point, a histogram with no observations in the interval).
   */
  next(obs: MetricObservation): number[] | undefined {
    if (!Number.isFinite(obs.time)) return undefined;
    if (this.derivation === 'value') return Number.isFinite(obs.value) ? [obs.value] : undefined;
    if (this.derivation === 'rate') return this.#rate(obs);
    return this.#histogram(obs);
  }

  #rate(obs: MetricObservation): number[] | undefined {
    if (!Number.isFinite(obs.value)) return undefined;
    const last = this.#last;
    if (last && obs.time <= last.time) return undefined; // duplicate or late: no news
    this.#last = { time: obs.time, value: obs.value, start: obs.startTime, counts: undefined };
    if (!last || isReset(last, obs.value, obs.startTime)) return undefined;
    return [(obs.value - last.value) / ((obs.time - last.time) / 1000)];
  }

  #histogram(obs: MetricObservation): number[] | undefined {
    const h = obs.histogram;
    if (!h || h.bucketCounts.length !== h.explicitBounds.length + 1) return undefined;
    let counts: readonly number[] = h.bucketCounts;
    if (obs.temporality === 'cumulative') {
      const last = this.#last;
      if (last && obs.time <= last.time) return undefined;
      this.#last = { time: obs.time, value: h.count, start: obs.startTime, counts: h.bucketCounts };
      if (!last?.counts || last.counts.length !== counts.length || isReset(last, h.count, obs.startTime)) {
        return undefined;
      }
      const prev = last.counts;
      counts = counts.map((c, i) => c - prev[i]!);
      if (counts.some((c) => c < 0)) return undefined;
    }
    const out: number[] = [];
    for (const q of this.quantiles) {
      const v = histogramQuantile(h, counts, q, obs.temporality !== 'cumulative');
      if (v === undefined) return undefined;
      out.push(v);
    }
    return out;
  }
}

function isReset(last: Baseline, value: number, start: number | undefined): boolean {
  return value < last.value || (start !== undefined && last.start !== undefined && start !== last.start);
}

/**
 * The `q` quantile of the observations counted in `counts` (buckets bounded by the histogram's
 * explicit bounds), interpolated linearly inside its bucket. The open first and last buckets are
 * closed by the reported min and max when they describe these counts (`useMinMax`), else by 0 (or
 * the first bound when it is negative) and the last bound.
 */
export function histogramQuantile(
  h: HistogramValue,
  counts: readonly number[],
  q: number,
  useMinMax: boolean,
): number | undefined {
  let total = 0;
  for (const c of counts) total += c;
  if (!(total > 0)) return undefined;
  const bounds = h.explicitBounds;
  const target = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c <= 0 || cumulative + c < target) {
      cumulative += c;
      continue;
    }
    const first = bounds[0] ?? 0;
    const last = bounds[bounds.length - 1] ?? 0;
    let lower = i === 0 ? (useMinMax && h.min !== undefined ? h.min : Math.min(0, first)) : bounds[i - 1]!;
    let upper = i < bounds.length ? bounds[i]! : useMinMax && h.max !== undefined ? h.max : last;
    if (upper < lower) [lower, upper] = [upper, lower];
    return lower + (upper - lower) * ((target - cumulative) / c);
  }
  return bounds[bounds.length - 1];
}

function quantileLabel(q: number): string {
  return `p${Math.round(q * 1000) / 10}`;
}
