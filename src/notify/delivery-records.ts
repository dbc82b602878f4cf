import type { Clock, Incident, NotificationRecord, SlackThread } from '../core/index.ts';
import { optimistic } from '../incidents/optimistic.ts';
import { type IncidentStore, NO_USAGE, type NotificationState } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { PostedMessage } from './channel.ts';

/** A post claimed for sending: what releasing, ageing or moving the claim writes against. */
export type PostClaim = Incident;

/**
 * What the notifier writes about its deliveries: where an incident's top-level message lives (or
 * who claimed it), what was sent (post, thread replies, edits), and the notification state (what
 * the thread was told, the draft, a claimed reply). Every write is conditional and re-read on a
 * lost race, so two attempts racing record one post.
 */
export class DeliveryRecords {
  readonly #store: IncidentStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #claimTtlMs: number;

  constructor(options: { store: IncidentStore; clock: Clock; logger: Logger; claimTtlMs: number }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#claimTtlMs = options.claimTtlMs;
  }

  /** Where the incident's top-level message lives, or its unfinished claim; null before a claim. */
  thread(incident: Incident): SlackThread | null {
    return incident.slack;
  }

  /** What was sent about the incident, oldest first. */
  notifications(incident: Incident): readonly NotificationRecord[] {
    return incident.notifications;
  }

  /**
   * Claims the incident's first post for `channel`: a conditional write, so of two attempts
   * racing to post, one gets a `VersionConflictError`.
   */
  claimPost(incident: Incident, channel: string, now: number): Promise<PostClaim> {
    return this.#store.update({
      ...incident,
      slack: { channel, ts: '', claimedAt: now, digest: '' },
      version: incident.version + 1,
    });
  }

  /** The claim, for another channel (the routed one was unusable). */
  moveClaim(claim: PostClaim, channel: string): Promise<PostClaim> {
    return this.#store.update({
      ...claim,
      slack: { ...claim.slack!, channel },
      version: claim.version + 1,
    });
  }

  /** Nothing was posted: drops the claim, so the next attempt posts at once. */
  async releaseClaim(claim: PostClaim): Promise<void> {
    try {
      await this.#store.update({ ...claim, slack: null, version: claim.version + 1 });
    } catch (err) {
      // The claim then expires after claimTtlMs and another attempt takes it over.
      this.#logger.warn({ err, incidentId: claim.id }, 'could not release a failed post claim');
    }
  }

  /** Marks the claim as ended without an answer: the next attempt looks for the post, then posts. */
  async ageClaim(claim: PostClaim): Promise<void> {
    try {
      await this.#store.update({
        ...claim,
        slack: { ...claim.slack!, claimedAt: claim.slack!.claimedAt - this.#claimTtlMs - 1 },
        version: claim.version + 1,
      });
    } catch (err) {
      this.#logger.warn({ err, incidentId: claim.id }, 'could not mark a post claim as ended');
    }
  }

  /**
   * The post is in Slack: records where, unless a post is recorded already. `digest` is of the
   * content it shows (empty when unknown, as for an adopted post: the next render then edits it);
   * `version` is the incident version it shows (the current one when unknown).
   */
  recordPost(
    incidentId: string,
    posted: PostedMessage,
    post: { claimedAt: number; digest: string; version?: number },
  ): Promise<void> {
    return this.#record(incidentId, (current) =>
      current.slack?.ts
        ? null
        : {
            slack: { channel: posted.channel, ts: posted.ts, claimedAt: post.claimedAt, digest: post.digest },
            notification: {
              at: this.#clock.now(),
              kind: 'post',
              channel: posted.channel,
              ts: posted.ts,
              version: post.version ?? current.version,
            },
          },
    );
  }

  /** The post was edited to show content of this digest. */
  recordEdit(incidentId: string, edited: PostedMessage, digest: string, version: number): Promise<void> {
    return this.#record(incidentId, (current) => ({
      slack: { ...current.slack!, digest },
      notification: {
        at: this.#clock.now(),
        kind: 'update',
        channel: edited.channel,
        ts: edited.ts,
        version,
      },
    }));
  }

  /** A reply is in the thread (recorded once, however often this is called for it). */
  recordReply(incidentId: string, posted: PostedMessage, version: number): Promise<void> {
    return this.#record(incidentId, (current) =>
      current.notifications.some((n) => n.kind === 'thread' && n.ts === posted.ts)
        ? null
        : {
            notification: {
              at: this.#clock.now(),
              kind: 'thread',
              channel: posted.channel,
              ts: posted.ts,
              version,
            },
          },
    );
  }

  /** The notification state, changed by `change` from the stored one (re-read on lost races). */
  updateState(
    incidentId: string,
    change: (current: NotificationState) => Omit<NotificationState, 'version' | 'incidentId'>,
  ): Promise<void> {
    const store = this.#store;
    return optimistic(
      async () => {
        const current = (await store.getNotificationState(incidentId)) ?? emptyState(incidentId);
        await store.putNotificationState({ ...change(current), incidentId, version: current.version + 1 });
      },
      { what: `incident ${incidentId}: record its notification state` },
    );
  }

  /** Writes what Slack now shows into the incident, re-reading on lost races; null: nothing to write. */
  #record(
    incidentId: string,
    change: (current: Incident) => { slack?: Incident['slack']; notification: NotificationRecord } | null,
  ): Promise<void> {
    const store = this.#store;
    return optimistic(
      async () => {
        const current = await store.get(incidentId);
        if (!current) return;
        const next = change(current);
        if (!next) return;
        await store.update({
          ...current,
          slack: next.slack === undefined ? current.slack : next.slack,
          notifications: [...current.notifications, next.notification],
          version: current.version + 1,
        });
      },
      { what: `incident ${incidentId}: record a notification` },
    );
  }
}

/** The state without its claimed reply. */
export function withoutPending(state: NotificationState): NotificationState {
  const { pendingReply: _, ...rest } = state;
  return rest;
}

function emptyState(incidentId: string): NotificationState {
  return {
    incidentId,
    version: 0,
    told: {},
    toldSeverity: null,
    toldStatus: null,
    lastReplyAt: null,
    draft: null,
    llmUsage: NO_USAGE,
  };
}
