/**
 * What the protobuf and JSON decoders both produce: the OTLP metrics request, reduced to what
 * Guardian uses. Times are epoch milliseconds (converted exactly from the uint64 nanoseconds).
 */
export interface DecodedRequest {
  readonly resourceMetrics: DecodedResourceMetrics[];
}

export interface DecodedResourceMetrics {
  readonly attributes: Record<string, string>;
  /** Metrics of every scope, in order. */
  readonly metrics: DecodedMetric[];
}

export type MetricKind = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary' | 'none';

export interface DecodedMetric {
  name: string;
  unit: string;
  kind: MetricKind;
  /** 0 unspecified, 1 delta, 2 cumulative. */
  temporality: number;
  monotonic: boolean;
  /** Gauge and sum points. */
  numberPoints: DecodedNumberPoint[];
  histogramPoints: DecodedHistogramPoint[];
  /** Points of kinds Guardian only counts (exponential histograms, summaries). */
  otherPoints: number;
}

export interface DecodedNumberPoint {
  attributes: Record<string, string>;
  startMs: number;
  timeMs: number;
  /** Undefined when the point set neither as_double nor as_int. */
  value: number | undefined;
  flags: number;
}

export interface DecodedHistogramPoint {
  attributes: Record<string, string>;
  startMs: number;
  timeMs: number;
  count: number;
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
  bucketCounts: number[];
  explicitBounds: number[];
  flags: number;
}

/** The request body is not a valid OTLP metrics request; the message says what and where. */
export class MalformedOtlpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedOtlpError';
  }
}

export function emptyMetric(): DecodedMetric {
  return {
    name: '',
    unit: '',
    kind: 'none',
    temporality: 0,
    monotonic: false,
    numberPoints: [],
    histogramPoints: [],
    otherPoints: 0,
  };
}

/** `nanos` as hi·2^32 + lo, to epoch ms without going through a lossy double of the nanoseconds. */
export function nanosPartsToMs(hi: number, lo: number): number {
  // hi·2^32/1e6 = hi·4294 + hi·967296/1e6; every intermediate stays below 2^53.
  return hi * 4294 + Math.floor((hi * 967_296 + lo) / 1_000_000);
}
