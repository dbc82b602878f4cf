import type {
  Incident,
  IncidentStatus,
  NotificationRecord,
  Severity,
  SlackThread,
  TimelineEvent,
  TimelineEventType,
} from '../core/index.ts';
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
  create(incident: Incident, options?: WriteOptions): Promise<{ incident: Incident; created: boolean }>;
  /**
   * Replaces the stored incident with `next` if the stored version is `next.version - 1`, else
   * throws `VersionConflictError`. Claims fingerprints of signals new to the incident (as
   * `create` does) and releases all of its fingerprints when `next.status` is `resolved`. With a
   * `fence`, throws {@link StaleLeaderError} if a later leader wrote the incident.
   */
  update(next: Incident, options?: WriteOptions): Promise<Incident>;
  /**
   * Writes a merge: `absorbed` (its `mergedInto` naming `survivor`) and `survivor`, each replacing
   * the stored one as {@link update} does (version and fence conditions, fingerprint claims, which
   * pass from the absorbed incident to its survivor). Where the server has transactions (DynamoDB)
   * both are written in one, so either both land or neither does (`atomic: true`); a server
   * without them (dynalite) gets the absorbed incident, then the survivor, and the correlator
   * finishes a merge interrupted in between when it next loads.
   */
  mergeIncidents(
    absorbed: Incident,
    survivor: Incident,
    options?: WriteOptions,
  ): Promise<{ absorbed: Incident; survivor: Incident; atomic: boolean }>;
  /**
   * The next leader epoch (fencing token): 1, 2, 3… one per call, never repeated, kept with the
   * incidents (not in Redis, which may come back empty). A replica takes one each time it becomes
   * the correlator and writes incidents with it (`WriteOptions.fence`).
   */
  nextLeaderEpoch(): Promise<number>;
  /** The incidents with these ids that exist, read strongly consistent (not through an index). */
  getMany(ids: readonly string[]): Promise<Incident[]>;
  /** The incident, not resolved, that holds this fingerprint. */
  findOpenByFingerprint(fingerprint: string): Promise<Incident | null>;
  /** Newest first (by `openedAt`), filtered by status and by `openedAt` in `[from, to)`. */
  list(query: ListIncidentsQuery): Promise<IncidentPage>;
  /** Appends events; an event whose id is already stored for the incident is skipped. */
  appendTimeline(incidentId: string, events: readonly RecordedEvent[]): Promise<void>;
  /**
   * The incident's timeline, oldest first; only its `newest` latest events when given (a timeline
   * has no bound: a long flapping incident can gather a hundred thousand).
   */
  timeline(incidentId: string, options?: { newest?: number }): Promise<RecordedEvent[]>;
  /**
   * The timeline's notes, oldest first, at most the newest {@link NOTES_MAX}: events by a person
   * (they carry an `actor`) and what the notifier told the thread (`notified`). Kept apart from the
   * signals' events, so what the notifier reads per job is bounded by what people and the notifier
   * did, not by how long the incident flapped. A timeline begun before notes were kept apart is
   * copied into them once, on the first read.
   */
  notes(incidentId: string): Promise<RecordedEvent[]>;

  /** Stores a silence; storing one with an id already stored is a no-op. */
  createSilence(silence: Silence): Promise<void>;
  /** Silences that have not expired at `now` (epoch ms), oldest first. */
  listSilences(now: number): Promise<Silence[]>;
  /**
   * The silences that have not expired at `now`, a page at a time in a stable order (by id): at
   * most `limit`, and the cursor of the next page (null on the last). A page may hold fewer than
   * `limit` while more follow (expired silences the store still keeps are skipped, at most
   * {@link SILENCE_SCAN_PAGES} reads a page). Throws {@link InvalidCursorError} for a cursor it
   * did not issue.
   */
  silencesPage(now: number, query: { limit: number; cursor?: string }): Promise<SilencePage>;
  /**
   * The same silences a page (of at most `pageSize`, default {@link SILENCE_PAGE}) at a time, in no particular
   * order: for whoever checks them on a hot path, in memory one page whatever their number.
   */
  silencePages(now: number, pageSize?: number): AsyncIterable<readonly Silence[]>;
  /**
   * Ends a silence at `now` and returns it; a silence already ended is returned as it is (its end
   * is not moved). Null when there is no such silence.
   */
  expireSilence(id: string, now: number): Promise<Silence | null>;
  /**
   * Notes that `fingerprints` (an incident's signals) were kept from Slack by the silence. Counting
   * is idempotent per fingerprint (the notifier may look at the same incident many times); past
   * {@link SUPPRESSED_FINGERPRINTS_MAX} distinct fingerprints, further ones are only counted.
   * Nothing happens when the silence does not exist.
   */
  recordSuppressed(silenceId: string, fingerprints: readonly string[]): Promise<void>;

  /** Stores a new API key record; false (and nothing written) when its id is taken. */
  createApiKey(key: ApiKeyRecord): Promise<boolean>;
  /** The key with this id, revoked and expired ones included; null when there is none. */
  getApiKey(id: string): Promise<ApiKeyRecord | null>;
  /** Every key record, oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Revokes a key at `now` (a key already revoked keeps its first time); null when there is none. */
  revokeApiKey(id: string, now: number): Promise<ApiKeyRecord | null>;

  /**
   * The delivery ledger's record of the incident's top-level message (where it lives, or who
   * claimed it); null before the notifier's first claim. Kept apart from the incident and written
   * only by the notifier, so correlating and acting on an incident never race the notifier.
   */
  getDelivery(incidentId: string): Promise<Delivery | null>;
  /**
   * Writes `next` if the stored delivery is at `next.version - 1` (version 1: none stored yet),
   * else throws `VersionConflictError`.
   */
  putDelivery(next: Delivery): Promise<Delivery>;
  /**
   * The deliveries of up to {@link DELIVERIES_MAX} incidents at once (those without one are
   * absent from the map): how the reconciler finds, page by page, incidents never posted.
   */
  deliveries(incidentIds: readonly string[]): Promise<Map<string, Delivery>>;
  /**
   * Notes that something was sent about the incident. Idempotent: a post, or a thread reply, with
   * a ts already noted is not noted again; an edit is one per ts, time and incident version.
   */
  recordSent(incidentId: string, record: NotificationRecord): Promise<void>;
  /**
   * What was sent about the incident, oldest first (at most {@link SENT_MAX}, the newest); only
   * what is of `kind` when given (`post`: one record, read without reading the edits and replies).
   */
  sent(incidentId: string, options?: { kind?: NotificationRecord['kind'] }): Promise<NotificationRecord[]>;

  /** What the notifier last told Slack about an incident; null before its first post. */
  getNotificationState(incidentId: string): Promise<NotificationState | null>;
  /**
   * Writes `next` if the stored state is at `next.version - 1` (version 1: none stored yet), else
   * throws `VersionConflictError`.
   */
  putNotificationState(next: NotificationState): Promise<NotificationState>;
  /** Adds tokens to the LLM usage of the hour starting at `hourStart` (epoch ms); returns the new total. */
  addLlmUsage(hourStart: number, usage: TokenUsage): Promise<TokenUsage>;
  /** The LLM usage of the hour starting at `hourStart`. */
  llmUsage(hourStart: number): Promise<TokenUsage>;
}

