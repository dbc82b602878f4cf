import type { Counter } from '@opentelemetry/api';
import type { Clock, Incident, SlackThread } from '../core/index.ts';
import { DependencyError, stableId, VersionConflictError } from '../core/index.ts';
import type { DiagnosticResult } from '../diagnostics/diagnostic.ts';
import type { IncidentStore, NotificationState, PendingReply } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';
import { type MessageChannel, outcomeUnknown, type PostedMessage, type SlackMessage } from './channel.ts';
import { type DeliveryRecords, withoutPending } from './delivery-records.ts';
import { toldNow } from './thread-changes.ts';
import { diagnosticsTold } from './thread-diagnostics.ts';

/** Message metadata event type of thread replies; `event_payload.reply_id` names the reply's claim. */
export const REPLY_EVENT_TYPE = 'guardian_incident_reply';

/** What delivering thread replies once needs. */
export interface ReplyOnceOptions {
  store: IncidentStore;
  channel: MessageChannel;
  records: DeliveryRecords;
  clock: Clock;
  logger: Logger;
  /** A claim this old with no answer recorded is taken over. */
  claimTtlMs: number;
  /** Counts replies found in the thread after an attempt died before recording them. */
  adoptions?: Counter;
}

/** What a reply tells besides the changes: noted in the timeline once it is in the thread. */
export interface ReplyTells {
  readonly diagnostics?: readonly DiagnosticResult[] | undefined;
  readonly details?: boolean;
}

/**
 * The deliver-once stage of thread replies: each reply is claimed in the notification state (a
 * conditional write that fails if the thread was told anything since it was worked out), sent
 * with the claim's id in its message metadata, then recorded with what it told. A process that
 * dies in between leaves the claim; the next attempt finds the reply by that id and adopts it.
 */
export class ReplyOnce {
  readonly #o: ReplyOnceOptions;

  constructor(options: ReplyOnceOptions) {
    this.#o = options;
  }

  /**
   * Sends `reply` at most once, if the thread was told nothing since `basis` was read (else a
   * `VersionConflictError`: the job runs again and works the reply out anew).
   */
  async reply(
    incident: Incident,
    thread: SlackThread,
    basis: NotificationState,
    reply: SlackMessage,
    version: number,
    tells: ReplyTells,
  ): Promise<void> {
    const { store, clock } = this.#o;
    const now = clock.now();
    const current = (await store.getNotificationState(incident.id)) ?? basis;
    if (
      current.pendingReply ||
      current.lastReplyAt !== basis.lastReplyAt ||
      current.toldStatus !== basis.toldStatus ||
      current.toldSeverity !== basis.toldSeverity ||
      JSON.stringify(current.told) !== JSON.stringify(basis.told)
    ) {
      throw new VersionConflictError(`incident ${incident.id}: its thread was told something meanwhile`);
    }
    const pending: PendingReply = {
      id: stableId('rpl_', incident.id, current.version, now),
      at: now,
      claimedAt: now,
      version,
      ...toldNow(incident),
      ...(tells.diagnostics ? { diagnostics: diagnosticsTold(incident, tells.diagnostics) } : {}),
      ...(tells.details
        ? { details: { eventId: detailsEventId(incident), text: 'details told in the thread' } }
        : {}),
    };
    // Conditional on the version just read: of two attempts racing to reply, one gets a VersionConflict.
    const claimed = await store.putNotificationState({
      ...current,
      pendingReply: pending,
      version: current.version + 1,
    });
    let posted: PostedMessage;
    try {
      posted = await this.#o.channel.reply(thread.channel, thread.ts, {
        ...reply,
        metadata: {
          event_type: REPLY_EVENT_TYPE,
          event_payload: { incident_id: incident.id, reply_id: pending.id },
        },
      });
    } catch (err) {
      // Slack may have taken it: keep the claim, aged, so the retry looks before sending. Else drop it.
      await this.#endClaim(claimed, outcomeUnknown(err));
      throw err;
    }
    await this.#record(incident.id, pending, { channel: thread.channel, ts: posted.ts });
  }

  /**
   * An earlier attempt claimed a reply and never recorded it: if the thread has a reply with the
   * claim's id, record it as sent; if not and the claim is recent, that attempt may still be
   * sending (retry shortly); otherwise drop the claim, and the reply is worked out and sent anew.
   * Returns the notification state to work from.
   */
  async settle(
    incident: Incident,
    thread: SlackThread,
    pending: PendingReply,
  ): Promise<NotificationState | null> {
    const { store, channel, clock, logger, records } = this.#o;
    const found = await channel.findReply(thread.channel, thread.ts, {
      eventType: REPLY_EVENT_TYPE,
      key: 'reply_id',
      value: pending.id,
      since: pending.claimedAt - 60_000,
    });
    if (found) {
      await this.#record(incident.id, pending, { channel: thread.channel, ts: found.ts });
      this.#o.adoptions?.add(1, { kind: 'thread' });
      logger.info(
        { incidentId: incident.id, ts: found.ts, replyId: pending.id },
        'adopted a thread reply an earlier attempt never recorded',
      );
    } else if (clock.now() - pending.claimedAt <= this.#o.claimTtlMs) {
      throw new DependencyError(
        'slack',
        'reply_in_progress',
        `incident ${incident.id}: a thread reply is in progress`,
        { retryable: true, retryAfterMs: 2000 },
      );
    } else {
      await records.updateState(incident.id, (s) =>
        s.pendingReply?.id === pending.id ? withoutPending(s) : s,
      );
    }
    return store.getNotificationState(incident.id);
  }

  /**
   * The reply is in the thread: note it (once), and what it told (the diagnostics in the
   * timeline, so they are told once per root cause), and end its claim.
   */
  async #record(incidentId: string, pending: PendingReply, posted: PostedMessage): Promise<void> {
    const { store, records } = this.#o;
    const told = [pending.details, pending.diagnostics].filter((e) => e !== undefined);
    if (told.length > 0) {
      await store.appendTimeline(
        incidentId,
        told.map((e) => ({ id: e.eventId, at: pending.at, type: 'notified', text: e.text })),
      );
    }
    await records.recordReply(incidentId, posted, pending.version);
    await records.updateState(incidentId, (s) =>
      s.pendingReply?.id === pending.id
        ? {
            ...withoutPending(s),
            told: pending.told,
            toldSeverity: pending.toldSeverity,
            toldStatus: pending.toldStatus,
            lastReplyAt: pending.at,
          }
        : s,
    );
  }

  /** A reply send that failed: drop its claim (nothing sent) or age it (Slack may have it). */
  async #endClaim(claimed: NotificationState, outcomeUnknown: boolean): Promise<void> {
    const pending = claimed.pendingReply!;
    try {
      await this.#o.store.putNotificationState({
        ...(outcomeUnknown
          ? {
              ...claimed,
              pendingReply: { ...pending, claimedAt: pending.claimedAt - this.#o.claimTtlMs - 1 },
            }
          : withoutPending(claimed)),
        version: claimed.version + 1,
      });
    } catch (err) {
      // The claim then expires after claimTtlMs and the next attempt looks for the reply first.
      this.#o.logger.warn({ err, incidentId: claimed.incidentId }, 'could not end a thread reply claim');
    }
  }
}

/** The timeline event that says the thread was told the incident's details (once per incident). */
export function detailsEventId(incident: Incident): string {
  return stableId('evt_', 'details', incident.id);
}
