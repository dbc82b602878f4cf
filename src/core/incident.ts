import type { EntityKey } from './entity-keys.ts';
import type { Evidence, Severity } from './signal.ts';

export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';

/** A signal as an incident remembers it: the latest state of one fingerprint. */
export interface IncidentSignal {
  readonly fingerprint: string;
  readonly kind: string;
  readonly entity: EntityKey;
  readonly related: readonly EntityKey[];
  readonly status: 'firing' | 'resolved';
  readonly severity: Severity;
  readonly title: string;
  readonly detector: string;
  /** First time this fingerprint fired in this incident. */
  readonly firstSeen: number;
  /** Time of the latest signal applied (firing or resolved). */
  readonly lastSeen: number;
  /** How many signals of this fingerprint were applied. */
  readonly count: number;
  /** The latest evidence. */
  readonly evidence: readonly Evidence[];
  /** The failure class its evidence shows, if any. */
  readonly errorClass?: string;
  /** Resources its failure text names (`Signal.names`). */
  readonly names?: readonly EntityKey[];
}

export interface RootCause {
  readonly entity: EntityKey;
  /** `spot_interruption`, `host_lost`, `connect_unavailable`, `sql_error`, … or the signal kind. */
  readonly kind: string;
  /** 0..1 */
  readonly confidence: number;
  /** One line for a human: "Spark worker 10.0.3.17 lost (spot interruption)". */
  readonly title?: string;
  /** Why Guardian believes it, one short line each (already redacted). */
  readonly evidence?: readonly string[];
  /** The error class that supports it (log signatures, failure reasons), when one does. */
  readonly errorClass?: string;
  /**
   * Why it is the cause, as edges of the causal graph with their times: first the candidate's
   * own evidence (`observed`), then each failure it explains and how (`points_at`: the failure
   * says so; `names`: its text or its edges name it; `names_resource_of`: it names a resource the
   * candidate's series or stream is about; `submitted_by`: a Spark job its task submitted).
   */
  readonly chain?: readonly CauseLink[];
}

/** One edge of a root cause's evidence chain. */
export interface CauseLink {
  /** When the `to` side began (epoch ms). */
  readonly at: number;
  readonly from: EntityKey;
  readonly edge: string;
  readonly to: EntityKey;
}

/** What an incident broke, in DAG terms. */
export interface ImpactTask {
  readonly entity: EntityKey;
  readonly dagId: string;
  readonly runId: string;
  readonly taskId: string;
  /** `failed` for good, `retrying` (a try failed, another will run), `upstream_failed`, `recovered`. */
  readonly state: 'failed' | 'retrying' | 'upstream_failed' | 'recovered';
}

export interface Impact {
  /** DAG ids with at least one affected task, sorted. */
  readonly dags: readonly string[];
  /** Sorted by entity; at most a few hundred (see `omittedTasks`). */
  readonly tasks: readonly ImpactTask[];
  /** Spark jobs that failed or were lost because of it. */
  readonly sparkJobs: number;
  /** Affected tasks left out of `tasks` to keep an incident's size bounded in a storm. */
  readonly omittedTasks?: number;
  /** Affected DAGs left out of `dags`, likewise. */
  readonly omittedDags?: number;
}

export type TimelineEventType =
  | 'opened'
  | 'signal_firing'
  | 'signal_resolved'
  | 'severity_changed'
  | 'acknowledged'
  | 'resolved'
  | 'reopened'
  | 'merged'
  | 'notified';

export interface TimelineEvent {
  /** Deterministic id: retried writes of the same event are the same event. */
  readonly id: string;
  readonly at: number;
  readonly type: TimelineEventType;
  readonly text: string;
  readonly fingerprint?: string;
}

export type NotificationKind = 'post' | 'thread' | 'update';

/**
 * One thing the notifier sent about an incident. Kept in the delivery ledger beside the incident
 * (see `IncidentStore.sent`), never in the incident itself.
 */
export interface NotificationRecord {
  readonly at: number;
  readonly kind: NotificationKind;
  readonly channel: string;
  /** Slack message ts (the post's own ts for updates; the reply's ts for thread replies). */
  readonly ts: string;
  /** The incident version this notification reflected. */
  readonly version: number;
}

/** The incident's top-level Slack message (in the delivery ledger, see `IncidentStore.getDelivery`). */
export interface SlackThread {
  readonly channel: string;
  /** Empty while a notifier has claimed the post but not yet got Slack's answer. */
  readonly ts: string;
  /** When the post was claimed, epoch ms (a stale claim can be taken over). */
  readonly claimedAt: number;
  /** Digest of the content Slack shows now: an unchanged render is not sent again. */
  readonly digest: string;
}

export interface Incident {
  readonly id: string;
  readonly status: IncidentStatus;
  readonly severity: Severity;
  readonly title: string;
  readonly openedAt: number;
  readonly updatedAt: number;
  readonly resolvedAt: number | null;
  readonly rootCause: RootCause | null;
  /** The entities of its signals (and their related entities) and of its root cause. */
  readonly entities: readonly EntityKey[];
  /**
   * Its signals, one per fingerprint. Bounded: in a storm the incident keeps the signals that
   * support its root cause and the most recently seen; `impact` still counts everything.
   */
  readonly signals: readonly IncidentSignal[];
  /** Optimistic-locking version; 1 on creation, +1 on every write. */
  readonly version: number;
  /** Affected DAGs, tasks and Spark jobs (absent on incidents written before it existed). */
  readonly impact?: Impact;
  /**
   * Recorded but not paged: nothing in it deserves a human yet (a try that failed and will be
   * retried, a blip). The notifier posts nothing for a quiet incident; it posts when it stops
   * being quiet.
   */
  readonly quiet?: boolean;
  /** Set when a later signal showed it and another incident have one cause: it lives on there. */
  readonly mergedInto?: string;
}