/**
 * Notes {@link IncidentStore.notes} returns at most. A note is a person acting (a few a day) or the
 * notifier telling the thread something once (a chart per series, diagnostics per root cause):
 * a thousand is more than any incident gathers, and a read of them stays one or two pages.
 */
export const NOTES_MAX = 1000;

/** Incidents {@link IncidentStore.deliveries} takes at once (a DynamoDB batch read). */
export const DELIVERIES_MAX = 100;

/** Records of what was sent that {@link IncidentStore.sent} returns at most. */
export const SENT_MAX = 1000;

/** The delivery ledger's record of an incident's top-level Slack message. */
export interface Delivery {
  readonly incidentId: string;
  /** Optimistic lock: 1 on the first write, +1 on every write. */
  readonly version: number;
  /** Where the message lives, or its claim (`ts` empty); null once a claim that posted nothing is released. */
  readonly thread: SlackThread | null;
}

/** A person who did something to an incident (a Slack user, an API caller). */
export interface Actor {
  /** Slack user id (`U…`) or API principal. */
  readonly id: string;
  /** Display name, when known. */
  readonly name?: string;
  readonly via: 'slack' | 'api';
  /** The API key it acted with (its id), for API callers holding a key. */
  readonly keyId?: string;
}

/** Timeline event types beyond the correlator's: what people and the notifier did. */
export type RecordedEventType = TimelineEventType | 'silenced' | 'unsilenced' | 'drafted';

/** A timeline event as stored: the correlator's events, and actions with who did them. */
export interface RecordedEvent extends Omit<TimelineEvent, 'type'> {
  readonly type: RecordedEventType;
  /** Who did it, for actions taken by a person. */
  readonly actor?: Actor;
}

/**
 * A silence: new incidents that match it are stored but not posted until it expires. It matches
 * an incident when every matcher it has holds (a silence without matchers matches nothing).
 */
export interface Silence {
  readonly id: string;
  /** Root-cause kind or signal kind (`spot_interruption`, `airflow.task_failed`). */
  readonly kind?: string;
  /** An entity key the incident touches; `*` matches any run of characters. */
  readonly entity?: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms; the silence ends then. */
  readonly expiresAt: number;
  readonly createdBy: Actor;
  /** The incident it was created from, when it was created with a button. */
  readonly incidentId?: string;
  /** Why, in the words of whoever silenced it (the HTTP API asks for it). */
  readonly reason?: string;
  /** How many signals it kept from Slack so far (distinct fingerprints). */
  readonly suppressed?: number;
}

/** Distinct fingerprints a silence remembers; beyond, suppressed signals are counted only. */
export const SUPPRESSED_FINGERPRINTS_MAX = 2000;

