import type { Clock, NotificationKind, SlackThread } from '../core/index.ts';
import { optimistic } from '../incidents/optimistic.ts';
import { type Delivery, type IncidentStore, NO_USAGE, type NotificationState } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { PostedMessage } from './channel.ts';

/** A post claimed for sending: what releasing, ageing or moving the claim writes against. */
export type PostClaim = Delivery & { readonly thread: SlackThread };

/**
 * What the notifier writes about its deliveries, in the delivery ledger beside the incident
 * (never in the incident: correlating and acting on it never race the notifier): where an
 * incident's top-level message lives (or who claimed it), what was sent (post, thread replies,
 * edits), and the notification state (what the thread was told, the draft, a claimed reply).
 * Every write is conditional and re-read on a lost race, so two attempts racing record one post.
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

  /** When the incident was first posted (epoch ms); null when that is not recorded. */
  async postedAt(incidentId: string): Promise<number | null> {
    // The post record only: an incident edited on every change has thousands of others.
    return (await this.#store.sent(incidentId, { kind: 'post' })).at(0)?.at ?? null;
  }

  /**
   * Claims the incident's first post for `channel`: a conditional write on the delivery read
   * (`current`), so of two attempts racing to post, one gets a `VersionConflictError`.
   */
  claimPost(incidentId: string, current: Delivery | null, channel: string, now: number): Promise<PostClaim> {
    return this.#put(current, incidentId, { channel, ts: '', claimedAt: now, digest: '' });
  }

  /** The claim, for another channel (the routed one was unusable). */
  moveClaim(claim: PostClaim, channel: string): Promise<PostClaim> {
    return this.#put(claim, claim.incidentId, { ...claim.thread, channel });
  }

  /** Nothing was posted: drops the claim, so the next attempt posts at once. */
  async releaseClaim(claim: PostClaim): Promise<void> {
    try {
      await this.#store.putDelivery({ ...claim, thread: null, version: claim.version + 1 });
    } catch (err) {
      // The claim then expires after claimTtlMs and another attempt takes it over.
      this.#logger.warn({ err, incidentId: claim.incidentId }, 'could not release a failed post claim');
    }
  }

  /** Marks the claim as ended without an answer: the next attempt looks for the post, then posts. */
  async ageClaim(claim: PostClaim): Promise<void> {
    try {
      await this.#put(claim, claim.incidentId, {
        ...claim.thread,
        claimedAt: claim.thread.claimedAt - this.#claimTtlMs - 1,
      });
    } catch (err) {
      this.#logger.warn({ err, incidentId: claim.incidentId }, 'could not mark a post claim as ended');
    }
  }

  /**
   * The post is in Slack: notes it as sent, then records where it lives unless a post is recorded
   * already. `digest` is of the content it shows (empty when unknown, as for an adopted post: the
   * next render then edits it); `version` is the incident version it shows.
   */
  async recordPost(
    incidentId: string,
    posted: PostedMessage,
    post: { claimedAt: number; digest: string; version: number },
  ): Promise<void> {
    // Noted first: a process that dies before the next write leaves a claim, and the next
    // attempt adopts the post and notes it again, which changes nothing.
    await this.#sent(incidentId, 'post', posted, post.version);
    await this.#update(incidentId, (current) =>
      current?.thread?.ts
        ? null
        : { channel: posted.channel, ts: posted.ts, claimedAt: post.claimedAt, digest: post.digest },
    );
  }

  /** The post was edited to show content of this digest. */
  async recordEdit(
    incidentId: string,
    edited: PostedMessage,
    digest: string,
    version: number,
  ): Promise<void> {
    await this.#update(incidentId, (current) => (current?.thread ? { ...current.thread, digest } : null));
    await this.#sent(incidentId, 'update', edited, version);
  }

  /** A reply is in the thread (noted once, however often this is called for it). */
  recordReply(incidentId: string, posted: PostedMessage, version: number): Promise<void> {
    return this.#sent(incidentId, 'thread', posted, version);
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

  #sent(incidentId: string, kind: NotificationKind, message: PostedMessage, version: number): Promise<void> {
    return this.#store.recordSent(incidentId, {
      at: this.#clock.now(),
      kind,
      channel: message.channel,
      ts: message.ts,
      version,
    });
  }

  /** The delivery's thread, changed from the stored one (re-read on lost races); null: nothing to write. */
  #update(incidentId: string, change: (current: Delivery | null) => SlackThread | null): Promise<void> {
    return optimistic(
      async () => {
        const current = await this.#store.getDelivery(incidentId);
        const thread = change(current);
        if (thread) await this.#put(current, incidentId, thread);
      },
      { what: `incident ${incidentId}: record its delivery` },
    );
  }

  async #put(current: Delivery | null, incidentId: string, thread: SlackThread): Promise<PostClaim> {
    await this.#store.putDelivery({ incidentId, version: (current?.version ?? 0) + 1, thread });
    return { incidentId, version: (current?.version ?? 0) + 1, thread };
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
