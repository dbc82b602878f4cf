import path from 'node:path';
import { trace } from '@opentelemetry/api';
import type { SeriesHistory } from '../charts/series-history.ts';
import type { GuardianConfig } from '../config/schema.ts';
import { crashPoint } from '../core/crash-point.ts';
import type { Clock } from '../core/index.ts';
import { diagnosticsFromConfig } from '../diagnostics/from-config.ts';
import { LinkSigner } from '../http/signed-links.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { drafterFromConfig } from '../llm/drafter-from-config.ts';
import { loadPlaybooks } from '../playbooks/load.ts';
import { PlaybookCatalog } from '../playbooks/match.ts';
import type { WorkQueue } from '../queue/queue.ts';
import { slackAppFromConfig } from '../slack-app/from-config.ts';
import { AirflowClient, DagInfoCache } from '../sources/airflow/client.ts';
import type { PeerConnections } from '../sources/clients.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { GuardianMetrics } from '../telemetry/metrics.ts';
import type { MessageChannel } from './channel.ts';
import { createLogChannel, type OutboxMessage } from './channels/log.ts';
import { createSlackChannel } from './channels/slack.ts';
import { Notifier, type NotifyJob } from './notifier.ts';
import { createDeliveryReconciler, type DeliveryReconciler } from './reconciler.ts';

const tracer = trace.getTracer('guardian');

export interface NotifyStageOptions {
  config: GuardianConfig;
  store: IncidentStore;
  notify: WorkQueue<NotifyJob>;
  peers: PeerConnections;
  /** The recent points of each series, for the charts of metric incidents. */
  history: SeriesHistory;
  clock: Clock;
  logger: Logger;
  metrics: GuardianMetrics;
  /** Deterministic replay: no diagnostics, no reconciler. */
  stepped: boolean;
}

/** What the notify stage gives the rest of Guardian. */
export interface NotifyStage {
  readonly notifier: Notifier;
  /** The Slack app (buttons, `/guardian`), when a signing secret is configured. */
  readonly slackApp: ReturnType<typeof slackAppFromConfig>;
  /** The messages sent, when there is no Slack token (the log channel's outbox). */
  readonly outbox: (() => readonly OutboxMessage[]) | undefined;
  /** Signs the links of messages to an incident's page. */
  readonly signer: LinkSigner;
  /**
   * Finds incidents stored and never posted (their job was lost) and queues them again; not in
   * deterministic replay: nothing is lost there, and an extra job would change the order.
   */
  readonly reconciler: DeliveryReconciler | undefined;
  /** Queues the update of an incident's message after an action (API or Slack). */
  requestUpdate(incidentId: string): Promise<void>;
  /** Resolves once late LLM drafts and Slack work answered through `response_url` are done. */
  settled(): Promise<unknown>;
}

/**
 * The notify stage: channel (Slack when a token is configured, the log and a local outbox
 * otherwise), playbooks, LLM drafter, routing by DAG owner and tag, diagnostics, the notifier
 * consuming the `notify` queue, the Slack app and the delivery reconciler.
 */
