import type { EntityKey } from './entity-keys.ts';

/**
 * An observation is a normalised fact from a source. Sources produce them; detectors consume them.
 * Times are epoch milliseconds.
 */
export type Observation = MetricObservation | LogObservation | StateObservation | HealthObservation;

export type MetricType = 'gauge' | 'sum' | 'histogram';

/** One metric data point of one series. */
export interface MetricObservation {
  readonly type: 'metric';
  /**
   * Canonical series key, `metric:{name}{k="v",...}`: the identifying resource attributes and the
   * point attributes (see `SeriesIdentity`); the same across restarts of the exporter.
   */
  readonly series: EntityKey;
  readonly name: string;
  /** The series named for a human (`ingest.rows of lambda-ingestion on web-vitals-crm`), for titles. */
  readonly label?: string;
  /**
   * Resource and data point attributes together (point attributes win on a clash), as strings:
   * the context attributes that are not part of the key too.
   */
  readonly attributes: Readonly<Record<string, string>>;
  readonly time: number;
  /**
   * The point's value. Gauges and sums: the number reported. Histograms: the mean (`sum / count`)
   * when a sum was reported, else the count.
   */
  readonly value: number;
  readonly metricType: MetricType;
  readonly unit: string;
  /** Sums and histograms. */
  readonly temporality?: 'delta' | 'cumulative' | 'unspecified';
  /** Sums. */
  readonly monotonic?: boolean;
  /** Start of the accumulation window (cumulative/delta points), epoch ms. */
  readonly startTime?: number;
  /** Histograms: the buckets as reported. */
  readonly histogram?: HistogramValue;
}

export interface HistogramValue {
  readonly count: number;
  readonly sum?: number;
  readonly min?: number;
  readonly max?: number;
  readonly explicitBounds: readonly number[];
  readonly bucketCounts: readonly number[];
}

/** One log line with its stream labels. */
export interface LogObservation {
  readonly type: 'log';
  readonly stream: EntityKey;
  readonly labels: Readonly<Record<string, string>>;
  readonly time: number;
  readonly line: string;
}

/** An Airflow or Spark entity moved from one state to another. */
export interface StateObservation {
  readonly type: 'state';
  readonly entity: EntityKey;
  readonly related: readonly EntityKey[];
  readonly time: number;
  readonly from: string | null;
  readonly to: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** Whether a component (a source's peer, an Airflow scheduler…) is healthy. */
export interface HealthObservation {
  readonly type: 'health';
  readonly entity: EntityKey;
  readonly time: number;
  readonly healthy: boolean;
  readonly reason: string;
}

/** A state change of `entity`, with its relations. */
export function stateObservation(
  entity: EntityKey,
  related: readonly EntityKey[],
  from: string | null,
  to: string,
  time: number,
  details: Readonly<Record<string, unknown>>,
): StateObservation {
  return { type: 'state', entity, related, from, to, time, details };
}
