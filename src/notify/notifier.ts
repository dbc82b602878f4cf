import { createHash } from 'node:crypto';
import type { Counter } from '@opentelemetry/api';
import { type IncidentChart, incidentCharts } from '../charts/incident-charts.ts';
import { chartPng } from '../charts/png.ts';
import type { SeriesHistory } from '../charts/series-history.ts';
import { crashPoint } from '../core/crash-point.ts';
import type { Clock, Incident, NotificationRecord } from '../core/index.ts';
import {
  DependencyError,
  errorMessage,
  GuardianError,
  stableId,
  VersionConflictError,
} from '../core/index.ts';
import type { IncidentChange } from '../correlation/incident-state.ts';
import {
  type DiagnosticResult,
  type DiagnosticsGatherer,
  type GatheredDiagnostics,
  toldResults,
} from '../diagnostics/diagnostic.ts';
import { optimistic } from '../incidents/optimistic.ts';
import { describeSilence, findSilence } from '../incidents/silences.ts';
import {
  type IncidentStore,
  NO_USAGE,
  type NotificationState,
  type PendingReply,
  type RecordedEvent,
  type TokenUsage,
} from '../incidents/store.ts';
import type { IncidentDraft } from '../llm/draft.ts';
import type { DraftFailure, DraftResult, IncidentDrafter } from '../llm/drafter.ts';
import { findSimilarIncidents } from '../llm/similar.ts';
import { parseStoredDraft } from '../llm/validate.ts';
import type { PlaybookCatalog } from '../playbooks/match.ts';
import { listItems } from '../playbooks/steps.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { GuardianMetrics } from '../telemetry/metrics.ts';
import type { MessageChannel, PostedMessage, SlackMessage } from './channel.ts';
import { type Route, type RoutingOptions, routeIncident } from './route.ts';
import {
  type HumanAction,
  INCIDENT_EVENT_TYPE,
  type PlaybookRef,
  renderIncidentMessage,
  renderThreadUpdate,
  type ThreadChanges,
} from './template.ts';

/** A request to bring an incident's Slack message up to date. */
export interface NotifyJob {
  readonly incidentId: string;
  /** The incident version the job was queued for. */
  readonly version: number;
  /**
   * What changed: a correlator change, `action` (a person acted in Slack), `drafted` (an LLM
   * draft arrived after the post). Informational: the notifier re-reads the incident and says
   * what changed since Slack was last told, whatever the job says. `reconcile`: the incident was
   * found stored and never posted (its job was lost).
   */
  readonly change: IncidentChange | 'action' | 'drafted' | 'diagnostics' | 'charts' | 'reconcile' | 'details';
}

/** How the notifier uses the LLM drafter. */
export interface DraftingOptions {
  drafter: IncidentDrafter;
  /**
   * How long a first post waits for the draft; after it the template is posted and the draft,
   * when it comes, replaces it by an edit. Wall-clock time: it bounds a network call.
   * @defaultValue 4000
   */
  budgetMs?: number;
  /**
   * Hard limit of one drafting call (wall clock).
   * @defaultValue 30000
   */
  timeoutMs?: number;
  /**
   * Tokens one incident may use in all (input + output + cache writes + a tenth of cache reads).
   * @defaultValue 40000
   */
  tokensPerIncident?: number;
  /**
   * Tokens all incidents may use per clock hour, across replicas (counted in the store).
   * @defaultValue 400000
   */
  tokensPerHour?: number;
  /**
   * A draft that failed is not tried again for the same root cause before this long.
   * @defaultValue 600000
   */
  retryFailedAfterMs?: number;
}

export interface NotifierOptions {
  store: IncidentStore;
  channel: MessageChannel;
  clock: Clock;
  logger: Logger;
  /** Slack channel incidents go to when nothing routes them elsewhere (`SLACK_CHANNEL`). */
  slackChannel: string;
  /** Routing by DAG id, owner and tag (the default channel is `slackChannel`). */
  routing?: Omit<RoutingOptions, 'defaultChannel'>;
  /** The playbooks; matching ones give the message runbook buttons and next steps, and route it. */
  playbooks?: PlaybookCatalog;
  /** The LLM drafter; without it every message is the deterministic template. */
  drafting?: DraftingOptions;
  /**
   * Queues a notify job (the composition root wires the notify queue). Used when a draft arrives
   * after the post; without it the notifier handles the follow-up itself, in the background.
   */
  requeue?: (job: NotifyJob) => Promise<void>;
  /** Link to an incident in Guardian's API, for the message. */
  incidentUrl?: (id: string) => string;
  /**
   * Show the Acknowledge / Resolve / Silence / Reopen controls (when the Slack app is set up).
   * @defaultValue true
   */
  buttons?: boolean;
  metrics?: GuardianMetrics;
  /**
   * A post claimed this long ago with no answer recorded is taken over by another attempt (after
   * looking for the message the first attempt may have posted).
   * @defaultValue 60000
   */
  claimTtlMs?: number;
  /**
   * Thread replies about new or cleared signals wait until this long after the previous reply
   * (or the post), so a burst of signals becomes one reply. Status changes are told at once.
   * @defaultValue 30000
   */
  replyBatchMs?: number;
  /**
   * Right after the first post, reply in its thread with what the post leaves out to stay short:
   * the signals, why the root cause, the evidence and log templates, the entities. Guardian turns
   * it on (`createGuardian`); off here so that a notifier built for one purpose says only that.
   * @defaultValue false
   */
  threadDetails?: boolean;
  /**
   * Gathers the matched playbooks' diagnostics: the LLM draft gets them as evidence, and the
   * thread gets them once per root cause (a "Diagnostics" reply, with whatever else it has to
   * hear). Without it, nothing is gathered.
   */
  diagnostics?: DiagnosticsGatherer;
  /**
   * The recent points of each series: an incident with metric evidence gets a chart of each of
   * its series (at most four) in its thread, once. Without it, no charts.
   */
  history?: SeriesHistory;
}