/** What an API key may do; see `src/auth/api-key.ts`. */
export type ApiKeyScope = 'read' | 'write' | 'ingest' | 'admin';

/**
 * An API key as stored: never the key itself, only a salted hash of its secret part. The id is
 * the key's public prefix, so a request's key is found with one read.
 */
export interface ApiKeyRecord {
  readonly id: string;
  /** Who or what holds it; recorded as the actor of what the key does. */
  readonly name: string;
  readonly scope: ApiKeyScope;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms after which it no longer works; null: never. */
  readonly expiresAt: number | null;
  /** Epoch ms when it was revoked; null while it is not. */
  readonly revokedAt: number | null;
  /** Random per-key salt (base64url). */
  readonly salt: string;
  /** HMAC-SHA256 of the secret keyed by the salt (base64url). */
  readonly hash: string;
}

/** Tokens an LLM call (or a sum of calls) used. */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheCreationInputTokens: number;
  readonly cacheReadInputTokens: number;
  readonly calls: number;
}

export const NO_USAGE: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationInputTokens: 0,
  cacheReadInputTokens: 0,
  calls: 0,
};

/**
 * The notifier's memory of an incident's Slack conversation: what its thread was last told (so a
 * reply says only what changed since), the validated LLM draft the message shows, and the tokens
 * spent on it. Kept beside the incident, written only by the notifier.
 */
export interface NotificationState {
  readonly incidentId: string;
  /** Optimistic lock: 1 on the first write, +1 on every write. */
  readonly version: number;
  /** Signal statuses as last told (fingerprint → status). */
  readonly told: Readonly<Record<string, 'firing' | 'resolved'>>;
  readonly toldSeverity: Severity | null;
  readonly toldStatus: IncidentStatus | null;
  /** Epoch ms of the last thread reply. */
  readonly lastReplyAt: number | null;
  /** The validated draft (the notifier's own shape; the store keeps it as given). */
  readonly draft: Readonly<Record<string, unknown>> | null;
  /** Tokens spent drafting this incident. */
  readonly llmUsage: TokenUsage;
  /**
   * A thread reply on its way to Slack: written (a conditional write) before the reply is sent,
   * removed once its ts is recorded. An attempt that finds one looks in the thread for a reply
   * carrying its id in message metadata before it sends anything, so a reply is never sent twice.
   */
  readonly pendingReply?: PendingReply;
}

/** A thread reply claimed for sending; see {@link NotificationState.pendingReply}. */
export interface PendingReply {
  /** Carried in the reply's message metadata (`event_payload.reply_id`). */
  readonly id: string;
  /** Epoch ms when the reply was claimed. */
  readonly at: number;
  /**
   * When the claim counts from: `at`, or earlier once an attempt ended without knowing whether
   * Slack took the reply (the next attempt then looks for it and, not finding it, sends at once).
   */
  readonly claimedAt: number;
  /** The incident version the reply tells. */
  readonly version: number;
  /** What the thread has been told once the reply is in it. */
  readonly told: Readonly<Record<string, 'firing' | 'resolved'>>;
  readonly toldSeverity: Severity;
  readonly toldStatus: IncidentStatus;
  /** The reply tells the diagnostics: the timeline event to write once it is in the thread. */
  readonly diagnostics?: { readonly eventId: string; readonly text: string };
  /** The reply tells the incident's details: the timeline event to write once it is in the thread. */
  readonly details?: { readonly eventId: string; readonly text: string };
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

/** A page of silences: see {@link IncidentStore.silencesPage}. */
export interface SilencePage {
  silences: Silence[];
  /** Null on the last page. */
  nextCursor: string | null;
}

/**
 * Reads of the store one page of silences makes at most: expired silences stay stored until
 * DynamoDB TTL deletes them (a week later) and are skipped, so a page is bounded by this many
 * reads of `limit` items, not by how many silences expired this week.
 */
export const SILENCE_SCAN_PAGES = 5;

/** Silences read at a time by `silencePages`: checked against an incident in a few ms. */
export const SILENCE_PAGE = 200;

/** How an incident write is made. */
export interface WriteOptions {
  /**
   * The writer's leader epoch (see {@link IncidentStore.nextLeaderEpoch}): the write is refused
   * ({@link StaleLeaderError}) if the incident, or a fingerprint claim it writes, was written with
   * a later one, so a correlator that was paused past its lease cannot overwrite what the next
   * leader wrote. Writes without one (lifecycle actions, the notifier) keep the items' epochs.
   */
  fence?: number;
}

/**
 * A write fenced off: a later leader wrote the item (an incident, a fingerprint claim). This
 * replica no longer correlates.
 */
export class StaleLeaderError extends GuardianError {
  /** @param what what was written, for the message: `incident inc_1`, `the claim of fingerprint fp`. */
  constructor(what: string, fence: number, held: number) {
    super('stale_leader', `${what} was written by leader epoch ${held}; this write carries ${fence}`, {
      retryable: true,
    });
  }
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
