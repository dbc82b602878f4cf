import type { EntityKey, Observation } from '../core/index.ts';

/**
 * A pull source (Airflow, Spark, Loki): polled on an interval by the {@link Poller}. A source keeps
 * its own watermark and moves it only when a poll succeeds, so a failed poll loses nothing: the
 * next one asks again from the same point.
 */
export interface PollSource {
  /** `airflow`, `spark`, `loki`. */
  readonly id: string;
  /** The entity a `source.down` signal is about: `source:{id}`. */
  readonly entity: EntityKey;
  /** Time between polls while healthy. */
  readonly intervalMs: number;
  /** Observations since the last successful poll. Throws when the system cannot be reached or understood. */
  poll(): Promise<Observation[]>;
}

export const sourceEntity = (id: string): EntityKey => `source:${id}`;

/** A source's peer answered something it could not use; `status` is the HTTP status when there was one. */
export class SourceError extends Error {
  readonly source: string;
  readonly status: number | undefined;
  constructor(source: string, message: string, status?: number) {
    super(`${source}: ${message}`);
    this.name = 'SourceError';
    this.source = source;
    this.status = status;
  }
}
