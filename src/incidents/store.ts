import type { Incident, IncidentStatus, TimelineEvent } from '../core/index.ts';
import { GuardianError } from '../core/index.ts';

/**
 * Where incidents live. One contract, one implementation (DynamoDB, which the embedded default
 * serves through dynalite); the contract suite in `test/contracts/` runs against dynalite and moto.
 *
 * Lifecycle: `start()` before any other call (creates the table if missing and waits until it is
 * active); `close()` releases connections. Writes are conditional: a retried write never
 * duplicates, a concurrent write never overwrites.
 */
export interface IncidentStore {
  start(): Promise<void>;
  close(): Promise<void>;
  /** Cheap liveness probe of the backing store (for `/readyz`). Never throws. */
  ping(): Promise<boolean>;

  get(id: string): Promise<Incident | null>;
  /**
   * Creates `incident` (its `version` must be 1) and claims each of its signals' fingerprints for
   * it. If an incident with this id already exists, nothing is written and the stored one is
   * returned with `created: false` (a retried create is a no-op). If a fingerprint is held by
   * another incident that is not resolved, throws {@link FingerprintTakenError}.
   */
  create(incident: Incident): Promise<{ incident: Incident; created: boolean }>;
  /**
   * Replaces the stored incident with `next` if the stored version is `next.version - 1`, else
   * throws `VersionConflictError`. Claims fingerprints of signals new to the incident (as
   * `create` does) and releases all of its fingerprints when `next.status` is `resolved`.
   */
  update(next: Incident): Promise<Incident>;
  /** The incident, not resolved, that holds this fingerprint. */
  findOpenByFingerprint(fingerprint: string): Promise<Incident | null>;
  /** Newest first (by `openedAt`), filtered by status and by `openedAt` in `[from, to)`. */
  list(query: ListIncidentsQuery): Promise<IncidentPage>;
  /** Appends events; an event whose id is already stored for the incident is skipped. */
  appendTimeline(incidentId: string, events: readonly TimelineEvent[]): Promise<void>;
  /** The incident's timeline, oldest first. */
  timeline(incidentId: string): Promise<TimelineEvent[]>;
}

export interface ListIncidentsQuery {
  status?: IncidentStatus;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** 1..100 */
  limit: number;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface IncidentPage {
  incidents: Incident[];
  /** Null on the last page. */
  nextCursor: string | null;
}

/** A fingerprint is already held by another open incident: apply the signal to that one instead. */
export class FingerprintTakenError extends GuardianError {
  readonly fingerprint: string;
  readonly ownerId: string;
  constructor(fingerprint: string, ownerId: string) {
    super('fingerprint_taken', `fingerprint ${fingerprint} is held by incident ${ownerId}`, {
      retryable: true,
    });
    this.fingerprint = fingerprint;
    this.ownerId = ownerId;
  }
}

/** A cursor that this store did not issue, or that is corrupt. */
export class InvalidCursorError extends GuardianError {
  constructor() {
    super('invalid_cursor', 'cursor is not one this API issued');
  }
}