/** Message metadata event type of thread replies; `event_payload.reply_id` names the reply's claim. */
export const REPLY_EVENT_TYPE = 'guardian_incident_reply';

/** A notify job that has to wait (a batch window, a silence): the queue runs it again later. */
export class NotificationDeferredError extends GuardianError {
  constructor(message: string, retryAfterMs: number) {
    super('notification_deferred', message, { retryable: true, retryAfterMs: Math.max(1, retryAfterMs) });
  }
}

/** Slack errors that say a post's outcome is unknown: it may have been posted. */
const OUTCOME_UNKNOWN: ReadonlySet<string> = new Set([
  'request_failed',
  'unknown_error',
  'invalid_response',
  'http_500',
  'http_502',
  'http_503',
  'http_504',
]);

/** Slack errors that mean "not this channel": the post goes to the default channel instead. */
const CHANNEL_UNAVAILABLE: ReadonlySet<string> = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
]);

/** A draft held in the notification state: the one shown, or why there is none for this root cause. */
type DraftEntry =
  | { readonly basis: string; readonly ok: true; readonly draft: IncidentDraft; readonly at: number }
  | { readonly basis: string; readonly ok: false; readonly reason: DraftFailure; readonly at: number };

interface InFlightDraft {
  promise: Promise<DraftResult>;
  /** Nobody waits for it any more: when it succeeds, a job must bring the message up to date. */
  abandoned: boolean;
}

/** An incident's diagnostics for one root cause: the gathering, its result once in, and whether a job waits for it. */
interface DiagnosticsEntry {
  readonly promise: Promise<GatheredDiagnostics | null>;
  result?: GatheredDiagnostics | null;
  followUp?: boolean;
}

const NOT_STARTED: DraftResult = { ok: false, reason: 'connection', message: 'not started', usage: NO_USAGE };

interface Context {
  readonly incident: Incident;
  readonly state: NotificationState | null;
  readonly playbooks: ReturnType<PlaybookCatalog['match']>;
  readonly refs: readonly PlaybookRef[];
  readonly actions: readonly HumanAction[];
  /** The thread was told the diagnostics of the current root cause. */
  readonly diagnosticsTold: boolean;
  /** Fingerprints whose chart is in the thread already. */
  readonly charted: ReadonlySet<string>;
  /** The thread was told the details the top-level message leaves out (signals, evidence). */
  readonly detailsTold: boolean;
}

/**
 * Keeps one Slack message per incident in step with the incident.
 *
 * - **First post**: never while the incident is quiet or covered by a silence. The post is
 *   claimed in the store (a conditional write) before Slack is called, and carries the incident
 *   id in its message metadata; an attempt that finds an unfinished claim (an earlier attempt
 *   died, or lost Slack's answer) looks for that message in the channel's history and adopts it
 *   instead of posting again. The LLM draft gets `budgetMs` to arrive; otherwise the template
 *   goes out and the draft replaces it by an edit when it comes.
 * - **Later**: the message is edited in place when its render changes; the thread gets one reply
 *   summarising what changed since the previous reply (signals joined, cleared, severity, status
 *   with who changed it), batched over `replyBatchMs`.
 *
 * Jobs re-read the incident, so a late or repeated job sends nothing that is already shown.
 */
export class Notifier {
  readonly #o: NotifierOptions;
  readonly #claimTtlMs: number;
  readonly #replyBatchMs: number;
  readonly #inFlight = new Map<string, InFlightDraft>();
  readonly #background = new Set<Promise<unknown>>();
  readonly #tokens: Counter | undefined;
  readonly #drafts: Counter | undefined;
  readonly #adoptions: Counter | undefined;
  /** Diagnostics being gathered or gathered, per incident and root cause (bounded, oldest dropped). */
  readonly #diagnostics = new Map<string, DiagnosticsEntry>();

