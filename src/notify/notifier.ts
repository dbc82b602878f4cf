import type { Counter } from '@opentelemetry/api';
import type { SeriesHistory } from '../charts/series-history.ts';
import type { Clock } from '../core/index.ts';
import type { IncidentChange } from '../correlation/incident-state.ts';
import type { DiagnosticsGatherer } from '../diagnostics/diagnostic.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { IncidentDraft } from '../llm/draft.ts';
import type { PlaybookCatalog } from '../playbooks/match.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { GuardianMetrics } from '../telemetry/metrics.ts';
import type { MessageChannel, SlackMessage } from './channel.ts';
import { DeliveryRecords } from './delivery-records.ts';
import { type DraftingOptions, DraftStage } from './draft-stage.ts';
import { mute } from './mute.ts';
import { NotificationDeferredError } from './notification-deferred.ts';
import { type NotifyContext, readNotifyContext } from './notify-context.ts';
import { digestOf, PostOnce } from './post-once.ts';
import { detailsEventId, ReplyOnce } from './reply-once.ts';
import { type RoutingOptions, routeIncident } from './route.ts';
import { renderIncidentMessage, renderThreadUpdate } from './template.ts';
import { threadChanges, toldNow } from './thread-changes.ts';
import { ThreadCharts } from './thread-charts.ts';
import { ThreadDiagnostics } from './thread-diagnostics.ts';

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

/**
 * Keeps one Slack message per incident in step with the incident, in stages:
 *
 * - **First post**: never while the incident is quiet or merged; an unfinished claim of an
 *   earlier attempt is settled first (its post adopted: {@link PostOnce}); then **mute**
 *   (silences, `mute.ts`) → **route** (`route.ts`) → **draft** (`draft-stage.ts`: the LLM draft
 *   gets `budgetMs` to arrive, else the template goes out and the draft replaces it by an edit) →
 *   **deliver once** (claim, send, record: `post-once.ts`).
 * - **Later**: the message is edited in place when its render changes; the thread gets its
 *   charts (`thread-charts.ts`), and one reply summarising what changed since the previous reply
 *   (signals joined, cleared, severity, status with who changed it), batched over
 *   `replyBatchMs`, delivered once (`reply-once.ts`).
 *
 * Jobs re-read the incident, so a late or repeated job sends nothing that is already shown.
 */
export class Notifier {
  readonly #o: NotifierOptions;
  readonly #replyBatchMs: number;
  readonly #background = new Set<Promise<unknown>>();
  readonly #records: DeliveryRecords;
  readonly #drafts: DraftStage;
  readonly #posts: PostOnce;
  readonly #replies: ReplyOnce;
  readonly #diagnostics: ThreadDiagnostics | undefined;
  readonly #charts: ThreadCharts | undefined;

