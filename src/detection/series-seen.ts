/** A series the detector watches, as `GET /api/v1/series` lists it. */
export interface SeriesSeen {
  readonly series: string;
  readonly name: string;
  readonly label: string;
  readonly unit: string;
  readonly lastValue: number;
  readonly lastSeen: number;
  /** Usual gap between points, ms; 0 until two points were seen. */
  readonly interval: number;
  /** Whether it fires now: an anomaly on one of its values, or its silence. */
  readonly firing: boolean;
}