  constructor(options: NotifierOptions) {
    this.#o = options;
    this.#claimTtlMs = options.claimTtlMs ?? 60_000;
    this.#replyBatchMs = options.replyBatchMs ?? 30_000;
    const meter = options.metrics?.meter;
    this.#tokens = meter?.createCounter('guardian.llm.tokens', {
      unit: '{token}',
      description:
        'LLM tokens used drafting incident messages, by type (input, output, cache_read, cache_write)',
    });
    this.#drafts = meter?.createCounter('guardian.llm.drafts', {
      unit: '{draft}',
      description: 'LLM drafts by outcome (ok, or why the template was kept)',
    });
    this.#adoptions = meter?.createCounter('guardian.slack.posts.adopted', {
      unit: '{post}',
      description: 'Posts found in channel history after an attempt died before recording them',
    });
  }

  async handle(job: NotifyJob): Promise<void> {
    const incident = await this.#o.store.get(job.incidentId);
    if (!incident) {
      this.#o.logger.warn({ incidentId: job.incidentId }, 'notify job for an unknown incident dropped');
      return;
    }
    const context = await this.#context(incident);
    if (!incident.slack?.ts) {
      await this.#firstPost(context, job);
      return;
    }
    await this.#keepUp(context, job);
  }

  /** Resolves once background work (late drafts and the edits they cause) has finished. */
  async settled(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  async #context(incident: Incident): Promise<Context> {
    const { store, playbooks } = this.#o;
    const [state, timeline] = await Promise.all([
      store.getNotificationState(incident.id),
      store.timeline(incident.id),
    ]);
    const matched = playbooks?.match(incident) ?? [];
    const refs: PlaybookRef[] = matched.map((m) => ({
      id: m.playbook.id,
      title: m.playbook.title,
      links: m.links,
      fixSteps: listItems(m.playbook.sections['How to fix']),
    }));
    return {
      incident,
      state,
      playbooks: matched,
      refs,
      actions: humanActions(timeline),
      diagnosticsTold: timeline.some((e) => e.id === diagnosticsEventId(incident)),
      charted: new Set(timeline.filter((e) => e.id.startsWith(CHART_EVENT)).map((e) => e.fingerprint ?? '')),
      detailsTold: timeline.some((e) => e.id === detailsEventId(incident)),
    };
  }

  #render(context: Context, draft: IncidentDraft | null): SlackMessage {
    return renderIncidentMessage(context.incident, {
      draft,
      playbooks: context.refs,
      actions: context.actions,
      ...(this.#o.incidentUrl ? { incidentUrl: this.#o.incidentUrl } : {}),
      ...(this.#o.buttons === false ? { buttons: false } : {}),
    });
  }

  async #firstPost(context: Context, job: NotifyJob): Promise<void> {
    const { store, channel, clock, logger } = this.#o;
    const { incident } = context;
    const now = clock.now();
    if (incident.mergedInto) return;
    if (incident.quiet === true) {
      logger.debug({ incidentId: incident.id }, 'quiet incident not posted');
      return;
    }

    const slack = incident.slack;
    if (slack && slack.ts === '') {
      // An earlier attempt claimed the post and never recorded Slack's answer: it may have posted.
      const found = await channel.findPosted(slack.channel, {
        eventType: INCIDENT_EVENT_TYPE,
        key: 'incident_id',
        value: incident.id,
        since: slack.claimedAt - 60_000,
      });
      if (found) {
        await this.#adopt(incident.id, found, slack.claimedAt);
        this.#adoptions?.add(1);
        logger.info(
          { incidentId: incident.id, ts: found.ts },
          'adopted a post an earlier attempt never recorded',
        );
        // The adopted message may show an older render: bring it up to date now.
        const adopted = await store.get(incident.id);
        if (adopted?.slack?.ts) await this.#keepUp(await this.#context(adopted), job);
        return;
      }
      if (now - slack.claimedAt <= this.#claimTtlMs) {
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
      // A stale claim with nothing posted: take it over (the conditional write below).
    }

    const silence = findSilence(await store.listSilences(now), incident, now);
    if (silence) {
      await store.appendTimeline(incident.id, [
        {
          id: stableId('evt_', 'muted', incident.id, silence.id),
          at: now,
          type: 'silenced',
          text: `not posted: ${describeSilence(silence)} is silenced until ${new Date(silence.expiresAt).toISOString()} (by ${silence.createdBy.name ?? silence.createdBy.id})`,
        },
      ]);
      // What the silence kept from Slack, for whoever reviews it; a failed count delays nothing.
      await store
        .recordSuppressed(
          silence.id,
          incident.signals.map((s) => s.fingerprint),
        )
        .catch((err: unknown) =>
          logger.warn(
            { silence: silence.id, error: errorMessage(err) },
            'could not count what a silence suppressed',
          ),
        );
      if (incident.status === 'resolved') return;
      throw new NotificationDeferredError(
        `incident ${incident.id} is silenced by ${silence.id}`,
        silence.expiresAt - now,
      );
    }

    const route = await routeIncident(incident, context.playbooks, {
      ...this.#o.routing,
      defaultChannel: this.#o.slackChannel,
    });
    if (route.reason.startsWith('default (')) {
      logger.warn({ incidentId: incident.id, route: route.reason }, 'routed to the default channel');
    }
    // The claim is a conditional write: of two attempts racing to post, one gets a VersionConflict.
    let claimed = await store.update({
      ...incident,
      slack: { channel: route.channel, ts: '', claimedAt: now, digest: '' },
      version: incident.version + 1,
    });

    const draft = await this.#draftFor(context, this.#o.drafting?.budgetMs ?? 4000);
    const rendered = this.#render(context, draft);
    const message: SlackMessage = {
      ...rendered,
      metadata: { event_type: INCIDENT_EVENT_TYPE, event_payload: { incident_id: incident.id } },
    };
    const digest = digestOf(rendered);

    let posted: PostedMessage;
    try {
      posted = await this.#post(claimed, route, message, (next) => {
        claimed = next;
      });
      crashPoint('slack-posted');
    } catch (err) {
      if (err instanceof DependencyError && OUTCOME_UNKNOWN.has(err.code)) {
        // Slack may have posted it: keep the claim, marked stale, so the retry looks before posting.
        await this.#ageClaim(claimed);
      } else {
        await this.#releaseClaim(claimed);
      }
      throw err;
    }
    await this.#record(incident.id, (current) =>
      current.slack?.ts
        ? null
        : {
            slack: { channel: posted.channel, ts: posted.ts, claimedAt: now, digest },
            notification: {
              at: clock.now(),
              kind: 'post',
              channel: posted.channel,
              ts: posted.ts,
              version: incident.version,
            },
          },
    );
    await this.#updateState(incident.id, (s) => ({
      ...s,
      told: toldOf(incident),
      toldSeverity: incident.severity,
      toldStatus: incident.status,
      lastReplyAt: clock.now(),
    }));
    logger.info(
      {
        incidentId: incident.id,
        channel: posted.channel,
        ts: posted.ts,
        route: route.reason,
        drafted: draft !== null,
      },
      'incident posted',
    );
    // The details the post leaves out go to its thread at once, with the diagnostics if they are
    // gathered already (else they follow when they arrive), and the charts.
    if (this.#o.threadDetails === true) await this.#followUp(incident.id, incident.version, 'details');
    else if (this.#diagnosticsToTell(context))
      await this.#followUp(incident.id, incident.version, 'diagnostics');
    else if (this.#chartsToShare(context).length > 0)
      await this.#followUp(incident.id, incident.version, 'charts');
  }

  /** Charts of the incident's series that are not in its thread yet. */
  #chartsToShare(context: Context): IncidentChart[] {
    if (!this.#o.history) return [];
    return incidentCharts(context.incident, this.#o.history).filter(
      (c) => !context.charted.has(c.fingerprint),
    );
  }

  /**
   * Shares each chart not yet in the thread, then notes it in the timeline. A chart that cannot be
   * drawn or uploaded is logged and left for the next update: a chart never holds up a message. A
   * process that dies between the upload and the note shares that chart again on the next attempt.
   */
  async #shareCharts(context: Context): Promise<void> {
    const { incident } = context;
    const thread = incident.slack;
    if (!thread?.ts) return;
    for (const chart of this.#chartsToShare(context)) {
      try {
        const bytes = chartPng(chart.spec);
        await this.#o.channel.uploadFile(thread.channel, thread.ts, {
          filename: `${incident.id}-${chart.fingerprint}.png`,
          title: chart.spec.title,
          altText: `Chart of ${chart.spec.title}`,
          bytes,
        });
        await this.#o.store.appendTimeline(incident.id, [
          {
            id: `${CHART_EVENT}${incident.id}:${chart.fingerprint}`,
            at: this.#o.clock.now(),
            type: 'notified',
            text: `chart shared in the thread: ${chart.spec.title}`.slice(0, 1000),
            fingerprint: chart.fingerprint,
          },
        ]);
      } catch (err) {
        this.#o.logger.warn(
          { err, incidentId: incident.id },
          'chart could not be shared; will try on the next update',
        );
        return;
      }
    }
  }

  /** Posts to the routed channel; if Slack says that channel is unusable, to the default channel. */
  async #post(
    claimed: Incident,
    route: Route,
    message: SlackMessage,
    onReclaim: (next: Incident) => void,
  ): Promise<PostedMessage> {
    try {
      return await this.#o.channel.post(route.channel, message);
    } catch (err) {
      const fallback = this.#o.slackChannel;
      if (
        !(err instanceof DependencyError && CHANNEL_UNAVAILABLE.has(err.code)) ||
        route.channel === fallback
      ) {
        throw err;
      }
      this.#o.logger.warn(
        { incidentId: claimed.id, channel: route.channel, route: route.reason, code: err.code },
        'routed channel unusable; posting to the default channel',
      );
      const next = await this.#o.store.update({
        ...claimed,
        slack: { ...claimed.slack!, channel: fallback },
        version: claimed.version + 1,
      });
      onReclaim(next);
      return this.#o.channel.post(fallback, message);
    }
  }

  async #keepUp(context: Context, job: NotifyJob): Promise<void> {
    const { clock } = this.#o;
    const { incident, state } = context;
    const { channel, ts } = incident.slack!;
    const draft = await this.#draftFor(context, 0);
    const message = this.#render(context, draft);
    const digest = digestOf(message);
    if (digest !== incident.slack!.digest) {
      const updated = await this.#o.channel.update(channel, ts, message);
      await this.#record(incident.id, (cur) => ({
        slack: { ...cur.slack!, digest },
        notification: { at: clock.now(), kind: 'update', channel, ts: updated.ts, version: job.version },
      }));
    }

    await this.#shareCharts(context);

    // A reply an earlier attempt claimed: settle it (adopt it, or drop a claim that sent nothing)
    // before working out what the thread still needs to hear.
    const thread = state?.pendingReply ? await this.#settleReply(incident, state.pendingReply) : state;
    const told = threadChanges(incident, thread, context.actions);
    const diagnostics = thread ? this.#diagnosticsToTell(context) : undefined;
    const details =
      this.#o.threadDetails === true &&
      thread !== null &&
      !context.detailsTold &&
      incident.status !== 'resolved' &&
      !incident.mergedInto &&
      incident.quiet !== true;
    const changes =
      diagnostics || details
        ? {
            ...(told ?? { joined: [], cleared: [], refired: [] }),
            ...(diagnostics ? { diagnostics } : {}),
            ...(details ? { details } : {}),
          }
        : told;
    if (!changes || !thread) return;
    const now = clock.now();
    const since = thread.lastReplyAt ?? incident.notifications.find((n) => n.kind === 'post')?.at ?? 0;
    // Diagnostics are told at once, with whatever else is waiting for the batch.
    if (!changes.status && !changes.diagnostics && !details && now - since < this.#replyBatchMs) {
      throw new NotificationDeferredError(
        `incident ${incident.id}: thread reply batched`,
        since + this.#replyBatchMs - now,
      );
    }
    const reply = renderThreadUpdate(incident, changes);
    if (reply) {
      await this.#replyOnce(incident, thread, reply, job.version, diagnostics, details);
      return;
    }
    await this.#updateState(incident.id, (s) => ({
      ...s,
      told: toldOf(incident),
      toldSeverity: incident.severity,
      toldStatus: incident.status,
    }));
  }

  /**
   * Sends a thread reply at most once: claims it in the notification state (a conditional write
   * that fails if the thread was told anything since `basis` was read), sends it with the claim's
   * id in its message metadata, then records it and what it told. A process that dies in between
   * leaves the claim; the next attempt finds the reply by that id ({@link Notifier.#settleReply}).
   */
  async #replyOnce(
    incident: Incident,
    basis: NotificationState,
    reply: SlackMessage,
    version: number,
    diagnostics: readonly DiagnosticResult[] | undefined,
    details = false,
  ): Promise<void> {
    const { store, clock } = this.#o;
    const { channel, ts } = incident.slack!;
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
      told: toldOf(incident),
      toldSeverity: incident.severity,
      toldStatus: incident.status,
      ...(diagnostics ? { diagnostics: diagnosticsTold(incident, diagnostics) } : {}),
      ...(details
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
      posted = await this.#o.channel.reply(channel, ts, {
        ...reply,
        metadata: {
          event_type: REPLY_EVENT_TYPE,
          event_payload: { incident_id: incident.id, reply_id: pending.id },
        },
      });
    } catch (err) {
      // Slack may have taken it: keep the claim, aged, so the retry looks before sending. Else drop it.
      const unknown = err instanceof DependencyError && OUTCOME_UNKNOWN.has(err.code);
      await this.#endReplyClaim(claimed, unknown);
      throw err;
    }
    await this.#recordReply(incident.id, pending, { channel, ts: posted.ts });
  }

  /**
   * An earlier attempt claimed a reply and never recorded it: if the thread has a reply with the
   * claim's id, record it as sent; if not and the claim is recent, that attempt may still be
   * sending (retry shortly); otherwise drop the claim, and the reply is worked out and sent anew.
   * Returns the notification state to work from.
   */
  async #settleReply(incident: Incident, pending: PendingReply): Promise<NotificationState | null> {
    const { store, channel, clock, logger } = this.#o;
    const thread = incident.slack!;
    const found = await channel.findReply(thread.channel, thread.ts, {
      eventType: REPLY_EVENT_TYPE,
      key: 'reply_id',
      value: pending.id,
      since: pending.claimedAt - 60_000,
    });
    if (found) {
      await this.#recordReply(incident.id, pending, { channel: thread.channel, ts: found.ts });
      this.#adoptions?.add(1, { kind: 'thread' });
      logger.info(
        { incidentId: incident.id, ts: found.ts, replyId: pending.id },
        'adopted a thread reply an earlier attempt never recorded',
      );
    } else if (clock.now() - pending.claimedAt <= this.#claimTtlMs) {
      throw new DependencyError(
        'slack',
        'reply_in_progress',
        `incident ${incident.id}: a thread reply is in progress`,
        { retryable: true, retryAfterMs: 2000 },
      );
    } else {
      await this.#updateState(incident.id, (s) =>
        s.pendingReply?.id === pending.id ? withoutPending(s) : s,
      );
    }
    return store.getNotificationState(incident.id);
  }

  /**
   * The reply is in the thread: note it on the incident (once), and what it told (the diagnostics
   * in the timeline, so they are told once per root cause), and end its claim.
   */
  async #recordReply(incidentId: string, pending: PendingReply, posted: PostedMessage): Promise<void> {
    const told = [pending.details, pending.diagnostics].filter((e) => e !== undefined);
    if (told.length > 0) {
      await this.#o.store.appendTimeline(
        incidentId,
        told.map((e) => ({ id: e.eventId, at: pending.at, type: 'notified', text: e.text })),
      );
    }
    await this.#record(incidentId, (current) =>
      current.notifications.some((n) => n.kind === 'thread' && n.ts === posted.ts)
        ? null
        : {
            notification: {
              at: this.#o.clock.now(),
              kind: 'thread',
              channel: posted.channel,
              ts: posted.ts,
              version: pending.version,
            },
          },
    );
    await this.#updateState(incidentId, (s) =>
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
  async #endReplyClaim(claimed: NotificationState, outcomeUnknown: boolean): Promise<void> {
    const pending = claimed.pendingReply!;
    try {
      await this.#o.store.putNotificationState({
        ...(outcomeUnknown
          ? { ...claimed, pendingReply: { ...pending, claimedAt: pending.claimedAt - this.#claimTtlMs - 1 } }
          : withoutPending(claimed)),
        version: claimed.version + 1,
      });
    } catch (err) {
      // The claim then expires after claimTtlMs and the next attempt looks for the reply first.
      this.#o.logger.warn({ err, incidentId: claimed.incidentId }, 'could not end a thread reply claim');
    }
  }

  /**
   * The draft to show: the stored one when it was drafted for this root cause; otherwise, budget
   * permitting, a new one, waited for up to `waitMs` (0: drafted in the background, the message
   * edited when it arrives).
   */
  async #draftFor(context: Context, waitMs: number): Promise<IncidentDraft | null> {
    const drafting = this.#o.drafting;
    if (!drafting) return null;
    const { incident, state } = context;
    if (incident.quiet === true || incident.mergedInto) return null;
    const basis = basisOf(incident);
    const entry = readDraftEntry(state);
    if (entry?.basis === basis) {
      if (entry.ok) return entry.draft;
      const retryAfter = drafting.retryFailedAfterMs ?? 600_000;
      if (this.#o.clock.now() - entry.at < retryAfter) return null;
    }
    // A resolved incident keeps the draft it had, or the template: not worth new tokens.
    if (incident.status === 'resolved') return entry?.ok ? entry.draft : null;

    const key = `${incident.id}|${basis}`;
    let flight = this.#inFlight.get(key);
    if (!flight) {
      if (!(await this.#withinBudget(state))) {
        this.#drafts?.add(1, { outcome: 'budget' });
        this.#o.logger.info({ incidentId: incident.id }, 'LLM token budget spent: template only');
        return null;
      }
      const started: InFlightDraft = { promise: Promise.resolve(NOT_STARTED), abandoned: waitMs <= 0 };
      started.promise = this.#runDraft(context, basis)
        .then(async (result) => {
          if (result.ok && started.abandoned) await this.#followUp(incident.id, incident.version);
          return result;
        })
        .finally(() => this.#inFlight.delete(key));
      flight = started;
      this.#inFlight.set(key, flight);
      this.#track(started.promise);
    }
    if (waitMs <= 0) {
      flight.abandoned = true;
      return null;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), waitMs);
    });
    const result = await Promise.race([flight.promise, timedOut]).finally(() => clearTimeout(timer));
    if (result === null) {
      flight.abandoned = true;
      this.#o.logger.info(
        { incidentId: incident.id, budgetMs: waitMs },
        'LLM draft not in time: template first',
      );
      return null;
    }
    return result.ok ? result.draft : null;
  }

  async #withinBudget(state: NotificationState | null): Promise<boolean> {
    const drafting = this.#o.drafting!;
    const perIncident = drafting.tokensPerIncident ?? 40_000;
    const perHour = drafting.tokensPerHour ?? 400_000;
    if (weighted(state?.llmUsage ?? NO_USAGE) >= perIncident) return false;
    const hour = await this.#o.store.llmUsage(hourStart(this.#o.clock.now()));
    return weighted(hour) < perHour;
  }

  /** One drafting call: its usage counted and recorded, its outcome kept in the notification state. */
  async #runDraft(context: Context, basis: string): Promise<DraftResult> {
    const { store, clock, logger } = this.#o;
    const drafting = this.#o.drafting!;
    const { incident } = context;
    let result: DraftResult;
    try {
      const [similar, timeline, gathered] = await Promise.all([
        findSimilarIncidents(store, incident, clock.now()),
        store.timeline(incident.id),
        this.#o.diagnostics ? this.#diagnosticsOf(context).promise : null,
      ]);
      result = await drafting.drafter.draft(
        {
          incident,
          playbooks: context.playbooks,
          timeline,
          similar,
          ...(gathered ? { diagnostics: gathered.results } : {}),
        },
        AbortSignal.timeout(drafting.timeoutMs ?? 30_000),
      );
    } catch (err) {
      // The drafter never throws; the store reads above can. The template stays either way.
      logger.warn({ err, incidentId: incident.id }, 'LLM draft could not be prepared');
      return { ok: false, reason: 'connection', message: String(err), usage: NO_USAGE };
    }
    const now = clock.now();
    const usage = result.usage;
    this.#drafts?.add(1, { outcome: result.ok ? 'ok' : result.reason });
    if (usage.calls > 0) {
      this.#tokens?.add(usage.inputTokens, { type: 'input' });
      this.#tokens?.add(usage.outputTokens, { type: 'output' });
      this.#tokens?.add(usage.cacheReadInputTokens, { type: 'cache_read' });
      this.#tokens?.add(usage.cacheCreationInputTokens, { type: 'cache_write' });
    }
    try {
      if (usage.calls > 0) await store.addLlmUsage(hourStart(now), usage);
      const tokens = `${usage.inputTokens} in, ${usage.outputTokens} out, ${usage.cacheReadInputTokens} cache read, ${usage.cacheCreationInputTokens} cache write tokens`;
      const event: RecordedEvent = {
        id: stableId('evt_', 'drafted', incident.id, basis, now),
        at: now,
        type: 'drafted',
        text: result.ok
          ? `message drafted by ${drafting.drafter.model} (${tokens})`
          : `LLM draft failed (${result.reason}): the template stays${usage.calls > 0 ? ` (${tokens})` : ''}`,
      };
      await store.appendTimeline(incident.id, [event]);
      const entry: DraftEntry = result.ok
        ? { basis, ok: true, draft: result.draft, at: now }
        : { basis, ok: false, reason: result.reason, at: now };
      await this.#updateState(incident.id, (s) => ({
        ...s,
        draft: entry as unknown as Record<string, unknown>,
        llmUsage: addUsage(s.llmUsage, usage),
      }));
    } catch (err) {
      logger.warn({ err, incidentId: incident.id }, 'LLM draft could not be recorded');
      return { ok: false, reason: 'connection', message: String(err), usage };
    }
    if (result.ok) {
      if (result.repairs.length > 0) {
        logger.info({ incidentId: incident.id, repairs: result.repairs }, 'LLM draft repaired by validation');
      }
    } else {
      logger.warn(
        { incidentId: incident.id, reason: result.reason, message: result.message },
        'LLM draft failed',
      );
    }
    return result;
  }

  /** After a late draft: a job that edits the message to show it. */
  async #followUp(
    incidentId: string,
    version: number,
    change: NotifyJob['change'] = 'drafted',
  ): Promise<void> {
    const job: NotifyJob = { incidentId, version, change };
    if (this.#o.requeue) {
      await this.#o.requeue(job);
      return;
    }
    this.#track(
      this.handle(job).catch((err: unknown) =>
        this.#o.logger.warn({ err, incidentId }, 'edit after a late draft failed'),
      ),
    );
  }

  /** The diagnostics of the incident's current root cause: gathered once, shared by the draft and the thread. */
  #diagnosticsOf(context: Context): DiagnosticsEntry {
    const { incident } = context;
    const key = `${incident.id}|${basisOf(incident)}`;
    let entry = this.#diagnostics.get(key);
    if (!entry) {
      const started: DiagnosticsEntry = {
        promise: this.#o
          .diagnostics!.gather(
            incident,
            context.playbooks.map((m) => m.playbook),
          )
          .catch((err: unknown) => {
            // The gatherer never throws; if it did, there is nothing to tell.
            this.#o.logger.warn({ err, incidentId: incident.id }, 'diagnostics could not be gathered');
            return null;
          }),
      };
      started.promise.then((result) => {
        started.result = result;
      });
      entry = started;
      this.#diagnostics.set(key, entry);
      if (this.#diagnostics.size > 500) this.#diagnostics.delete(this.#diagnostics.keys().next().value!);
    }
    return entry;
  }

  /**
   * Diagnostics the thread has not been told, when they are gathered; undefined when there are
   * none to tell or they are still being gathered (a job tells them when they arrive).
   */
  #diagnosticsToTell(context: Context): readonly DiagnosticResult[] | undefined {
    const { incident } = context;
    if (!this.#o.diagnostics || context.diagnosticsTold) return undefined;
    if (incident.quiet === true || incident.mergedInto || incident.status === 'resolved') return undefined;
    if (context.playbooks.every((m) => m.playbook.diagnostics.length === 0)) return undefined;
    const entry = this.#diagnosticsOf(context);
    if (entry.result !== undefined) {
      const told = toldResults(entry.result?.results ?? []);
      return told.length > 0 ? told : undefined;
    }
    if (!entry.followUp) {
      entry.followUp = true;
      this.#track(
        entry.promise.then((result) =>
          toldResults(result?.results ?? []).length > 0
            ? this.#followUp(incident.id, incident.version, 'diagnostics')
            : undefined,
        ),
      );
    }
    return undefined;
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch(() => {}).finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  }

  async #adopt(incidentId: string, found: PostedMessage, claimedAt: number): Promise<void> {
    await this.#record(incidentId, (current) =>
      current.slack?.ts
        ? null
        : {
            // The content it shows is unknown: an empty digest makes the next render edit it.
            slack: { channel: found.channel, ts: found.ts, claimedAt, digest: '' },
            notification: {
              at: this.#o.clock.now(),
              kind: 'post',
              channel: found.channel,
              ts: found.ts,
              version: current.version,
            },
          },
    );
    const incident = await this.#o.store.get(incidentId);
    if (incident) {
      await this.#updateState(incidentId, (s) => ({
        ...s,
        told: toldOf(incident),
        toldSeverity: incident.severity,
        toldStatus: incident.status,
        lastReplyAt: this.#o.clock.now(),
      }));
    }
  }

  async #releaseClaim(claimed: Incident): Promise<void> {
    try {
      await this.#o.store.update({ ...claimed, slack: null, version: claimed.version + 1 });
    } catch (err) {
      // The claim then expires after claimTtlMs and another attempt takes it over.
      this.#o.logger.warn({ err, incidentId: claimed.id }, 'could not release a failed post claim');
    }
  }

  /** Marks the claim as ended without an answer: the next attempt looks for the post, then posts. */
  async #ageClaim(claimed: Incident): Promise<void> {
    try {
      await this.#o.store.update({
        ...claimed,
        slack: { ...claimed.slack!, claimedAt: claimed.slack!.claimedAt - this.#claimTtlMs - 1 },
        version: claimed.version + 1,
      });
    } catch (err) {
      this.#o.logger.warn({ err, incidentId: claimed.id }, 'could not mark a post claim as ended');
    }
  }

  /** Writes what Slack now shows into the incident, re-reading on lost races; null: nothing to write. */
  async #record(
    incidentId: string,
    change: (current: Incident) => { slack?: Incident['slack']; notification: NotificationRecord } | null,
  ): Promise<void> {
    const { store } = this.#o;
    await optimistic(
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

  async #updateState(
    incidentId: string,
    change: (current: NotificationState) => Omit<NotificationState, 'version' | 'incidentId'>,
  ): Promise<void> {
    const { store } = this.#o;
    await optimistic(
      async () => {
        const current = (await store.getNotificationState(incidentId)) ?? emptyState(incidentId);
        await store.putNotificationState({ ...change(current), incidentId, version: current.version + 1 });
      },
      { what: `incident ${incidentId}: record its notification state` },
    );
  }
}

