import { createHash } from 'node:crypto';
import type { Counter } from '@opentelemetry/api';
import { crashPoint } from '../core/crash-point.ts';
import type { Clock } from '../core/index.ts';
import { DependencyError } from '../core/index.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';
import { type MessageChannel, outcomeUnknown, type PostedMessage, type SlackMessage } from './channel.ts';
import type { DeliveryRecords, PostClaim } from './delivery-records.ts';
import type { NotifyContext } from './notify-context.ts';
import type { Route } from './route.ts';
import { INCIDENT_EVENT_TYPE } from './template.ts';
import { toldNow } from './thread-changes.ts';

/** Slack errors that mean "not this channel": the post goes to the default channel instead. */
const CHANNEL_UNAVAILABLE: ReadonlySet<string> = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
]);

/** What delivering a first post once needs. */
export interface PostOnceOptions {
  store: IncidentStore;
  channel: MessageChannel;
  records: DeliveryRecords;
  clock: Clock;
  logger: Logger;
  /** Where a post goes when its routed channel is unusable (`SLACK_CHANNEL`). */
  defaultChannel: string;
  /** A claim this old with no answer recorded is taken over. */
  claimTtlMs: number;
  /** Counts posts found in channel history after an attempt died before recording them. */
  adoptions?: Counter;
}

/**
 * The deliver-once stage of a first post: claim, send, record, and adopt after a crash. The post
 * is claimed (a conditional write) before Slack is called, and carries the incident id in its
 * message metadata; an attempt that finds an unfinished claim (an earlier attempt died, or lost
 * Slack's answer) looks for that message in the channel's history and adopts it instead of
 * posting again.
 */
export class PostOnce {
  readonly #o: PostOnceOptions;

  constructor(options: PostOnceOptions) {
    this.#o = options;
  }

  /**
   * Settles a claim an earlier attempt left: `adopted` when its post is in the channel (now
   * recorded), `free` when there is no claim or it is stale with nothing posted (it is taken over
   * by the next claim). Throws a retryable error while a recent claim may still be posting.
   */
  async settleEarlier(context: NotifyContext): Promise<'adopted' | 'free'> {
    const { channel, records, clock, logger, store } = this.#o;
    const { incident } = context;
    const thread = context.delivery?.thread;
    if (thread?.ts !== '') return 'free';
    // An earlier attempt claimed the post and never recorded Slack's answer: it may have posted.
    const found = await channel.findPosted(thread.channel, {
      eventType: INCIDENT_EVENT_TYPE,
      key: 'incident_id',
      value: incident.id,
      since: thread.claimedAt - 60_000,
    });
    if (found) {
      // The content it shows is unknown: an empty digest makes the next render edit it.
      await records.recordPost(incident.id, found, {
        claimedAt: thread.claimedAt,
        digest: '',
        version: incident.version,
      });
      const adopted = await store.get(incident.id);
      if (adopted) {
        await records.updateState(incident.id, (s) => ({
          ...s,
          ...toldNow(adopted),
          lastReplyAt: clock.now(),
        }));
      }
      this.#o.adoptions?.add(1);
      logger.info(
        { incidentId: incident.id, ts: found.ts },
        'adopted a post an earlier attempt never recorded',
      );
      return 'adopted';
    }
    if (clock.now() - thread.claimedAt <= this.#o.claimTtlMs) {
      throw new DependencyError(
        'slack',
        'post_in_progress',
        `incident ${incident.id}: its first post is in progress`,
        { retryable: true, retryAfterMs: 2000 },
      );
    }
    // A stale claim with nothing posted: the next claim takes it over.
    return 'free';
  }

  /**
   * Claims the post, renders it (`render` runs after the claim: drafting may take seconds, and
   * another attempt must not post meanwhile), sends it to the route's channel (or the default
   * channel when that one is unusable), and records it and what it told.
   */
  async post(
    context: NotifyContext,
    route: Route,
    render: () => Promise<SlackMessage>,
  ): Promise<PostedMessage> {
    const { records, clock } = this.#o;
    const { incident } = context;
    const now = clock.now();
    // The claim is a conditional write: of two attempts racing to post, one gets a VersionConflict.
    let claim = await records.claimPost(incident.id, context.delivery, route.channel, now);
    const rendered = await render();
    const message: SlackMessage = {
      ...rendered,
      metadata: { event_type: INCIDENT_EVENT_TYPE, event_payload: { incident_id: incident.id } },
    };
    let posted: PostedMessage;
    try {
      posted = await this.#send(claim, route, message, (next) => {
        claim = next;
      });
      crashPoint('slack-posted');
    } catch (err) {
      // Slack may have posted it: keep the claim, marked stale, so the retry looks before posting.
      if (outcomeUnknown(err)) await records.ageClaim(claim);
      else await records.releaseClaim(claim);
      throw err;
    }
    await records.recordPost(incident.id, posted, {
      claimedAt: now,
      digest: digestOf(rendered),
      version: incident.version,
    });
    await records.updateState(incident.id, (s) => ({ ...s, ...toldNow(incident), lastReplyAt: clock.now() }));
    return posted;
  }

  /** Posts to the routed channel; if Slack says that channel is unusable, to the default channel. */
  async #send(
    claim: PostClaim,
    route: Route,
    message: SlackMessage,
    onMoved: (next: PostClaim) => void,
  ): Promise<PostedMessage> {
    const { channel, records, defaultChannel, logger } = this.#o;
    try {
      return await channel.post(route.channel, message);
    } catch (err) {
      if (
        !(err instanceof DependencyError && CHANNEL_UNAVAILABLE.has(err.code)) ||
        route.channel === defaultChannel
      ) {
        throw err;
      }
      logger.warn(
        { incidentId: claim.incidentId, channel: route.channel, route: route.reason, code: err.code },
        'routed channel unusable; posting to the default channel',
      );
      onMoved(await records.moveClaim(claim, defaultChannel));
      return channel.post(defaultChannel, message);
    }
  }
}

/** Digest of what a message shows: an unchanged render is not sent again. */
export function digestOf(message: SlackMessage): string {
  return createHash('sha256')
    .update(JSON.stringify({ text: message.text, blocks: message.blocks }))
    .digest('base64url')
    .slice(0, 22);
}
