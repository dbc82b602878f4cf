import type { MetricObservation } from '../../core/index.ts';
import { DEFAULT_IDENTIFYING_ATTRIBUTES, labelSet, seriesLabel } from '../../core/index.ts';
import type { DecodedRequest } from './decoded.ts';
import {
  identifiesByConvention,
  MAX_CONVENTION_ATTRIBUTES,
  MAX_CONVENTION_VALUE,
} from './resource-identity.ts';

export interface NormalisedBatch {
  readonly observations: MetricObservation[];
  /** Points that became observations. */
  readonly accepted: number;
  /** Points refused (reported back in `partial_success`). */
  readonly rejected: number;
  /** The first few reasons, for `partial_success.error_message`. */
  readonly errors: string[];
  /** Points accepted without becoming observations: exponential histograms, summaries, no-value points. */
  readonly skipped: Record<string, number>;
}

const MAX_ERRORS = 5;
const TEMPORALITY = ['unspecified', 'delta', 'cumulative'] as const;
/** DataPointFlags.NO_RECORDED_VALUE: the point marks a gap (staleness); there is no value to use. */
const FLAG_NO_RECORDED_VALUE = 1;

/**
 * Turns a decoded request into observations. Gauges, sums and histograms become one observation
 * per point; exponential histograms and summaries are accepted and counted; a point flagged "no
 * recorded value" is accepted and counted as skipped. A point that cannot be used (no time, no
 * or non-finite value, a metric without a name, histogram buckets that do not match its bounds)
 * is rejected and counted, and the rest of the request is kept.
 */
export function normalise(
  request: DecodedRequest,
  identity: SeriesIdentity = defaultIdentity(),
): NormalisedBatch {
  const observations: MetricObservation[] = [];
  const errors: string[] = [];
  const skipped: Record<string, number> = {};
  let rejected = 0;
  const reject = (n: number, why: string) => {
    rejected += n;
    if (errors.length < MAX_ERRORS && !errors.includes(why)) errors.push(why);
  };
  const skip = (kind: string, n: number) => {
    skipped[kind] = (skipped[kind] ?? 0) + n;
  };

  for (const rm of request.resourceMetrics) {
    const series = identity.namer(rm.attributes);
    for (const m of rm.metrics) {
      const total = m.numberPoints.length + m.histogramPoints.length + m.otherPoints;
      if (!m.name) {
        reject(total, 'metric without a name');
        continue;
      }
      if (m.otherPoints > 0) skip(m.kind, m.otherPoints);
      const temporality = TEMPORALITY[m.temporality] ?? 'unspecified';
      for (const p of m.numberPoints) {
        if (p.flags & FLAG_NO_RECORDED_VALUE) {
          skip('no_recorded_value', 1);
          continue;
        }
        if (p.timeMs <= 0) {
          reject(1, `${m.name}: data point without time_unix_nano`);
          continue;
        }
        if (p.value === undefined || !Number.isFinite(p.value)) {
          reject(1, `${m.name}: data point without a finite value`);
          continue;
        }
        const { key, attributes, label } = series.of(m.name, p.attributes);
        observations.push({
          type: 'metric',
          series: key,
          name: m.name,
          label,
          attributes,
          time: p.timeMs,
          value: p.value,
          metricType: m.kind === 'sum' ? 'sum' : 'gauge',
          unit: m.unit,
          ...(m.kind === 'sum' ? { temporality, monotonic: m.monotonic, startTime: p.startMs } : {}),
        });
      }
      for (const p of m.histogramPoints) {
        if (p.flags & FLAG_NO_RECORDED_VALUE) {
          skip('no_recorded_value', 1);
          continue;
        }
        if (p.timeMs <= 0) {
          reject(1, `${m.name}: data point without time_unix_nano`);
          continue;
        }
        if (p.bucketCounts.length > 0 && p.bucketCounts.length !== p.explicitBounds.length + 1) {
          reject(
            1,
            `${m.name}: ${p.bucketCounts.length} bucket_counts for ${p.explicitBounds.length} explicit_bounds`,
          );
          continue;
        }
        if (
          !Number.isFinite(p.count) ||
          p.bucketCounts.some((c) => !Number.isFinite(c)) ||
          p.explicitBounds.some((b) => Number.isNaN(b))
        ) {
          reject(1, `${m.name}: histogram with non-numeric counts or bounds`);
          continue;
        }
        const { key, attributes, label } = series.of(m.name, p.attributes);
        const hasSum = p.sum !== undefined && Number.isFinite(p.sum);
        observations.push({
          type: 'metric',
          series: key,
          name: m.name,
          label,
          attributes,
          time: p.timeMs,
          value: hasSum && p.count > 0 ? p.sum! / p.count : p.count,
          metricType: 'histogram',
          unit: m.unit,
          temporality,
          startTime: p.startMs,
          histogram: {
            count: p.count,
            ...(hasSum ? { sum: p.sum } : {}),
            ...(p.min !== undefined ? { min: p.min } : {}),
            ...(p.max !== undefined ? { max: p.max } : {}),
            explicitBounds: p.explicitBounds,
            bucketCounts: p.bucketCounts,
          },
        });
      }
    }
  }
  return { observations, accepted: observations.length, rejected, errors, skipped };
}

