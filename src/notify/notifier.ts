import { createHash } from 'node:crypto';
import type { Clock, Incident, NotificationRecord } from '../core/index.ts';
import { DependencyError, VersionConflictError } from '../core/index.ts';
import type { IncidentChange } from '../correlation/incident-state.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { MessageChannel } from './channel.ts';
import { renderIncidentMessage, renderIncidentUpdate } from './template.ts';

/** A request to bring an incident's Slack message up to date. */
export interface NotifyJob {
  readonly incidentId: string;
  /** The incident version the correlator wrote with this change. */
  readonly version: number;
  readonly change: IncidentChange;
}

export interface NotifierOptions {
  store: IncidentStore;
  channel: MessageChannel;
  clock: Clock;
  logger: Logger;
  /** Slack channel incidents go to. */
  slackChannel: string;
  /** Link to an incident in Guardian's API, for the message. */
  incidentUrl?: (id: string) => string;
  /**
   * A post claimed this long ago with no answer recorded is taken over by another attempt.
   * @defaultValue 60000
   */
  claimTtlMs?: number;
}

/** Changes that deserve a reply in the incident's thread (beyond editing the post). */
const THREAD_WORTHY: ReadonlySet<IncidentChange> = new Set(['signal_added', 'severity_raised', 'resolved']);

/**
 * Keeps one Slack message per incident in step with the incident: the first job posts it, later
 * jobs edit it in place and reply in its thread for changes worth a reply. Never a second
 * top-level post: the post is claimed in the store (conditional write) before Slack is called.
 * Jobs re-read the incident, so a late or repeated job sends nothing that is already shown.
 */
export class Notifier {
  readonly #o: NotifierOptions;
  readonly #claimTtlMs: number;

  constructor(options: NotifierOptions) {
    this.#o = options;
    this.#claimTtlMs = options.claimTtlMs ?? 60_000;
  }

  async handle(job: NotifyJob): Promise<void> {
    const incident = await this.#o.store.get(job.incidentId);
    if (!incident) {
      this.#o.logger.warn({ incidentId: job.incidentId }, 'notify job for an unknown incident dropped');
      return;
    }
    const message = renderIncidentMessage(incident, this.#renderOptions());
    const digest = digestOf(message);

    if (
      !incident.slack ||
      (incident.slack.ts === '' && this.#o.clock.now() - incident.slack.claimedAt > this.#claimTtlMs)
    ) {
      await this.#post(incident, message, digest);
      return;
    }
    if (incident.slack.ts === '') {
      throw new DependencyError(
        'slack',
        'post_in_progress',
        `incident ${incident.id}: its first post is in progress`,
        {
          retryable: true,
          retryAfterMs: 2000,
        },
      );
    }
    const { channel, ts } = incident.slack;
    if (digest !== incident.slack.digest) {
      const updated = await this.#o.channel.update(channel, ts, message);
      await this.#record(incident.id, (cur) => ({
        slack: { ...cur.slack!, digest },
        notification: {
          at: this.#o.clock.now(),
          kind: 'update',
          channel,
          ts: updated.ts,
          version: job.version,
        },
      }));
    }
    if (
      THREAD_WORTHY.has(job.change) &&
      !incident.notifications.some((n) => n.kind === 'thread' && n.version === job.version)
    ) {
      const reply = await this.#o.channel.reply(channel, ts, renderIncidentUpdate(incident, job.change));
      await this.#record(incident.id, () => ({
        notification: {
          at: this.#o.clock.now(),
          kind: 'thread',
          channel,
          ts: reply.ts,
          version: job.version,
        },
      }));
    }
  }

  async #post(
    incident: Incident,
    message: Parameters<MessageChannel['post']>[1],
    digest: string,
  ): Promise<void> {
    const { store, channel, clock, slackChannel } = this.#o;
    const claimedAt = clock.now();
    // The claim is a conditional write: of two attempts racing to post, one gets a VersionConflict.
    const claimed = await store.update({
      ...incident,
      slack: { channel: slackChannel, ts: '', claimedAt, digest: '' },
      version: incident.version + 1,
    });
    let posted: Awaited<ReturnType<MessageChannel['post']>>;
    try {
      posted = await channel.post(slackChannel, message);
    } catch (err) {
      await this.#releaseClaim(claimed);
      throw err;
    }
    await this.#record(incident.id, () => ({
      slack: { channel: posted.channel, ts: posted.ts, claimedAt, digest },
      notification: {
        at: clock.now(),
        kind: 'post',
        channel: posted.channel,
        ts: posted.ts,
        version: incident.version,
      },
    }));
    this.#o.logger.info(
      { incidentId: incident.id, channel: posted.channel, ts: posted.ts },
      'incident posted',
    );
  }

  async #releaseClaim(claimed: Incident): Promise<void> {
    try {
      await this.#o.store.update({ ...claimed, slack: null, version: claimed.version + 1 });
    } catch (err) {
      // The claim then expires after claimTtlMs and another attempt takes it over.
      this.#o.logger.warn({ err, incidentId: claimed.id }, 'could not release a failed post claim');
    }
  }

  /** Writes what Slack now shows into the incident, re-reading on lost races. */
  async #record(
    incidentId: string,
    change: (current: Incident) => { slack?: Incident['slack']; notification: NotificationRecord },
  ): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.#o.store.get(incidentId);
      if (!current) return;
      const { slack, notification } = change(current);
      try {
        await this.#o.store.update({
          ...current,
          slack: slack === undefined ? current.slack : slack,
          notifications: [...current.notifications, notification],
          version: current.version + 1,
        });
        return;
      } catch (err) {
        if (!(err instanceof VersionConflictError)) throw err;
      }
    }
    throw new VersionConflictError(`incident ${incidentId}: could not record a notification`);
  }

  #renderOptions() {
    return this.#o.incidentUrl ? { incidentUrl: this.#o.incidentUrl } : {};
  }
}

function digestOf(message: unknown): string {
  return createHash('sha256').update(JSON.stringify(message)).digest('base64url').slice(0, 22);
}