  constructor(options: NotifierOptions) {
    this.#o = options;
    const { store, channel, clock, logger } = options;
    const claimTtlMs = options.claimTtlMs ?? 60_000;
    this.#replyBatchMs = options.replyBatchMs ?? 30_000;
    const adoptions: Counter | undefined = options.metrics?.meter.createCounter(
      'guardian.slack.posts.adopted',
      {
        unit: '{post}',
        description: 'Posts found in channel history after an attempt died before recording them',
      },
    );
    const track = (work: Promise<unknown>) => this.#track(work);
    this.#records = new DeliveryRecords({ store, clock, logger, claimTtlMs });
    this.#diagnostics = options.diagnostics
      ? new ThreadDiagnostics({
          gatherer: options.diagnostics,
          logger,
          followUp: (id, version) => this.#followUp(id, version, 'diagnostics'),
          track,
        })
      : undefined;
    this.#charts = options.history
      ? new ThreadCharts({ history: options.history, channel, store, clock, logger })
      : undefined;
    const diagnostics = this.#diagnostics;
    this.#drafts = new DraftStage({
      store,
      clock,
      logger,
      records: this.#records,
      drafting: options.drafting,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(diagnostics ? { gathered: (context: NotifyContext) => diagnostics.gathered(context) } : {}),
      followUp: (id, version) => this.#followUp(id, version, 'drafted'),
      track,
    });
    const delivery = { store, channel, records: this.#records, clock, logger, claimTtlMs };
    this.#posts = new PostOnce({
      ...delivery,
      defaultChannel: options.slackChannel,
      ...(adoptions ? { adoptions } : {}),
    });
    this.#replies = new ReplyOnce({ ...delivery, ...(adoptions ? { adoptions } : {}) });
  }

  async handle(job: NotifyJob): Promise<void> {
    const { store, logger } = this.#o;
    const incident = await store.get(job.incidentId);
    if (!incident) {
      logger.warn({ incidentId: job.incidentId }, 'notify job for an unknown incident dropped');
      return;
    }
    const context = await this.#context(incident);
    if (!context.delivery?.thread?.ts) {
      await this.#firstPost(context, job);
      return;
    }
    await this.#keepUp(context, job);
  }

  /** Resolves once background work (late drafts and the edits they cause) has finished. */
  async settled(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  #context(incident: NotifyContext['incident']): Promise<NotifyContext> {
    return readNotifyContext(incident, this.#o.store, this.#o.playbooks);
  }

  #render(context: NotifyContext, draft: IncidentDraft | null): SlackMessage {
    return renderIncidentMessage(context.incident, {
      draft,
      playbooks: context.refs,
      actions: context.actions,
      ...(this.#o.incidentUrl ? { incidentUrl: this.#o.incidentUrl } : {}),
      ...(this.#o.buttons === false ? { buttons: false } : {}),
    });
  }

  async #firstPost(context: NotifyContext, job: NotifyJob): Promise<void> {
    const { store, clock, logger } = this.#o;
    const { incident } = context;
    if (incident.mergedInto) return;
    if (incident.quiet === true) {
      logger.debug({ incidentId: incident.id }, 'quiet incident not posted');
      return;
    }
    if ((await this.#posts.settleEarlier(context)) === 'adopted') {
      // The adopted message may show an older render: bring it up to date now.
      const adopted = await store.get(incident.id);
      const current = adopted ? await this.#context(adopted) : null;
      if (current?.delivery?.thread?.ts) await this.#keepUp(current, job);
      return;
    }
    if ((await mute(incident, { store, clock, logger })) === 'muted') return;
    const route = await routeIncident(incident, context.playbooks, {
      ...this.#o.routing,
      defaultChannel: this.#o.slackChannel,
    });
    if (route.reason.startsWith('default (')) {
      logger.warn({ incidentId: incident.id, route: route.reason }, 'routed to the default channel');
    }
    let drafted = false;
    const posted = await this.#posts.post(context, route, async () => {
      const draft = await this.#drafts.draftFor(context, this.#o.drafting?.budgetMs ?? 4000);
      drafted = draft !== null;
      return this.#render(context, draft);
    });
    logger.info(
      { incidentId: incident.id, channel: posted.channel, ts: posted.ts, route: route.reason, drafted },
      'incident posted',
    );
    // The details the post leaves out go to its thread at once, with the diagnostics if they are
    // gathered already (else they follow when they arrive), and the charts.
    if (this.#o.threadDetails === true) await this.#followUp(incident.id, incident.version, 'details');
    else if (this.#diagnostics?.toTell(context))
      await this.#followUp(incident.id, incident.version, 'diagnostics');
    else if ((this.#charts?.toShare(context).length ?? 0) > 0)
      await this.#followUp(incident.id, incident.version, 'charts');
  }

  async #keepUp(context: NotifyContext, job: NotifyJob): Promise<void> {
    const { clock } = this.#o;
    const { incident, state } = context;
    const thread = context.delivery!.thread!;
    const draft = await this.#drafts.draftFor(context, 0);
    const message = this.#render(context, draft);
    const digest = digestOf(message);
    if (digest !== thread.digest) {
      const edited = await this.#o.channel.update(thread.channel, thread.ts, message);
      await this.#records.recordEdit(
        incident.id,
        { channel: thread.channel, ts: edited.ts },
        digest,
        job.version,
      );
    }

    await this.#charts?.share(context, thread);

    // A reply an earlier attempt claimed: settle it (adopt it, or drop a claim that sent nothing)
    // before working out what the thread still needs to hear.
    const told = state?.pendingReply
      ? await this.#replies.settle(incident, thread, state.pendingReply)
      : state;
    const changes = threadChanges(incident, told, context.actions);
    const diagnostics = told ? this.#diagnostics?.toTell(context) : undefined;
    const details =
      this.#o.threadDetails === true &&
      told !== null &&
      !context.notes.some((e) => e.id === detailsEventId(incident)) &&
      incident.status !== 'resolved' &&
      !incident.mergedInto &&
      incident.quiet !== true;
    const tell =
      diagnostics || details
        ? {
            ...(changes ?? { joined: [], cleared: [], refired: [] }),
            ...(diagnostics ? { diagnostics } : {}),
            ...(details ? { details } : {}),
          }
        : changes;
    if (!tell || !told) return;
    const now = clock.now();
    const since = told.lastReplyAt ?? (await this.#records.postedAt(incident.id)) ?? 0;
    // Diagnostics are told at once, with whatever else is waiting for the batch.
    if (!tell.status && !tell.diagnostics && !details && now - since < this.#replyBatchMs) {
      throw new NotificationDeferredError(
        `incident ${incident.id}: thread reply batched`,
        since + this.#replyBatchMs - now,
      );
    }
    const reply = renderThreadUpdate(incident, tell);
    if (reply) {
      await this.#replies.reply(incident, thread, told, reply, job.version, { diagnostics, details });
      return;
    }
    await this.#records.updateState(incident.id, (s) => ({ ...s, ...toldNow(incident) }));
  }

  /** A job that brings the message up to date after background work (a late draft, diagnostics). */
  async #followUp(incidentId: string, version: number, change: NotifyJob['change']): Promise<void> {
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

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch(() => {}).finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  }
}