export function createNotifyStage(options: NotifyStageOptions): NotifyStage {
  const { config, store, notify, peers, history, clock, logger, metrics, stepped } = options;
  let channel: MessageChannel;
  let outbox: (() => readonly OutboxMessage[]) | undefined;
  if (config.slack.token) {
    channel = createSlackChannel({
      token: config.slack.token,
      ...(config.slack.apiUrl ? { apiUrl: config.slack.apiUrl } : {}),
      logger,
      metrics,
    });
  } else {
    const logChannel = createLogChannel({ logger, clock });
    channel = logChannel;
    outbox = () => logChannel.messages();
  }
  const publicUrl = config.publicUrl?.replace(/\/$/, '');
  // Messages link to the incident's page with a short-lived signature, so it opens without a key.
  const signer = new LinkSigner(config.linkSecret, config.linkLifetime);
  const incidentUrl = publicUrl
    ? (id: string) => `${publicUrl}/incidents/${encodeURIComponent(id)}?${signer.sign(id, clock.now())}`
    : undefined;
  // Playbooks: loaded and validated now, so a broken one stops startup with its file and field.
  const playbooks = loadPlaybooks(
    config.playbooks.dir ?? path.resolve(import.meta.dirname, '../../playbooks'),
  );
  const airflowUrl = config.links.airflowUrl ?? config.sources.airflow.url;
  const sparkUiUrl = config.links.sparkUiUrl ?? config.sources.spark.driverUrl;
  const catalog = new PlaybookCatalog(playbooks, {
    ...(airflowUrl ? { airflowUrl } : {}),
    ...(config.links.grafanaUrl ? { grafanaUrl: config.links.grafanaUrl } : {}),
    lokiDatasource: config.links.lokiDatasource,
    ...(sparkUiUrl ? { sparkUiUrl } : {}),
    ...(config.sources.spark.masterUrl ? { sparkMasterUrl: config.sources.spark.masterUrl } : {}),
    ...(publicUrl ? { guardianUrl: publicUrl } : {}),
  });
  const llm = config.llm;
  const drafter = drafterFromConfig(llm, playbooks, logger);
  const dagInfo = dagInfoFromConfig(config.slack.routes, peers, clock, logger);
  const diagnostics = diagnosticsFromConfig({ config, peers, clock, logger, stepped });
  const notifier = new Notifier({
    store,
    channel,
    clock,
    logger,
    metrics,
    slackChannel: config.slack.channel,
    routing: {
      dags: config.slack.routes.dags,
      owners: config.slack.routes.owners,
      tags: config.slack.routes.tags,
      ...(dagInfo ? { dagInfo } : {}),
    },
    playbooks: catalog,
    replyBatchMs: config.slack.replyBatch,
    threadDetails: true,
    buttons: Boolean(config.slack.signingSecret),
    ...(drafter
      ? {
          drafting: {
            drafter,
            budgetMs: llm.budget,
            timeoutMs: llm.timeout,
            tokensPerIncident: llm.tokensPerIncident,
            tokensPerHour: llm.tokensPerHour,
          },
        }
      : {}),
    requeue: (job) => notify.add(`${job.incidentId}@${job.change}@${clock.now()}`, job),
    ...(incidentUrl ? { incidentUrl } : {}),
    ...(diagnostics ? { diagnostics } : {}),
    history,
  });
  const requestUpdate = (incidentId: string) =>
    notify.add(`${incidentId}@action@${clock.now()}`, { incidentId, version: 0, change: 'action' });
  const slackApp = slackAppFromConfig({
    config,
    store,
    clock,
    logger,
    requestUpdate,
    ...(incidentUrl ? { incidentUrl } : {}),
  });
  notify.process(
    (job) =>
      tracer.startActiveSpan('notify incident', async (span) => {
        span.setAttributes({
          'guardian.incident.id': job.data.incidentId,
          'guardian.change': job.data.change,
        });
        crashPoint('notify-taken');
        try {
          await notifier.handle(job.data);
          metrics.jobs.add(1, { queue: 'notify', outcome: 'ok' });
        } finally {
          span.end();
        }
      }),
    { concurrency: 1 },
  );
  const reconciler = stepped
    ? undefined
    : createDeliveryReconciler({
        store,
        clock,
        logger,
        groupWaitMs: config.notify.groupWait,
        enqueue: (i) =>
          notify.add(`${i.id}@${i.version}`, { incidentId: i.id, version: i.version, change: 'reconcile' }),
      });
  return {
    notifier,
    slackApp,
    outbox,
    signer,
    reconciler,
    requestUpdate,
    settled: () => Promise.all([notifier.settled(), slackApp?.settled()]),
  };
}

/** Routing by DAG owner and tag: owners and tags from Airflow's API, cached per DAG. */
function dagInfoFromConfig(
  routes: GuardianConfig['slack']['routes'],
  peers: PeerConnections,
  clock: Clock,
  logger: Logger,
): ((dagId: string) => ReturnType<DagInfoCache['get']>) | undefined {
  if (Object.keys(routes.owners).length + Object.keys(routes.tags).length === 0) return undefined;
  if (!peers.airflow) {
    logger.warn(
      'slack.routes.owners / tags are set but AIRFLOW_URL is not: routing by DAG owner and tag is off',
    );
    return undefined;
  }
  const airflowClient = new AirflowClient({ ...peers.airflow, timeoutMs: routes.dagInfoTimeout });
  const dags = new DagInfoCache({
    lookup: (dagId) => airflowClient.dag(dagId),
    clock,
    ttlMs: routes.dagInfoTtl,
    maxEntries: routes.dagInfoMaxEntries,
  });
  return (dagId) => dags.get(dagId);
}