type Series = { key: string; attributes: Readonly<Record<string, string>>; label: string };

/** Series remembered per identity, across requests: a collector sends the same series every interval. */
const SERIES_CACHE_LIMIT = 100_000;

/**
 * What makes two points the same series: the metric name, the data point attributes and the
 * identifying resource attributes: those of `otlp.identifyingAttributes`, and those the semantic
 * conventions' naming makes a resource's name or id (`db.instance.identifier`, `nat_gateway.id`;
 * see resource-identity.ts), unless `otlp.contextAttributes` names them. The other resource
 * attributes (`service.instance.id`, `telemetry.sdk.*`, `process.pid`, …) are kept on the
 * observation as context but left out of its key, so an exporter that restarts with a new
 * instance id continues its series instead of starting new ones (and leaving the old ones to go
 * "silent").
 */
export class SeriesIdentity {
  readonly #identifying: ReadonlySet<string>;
  readonly #context: ReadonlySet<string>;
  readonly #byResource = new Map<string, Map<string, Series>>();
  #cached = 0;

  /**
   * @param identifying attributes that always identify (the default list unless configured)
   * @param context attributes the naming convention would make identifying and that are not
   */
  constructor(
    identifying: readonly string[] = DEFAULT_IDENTIFYING_ATTRIBUTES,
    context: readonly string[] = [],
  ) {
    this.#identifying = new Set(identifying);
    this.#context = new Set(context);
  }

  /** The identifying part of a resource's attributes. */
  identifyingOf(resource: Readonly<Record<string, string>>): Record<string, string> {
    const out: Record<string, string> = {};
    let byConvention = 0;
    for (const k of Object.keys(resource).sort()) {
      const v = resource[k]!;
      if (this.#identifying.has(k)) out[k] = v;
      else if (
        byConvention < MAX_CONVENTION_ATTRIBUTES &&
        !this.#context.has(k) &&
        v.length <= MAX_CONVENTION_VALUE &&
        identifiesByConvention(k)
      ) {
        out[k] = v;
        byConvention++;
      }
    }
    return out;
  }

  /** @internal The namer for the points of one resource. */
  namer(resource: Record<string, string>): SeriesNamer {
    const prefix = labelSet(resource);
    let cache = this.#byResource.get(prefix);
    if (!cache) {
      cache = new Map();
      this.#byResource.set(prefix, cache);
    }
    return new SeriesNamer(resource, this.identifyingOf(resource), cache, () => {
      if (++this.#cached <= SERIES_CACHE_LIMIT) return;
      // Bounded memory: start over rather than track recency per entry.
      this.#byResource.clear();
      this.#byResource.set(prefix, cache);
      cache.clear();
      this.#cached = 1;
    });
  }
}

let shared: SeriesIdentity | undefined;
function defaultIdentity(): SeriesIdentity {
  shared ??= new SeriesIdentity();
  return shared;
}

/**
 * Series keys and merged attributes for the points of one resource. The same series recurs point
 * after point and request after request, so its key and its attribute object are built once and
 * shared (observations are read-only); building them is most of what normalising costs.
 */
class SeriesNamer {
  readonly #resource: Record<string, string>;
  readonly #identifying: Record<string, string>;
  readonly #cache: Map<string, Series>;
  readonly #added: () => void;

  constructor(
    resource: Record<string, string>,
    identifying: Record<string, string>,
    cache: Map<string, Series>,
    added: () => void,
  ) {
    this.#resource = resource;
    this.#identifying = identifying;
    this.#cache = cache;
    this.#added = added;
  }

  of(name: string, pointAttributes: Record<string, string>): Series {
    let lookup = name;
    for (const k in pointAttributes) lookup += `\u0000${k}\u0001${pointAttributes[k]}`;
    let hit = this.#cache.get(lookup);
    if (!hit) {
      const attributes = { ...this.#resource, ...pointAttributes };
      const identity = { ...this.#identifying, ...pointAttributes };
      hit = {
        key: `metric:${name}${labelSet(identity)}`,
        attributes,
        label: seriesLabel(name, this.#identifying, pointAttributes),
      };
      this.#added();
      this.#cache.set(lookup, hit);
    }
    return hit;
  }
}