function withoutPending(state: NotificationState): NotificationState {
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

/** What Slack's thread needs to hear about, or null when it is up to date. */
export function threadChanges(
  incident: Incident,
  state: NotificationState | null,
  actions: readonly HumanAction[],
): ThreadChanges | null {
  // No state: posted before Guardian kept one (or its write was lost). Take the present as told.
  if (!state) return null;
  const joined = incident.signals.filter((s) => state.told[s.fingerprint] === undefined);
  const cleared = incident.signals.filter(
    (s) => state.told[s.fingerprint] === 'firing' && s.status === 'resolved',
  );
  const refired = incident.signals.filter(
    (s) => state.told[s.fingerprint] === 'resolved' && s.status === 'firing',
  );
  const severity =
    state.toldSeverity && state.toldSeverity !== incident.severity
      ? { from: state.toldSeverity, to: incident.severity }
      : undefined;
  let status: ThreadChanges['status'];
  if (state.toldStatus && state.toldStatus !== incident.status) {
    const type =
      incident.status === 'acknowledged'
        ? 'acknowledged'
        : incident.status === 'resolved'
          ? 'resolved'
          : 'reopened';
    const by = [...actions].reverse().find((a) => a.type === type)?.actor;
    status = { from: state.toldStatus, to: incident.status, ...(by ? { by } : {}) };
  }
  if (joined.length + cleared.length + refired.length === 0 && !severity && !status) return null;
  return { joined, cleared, refired, ...(severity ? { severity } : {}), ...(status ? { status } : {}) };
}

function toldOf(incident: Incident): Record<string, 'firing' | 'resolved'> {
  return Object.fromEntries(incident.signals.map((s) => [s.fingerprint, s.status]));
}

/** The timeline's actions by people, oldest first. */
function humanActions(timeline: readonly RecordedEvent[]): HumanAction[] {
  const actions: HumanAction[] = [];
  for (const e of timeline) {
    if (!e.actor) continue;
    if (
      e.type === 'acknowledged' ||
      e.type === 'resolved' ||
      e.type === 'reopened' ||
      e.type === 'silenced'
    ) {
      actions.push({ type: e.type, actor: e.actor, at: e.at, text: e.text });
    }
  }
  return actions;
}

/** A draft is for one root cause: when the correlator changes its mind, the draft is redone. */
function basisOf(incident: Incident): string {
  const rc = incident.rootCause;
  return rc ? `${rc.kind}|${rc.entity}` : `title|${incident.title}`;
}

/** The timeline event a reply telling these diagnostics writes once it is in the thread. */
function diagnosticsTold(
  incident: Incident,
  results: readonly DiagnosticResult[],
): { eventId: string; text: string } {
  const summary = results
    .map((r) => (r.status === 'ok' ? r.kind : `${r.kind} unavailable (${r.reason ?? 'unknown'})`))
    .join('; ');
  return {
    eventId: diagnosticsEventId(incident),
    text: `diagnostics told in the thread: ${summary}`.slice(0, 1000),
  };
}

/** Timeline events that say a chart is in the thread start with this. */
const CHART_EVENT = 'chart:';

/** The timeline event that says the thread was told the incident's details (once per incident). */
function detailsEventId(incident: Incident): string {
  return stableId('evt_', 'details', incident.id);
}

/** The timeline event that says the thread was told the diagnostics of the current root cause. */
function diagnosticsEventId(incident: Incident): string {
  return stableId('evt_', 'diagnostics', incident.id, basisOf(incident));
}

function readDraftEntry(state: NotificationState | null): DraftEntry | null {
  const raw = state?.draft as Record<string, unknown> | null | undefined;
  if (!raw || typeof raw.basis !== 'string' || typeof raw.at !== 'number') return null;
  if (raw.ok === true) {
    const draft = parseStoredDraft(raw.draft);
    return draft ? { basis: raw.basis, ok: true, draft, at: raw.at } : null;
  }
  return { basis: raw.basis, ok: false, reason: String(raw.reason) as DraftFailure, at: raw.at };
}

function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheCreationInputTokens: a.cacheCreationInputTokens + b.cacheCreationInputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
    calls: a.calls + b.calls,
  };
}

/** Tokens as the budgets count them: cache reads cost a tenth of fresh input, so they count a tenth. */
function weighted(u: TokenUsage): number {
  return u.inputTokens + u.outputTokens + u.cacheCreationInputTokens + Math.ceil(u.cacheReadInputTokens / 10);
}

function hourStart(ms: number): number {
  return Math.floor(ms / 3_600_000) * 3_600_000;
}

/** The list items of a Markdown section (numbered or bulleted), Markdown links reduced to their text. */
function digestOf(message: SlackMessage): string {
  return createHash('sha256')
    .update(JSON.stringify({ text: message.text, blocks: message.blocks }))
    .digest('base64url')
    .slice(0, 22);
}
