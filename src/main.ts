import path from 'node:path';
import { trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { createDetectors } from '../detectors/index.ts';
import { METRIC_ANOMALY_DETECTOR_ID, type MetricAnomalyDetector } from '../detectors/metric-anomaly.ts';
import { Authenticator } from './auth/authenticator.ts';
import { decideExposure, type Exposure } from './auth/protected-mode.ts';
import { RateLimiter } from './auth/rate-limit.ts';
import { SeriesHistory } from './charts/series-history.ts';
import type { GuardianConfig } from './config/schema.ts';
import {
  type Clock,
  ConfigError,
  errorMessage,
  every,
  type Incident,
  type Signal,
  systemClock,
  type TimerHandle,
} from './core/index.ts';
import { Correlator } from './correlation/correlator.ts';
import type { IncidentChange } from './correlation/incident-state.ts';
import { type Leadership, leadCorrelation } from './correlation/leadership.ts';
import { DetectionEngine } from './detection/engine.ts';
import { SeriesBudget } from './detection/series-budget.ts';
import { createFileStateStore, createRedisStateStore } from './detection/state-store.ts';
import { createDiagnosticsGatherer } from './diagnostics/gather.ts';
import { createHttpApp, createIngestApp, defaultAccess } from './http/app.ts';
import { deadLetterRoutes } from './http/routes/dead-letters.ts';
import { seriesRoutes } from './http/routes/series.ts';
import { LinkSigner } from './http/signed-links.ts';
import { openIncidentStore } from './incidents/open-store.ts';
import type { IncidentStore } from './incidents/store.ts';
import { createAnthropicDrafter } from './llm/anthropic.ts';
import { createBedrockDrafter } from './llm/bedrock.ts';
import type { MessageChannel } from './notify/channel.ts';
import { createLogChannel } from './notify/channels/log.ts';
import { createSlackChannel } from './notify/channels/slack.ts';
import { Notifier, type NotifyJob } from './notify/notifier.ts';
import { createDeliveryReconciler } from './notify/reconciler.ts';
import { loadPlaybooks } from './playbooks/load.ts';
import { PlaybookCatalog } from './playbooks/match.ts';
import { createDrainWatch } from './queue/drain-watch.ts';
import { createQueueBackend } from './queue/index.ts';
import type { QueueBackend, WorkQueue } from './queue/queue.ts';
import { createRetryBuffer } from './queue/retry-buffer.ts';
import { saveJobs, takeSavedJobs } from './queue/saved-jobs.ts';
import { createSlackApp } from './slack-app/plugin.ts';
import { SlackAuthorizer, slackGroupMembers } from './slack-app/responders.ts';
import { AirflowClient, DagInfoCache } from './sources/airflow/client.ts';
import { createAirflowSource } from './sources/airflow/source.ts';
import { LokiClient } from './sources/loki/client.ts';
import { createLokiSource } from './sources/loki/source.ts';
import { SeriesIdentity } from './sources/otlp/normalise.ts';
import { otlpReceiver } from './sources/otlp/receiver.ts';
import { createRedisPollLease } from './sources/poll-lease.ts';
import { Poller } from './sources/poller.ts';
import type { PollSource } from './sources/source.ts';
import { createSparkSource } from './sources/spark/source.ts';
import type { Logger } from './telemetry/logger.ts';
import { createGuardianMetrics, type GuardianMetrics } from './telemetry/metrics.ts';

export interface GuardianDeps {
  logger: Logger;
  /** @defaultValue the wall clock */
  clock?: Clock;
  metrics?: GuardianMetrics;
  /**
   * Deterministic replay: jobs run only in `idle()`, all signals before their notifications, one
   * at a time, so the same input always gives the same incidents and messages. In-process queue
   * only. @defaultValue false
   */
  stepped?: boolean;
}

/** A running Guardian: the one place where the stages are wired together. */
export interface Guardian {
  readonly app: FastifyInstance;
  readonly store: IncidentStore;
  readonly engine: DetectionEngine;
  readonly queues: { readonly signals: WorkQueue<Signal>; readonly notify: WorkQueue<NotifyJob> };
  /** The ingest-only app (`otlp.port`), when configured. */
  readonly ingestApp: FastifyInstance | undefined;
  /**
   * Decides how requests are authenticated (see `decideExposure`: throws a `ConfigError` naming
   * `host` rather than listen elsewhere than loopback with no API key), says so in the log, then
   * listens on the configured host and port (and the OTLP port); returns the API's base URL.
   */
  listen(): Promise<string>;
  /** Resolves once every queued signal and notification has been handled. */
  idle(): Promise<void>;
  /** Stops taking input, finishes in-flight work, closes stores. Safe to call twice. */
  stop(): Promise<void>;
}

const tracer = trace.getTracer('guardian');

/**
 * Builds Guardian from its config: store → queues → notifier → correlator → detection → HTTP.
 * Data flows one way: OTLP receiver → detection engine → `signals` queue → correlator → incident
 * store → `notify` queue → notifier → Slack. Throws (before anything listens) if a dependency
 * cannot be set up at all; after that, failures are handled where they happen.
 */
export async function createGuardian(config: GuardianConfig, deps: GuardianDeps): Promise<Guardian> {
  const clock = deps.clock ?? systemClock;
  const { logger } = deps;
  const metrics = deps.metrics ?? createGuardianMetrics();
  const closers: (() => Promise<void>)[] = [];
  const timers: TimerHandle[] = [];

  try {
    // Incident store: dynalite in-process unless a DynamoDB is configured.
    const opened = await openIncidentStore(config, logger);
    closers.unshift(opened.close);
    const { store } = opened;

    // Queues: BullMQ on Redis when REDIS_URL is set, in-process otherwise.
    const backend: QueueBackend = createQueueBackend({
      ...(config.queue.redisUrl ? { redisUrl: config.queue.redisUrl } : {}),
      clock,
      logger,
      ...(deps.stepped ? { stepped: true } : {}),
      onDeadLetter: (queue, jobId, error) => {
        metrics.jobs.add(1, { queue, outcome: 'dead_letter' });
        logger.error({ queue, jobId, error: errorMessage(error) }, 'job failed for good');
      },
    });
    closers.unshift(() => backend.close());
    const signals = backend.queue<Signal>('signals', { attempts: 8, backoffMs: 500 });
    const notify = backend.queue<NotifyJob>('notify', { attempts: 10, backoffMs: 1000 });
    // Signals an in-process queue held when the last shutdown's deadline passed: queued first.
    const unfinishedFile = path.resolve(config.dataDir, 'unfinished-signals.json');
    if (backend.kind === 'in-process' && !deps.stepped) {
      try {
        const saved = takeSavedJobs<Signal>(unfinishedFile);
        for (const job of saved) await signals.add(job.id, job.data);
        if (saved.length > 0)
          logger.info({ queued: saved.length }, 'signals saved at the last shutdown queued again');
      } catch (err) {
        logger.error({ error: errorMessage(err) }, 'signals saved at the last shutdown could not be read');
      }
    }

    // Notifier: Slack when a token is configured, the log and a local outbox otherwise.
    let channel: MessageChannel;
    let outbox: (() => ReturnType<ReturnType<typeof createLogChannel>['messages']>) | undefined;
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
    // The recent points of each series, for the charts of metric incidents.
    const history = new SeriesHistory({
      maxSeries: config.history.maxSeries,
      pointsPerSeries: config.history.points,
    });
    // Playbooks: loaded and validated now, so a broken one stops startup with its file and field.
    const playbooks = loadPlaybooks(
      config.playbooks.dir ?? path.resolve(import.meta.dirname, '../playbooks'),
    );
    const catalog = new PlaybookCatalog(playbooks, {
      ...((config.links.airflowUrl ?? config.sources.airflow.url)
        ? { airflowUrl: config.links.airflowUrl ?? config.sources.airflow.url }
        : {}),
      ...(config.links.grafanaUrl ? { grafanaUrl: config.links.grafanaUrl } : {}),
      lokiDatasource: config.links.lokiDatasource,
      ...((config.links.sparkUiUrl ?? config.sources.spark.driverUrl)
        ? { sparkUiUrl: config.links.sparkUiUrl ?? config.sources.spark.driverUrl }
        : {}),
      ...(config.sources.spark.masterUrl ? { sparkMasterUrl: config.sources.spark.masterUrl } : {}),
      ...(publicUrl ? { guardianUrl: publicUrl } : {}),
    });
    // LLM drafter: Anthropic when an API key is configured, Claude on Bedrock when chosen, the
    // template alone otherwise.
    const llm = config.llm;
    const drafter =
      llm.provider === 'bedrock'
        ? createBedrockDrafter({
            region: llm.bedrock.region,
            model: llm.bedrock.model,
            ...(llm.bedrock.endpoint ? { baseURL: llm.bedrock.endpoint } : {}),
            maxTokens: llm.maxTokens,
            timeoutMs: llm.timeout,
            catalogue: playbooks,
            logger,
          })
        : llm.apiKey
          ? createAnthropicDrafter({
              apiKey: llm.apiKey,
              ...(llm.baseUrl ? { baseURL: llm.baseUrl } : {}),
              model: llm.model,
              maxTokens: llm.maxTokens,
              timeoutMs: llm.timeout,
              catalogue: playbooks,
              logger,
            })
          : undefined;
    // Routing by DAG owner and tag: owners and tags from Airflow's API, cached per DAG.
    const routes = config.slack.routes;
    const byOwnerOrTag = Object.keys(routes.owners).length + Object.keys(routes.tags).length > 0;
    let dagInfo: ((dagId: string) => ReturnType<DagInfoCache['get']>) | undefined;
    if (byOwnerOrTag && config.sources.airflow.url) {
      const airflowClient = new AirflowClient({
        baseUrl: config.sources.airflow.url,
        username: config.sources.airflow.username,
        password: config.sources.airflow.password ?? '',
        timeoutMs: routes.dagInfoTimeout,
      });
      const dags = new DagInfoCache({
        lookup: (dagId) => airflowClient.dag(dagId),
        clock,
        ttlMs: routes.dagInfoTtl,
        maxEntries: routes.dagInfoMaxEntries,
      });
      dagInfo = (dagId) => dags.get(dagId);
    } else if (byOwnerOrTag) {
      logger.warn(
        'slack.routes.owners / tags are set but AIRFLOW_URL is not: routing by DAG owner and tag is off',
      );
    }
    // Diagnostics the matched playbooks declare, gathered from the configured peers with a short
    // timeout. Not in deterministic replay: their time limits are wall-clock.
    const diagnostics =
      config.diagnostics.enabled && !deps.stepped
        ? createDiagnosticsGatherer({
            targets: {
              ...(config.sources.airflow.url
                ? {
                    airflow: new AirflowClient({
                      baseUrl: config.sources.airflow.url,
                      username: config.sources.airflow.username,
                      password: config.sources.airflow.password ?? '',
                      timeoutMs: config.diagnostics.timeout,
                    }),
                  }
                : {}),
              spark: {
                ...(config.sources.spark.driverUrl ? { driverUrl: config.sources.spark.driverUrl } : {}),
                ...(config.sources.spark.connectEndpoint
                  ? { connectEndpoint: config.sources.spark.connectEndpoint }
                  : {}),
              },
              ...(config.sources.loki.url
                ? {
                    loki: new LokiClient({
                      baseUrl: config.sources.loki.url,
                      ...(config.sources.loki.tenant ? { tenant: config.sources.loki.tenant } : {}),
                      ...(config.sources.loki.bearerToken
                        ? { auth: { bearer: config.sources.loki.bearerToken } }
                        : config.sources.loki.user
                          ? {
                              auth: {
                                user: config.sources.loki.user,
                                password: config.sources.loki.password ?? '',
                              },
                            }
                          : {}),
                      timeoutMs: config.diagnostics.timeout,
                    }),
                  }
                : {}),
            },
            clock,
            logger,
            timeoutMs: config.diagnostics.timeout,
            maxChars: config.diagnostics.maxChars,
          })
        : undefined;
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
    // Slack app (buttons, /guardian) on the same HTTP port, when a signing secret is configured.
    const slackApp = config.slack.signingSecret
      ? createSlackApp({
          authorizer: slackAuthorizer(config, clock, logger),
          signingSecret: config.slack.signingSecret,
          store,
          clock,
          logger,
          requestUpdate: (incidentId) =>
            notify.add(`${incidentId}@action@${clock.now()}`, { incidentId, version: 0, change: 'action' }),
          ...(incidentUrl ? { incidentUrl } : {}),
        })
      : undefined;
    notify.process(
      (job) =>
        tracer.startActiveSpan('notify incident', async (span) => {
          span.setAttributes({
            'guardian.incident.id': job.data.incidentId,
            'guardian.change': job.data.change,
          });
          try {
            await notifier.handle(job.data);
            metrics.jobs.add(1, { queue: 'notify', outcome: 'ok' });
          } finally {
            span.end();
          }
        }),
      { concurrency: 1 },
    );

    // Correlator: signals → incidents; a change worth telling becomes a notify job.
    const correlator = new Correlator({ store, clock, logger, metrics });
    const tell = async ({ incident: i, change }: { incident: Incident; change: IncidentChange }) => {
      // A 'none' result still notifies an incident never posted: an earlier attempt may have
      // stopped between writing it and queueing its notification.
      if (change === 'none' && i.slack?.ts) return;
      // Quiet incidents are recorded, not posted, until something in them deserves a human.
      if (i.quiet && !i.slack) return;
      // The first post waits a moment, so what one poll reports of one cause (and the merges it
      // causes) goes out as one message rather than several.
      await notify.add(
        `${i.id}@${i.version}`,
        { incidentId: i.id, version: i.version, change },
        i.slack ? {} : { delayMs: config.notify.groupWait },
      );
    };
    // Incidents stored and never posted (their job was lost) are found in the store and queued
    // again, by the leader, on start, on taking the lead and every reconcileInterval. Not in
    // deterministic replay: nothing is lost there, and an extra job would change the order.
    const reconciler = deps.stepped
      ? undefined
      : createDeliveryReconciler({
          store,
          clock,
          logger,
          groupWaitMs: config.notify.groupWait,
          enqueue: (i) =>
            notify.add(`${i.id}@${i.version}`, { incidentId: i.id, version: i.version, change: 'reconcile' }),
        });
    let reconciling = false;
    const reconcile = () => {
      if (!reconciler || reconciling || (leadership && !leadership.leading())) return;
      reconciling = true;
      void reconciler
        .run()
        .catch((err: unknown) =>
          logger.warn({ error: errorMessage(err) }, 'looking for incidents never posted failed; will retry'),
        )
        .finally(() => {
          reconciling = false;
        });
    };
    // With several replicas (Redis configured), one of them correlates: a lease says which.
    let leadership: Leadership | undefined;
    if (config.queue.redisUrl) {
      const correlatorLease = createRedisPollLease({
        redisUrl: config.queue.redisUrl,
        key: 'guardian:correlator-lease',
        duty: 'correlates signals',
        logger,
      });
      closers.unshift(() => correlatorLease.close());
      const led = leadCorrelation({
        lease: correlatorLease,
        queue: signals,
        onLead: () => {
          correlator.invalidate();
          // After the lead is taken (this runs before), so the leading() check inside passes.
          clock.setTimer(0, reconcile);
        },
        intervalMs: 10_000,
        logger,
      });
      closers.unshift(() => led.stop());
      leadership = led;
    }
    // Incidents that cannot clear by themselves (events only) resolve once nothing new came.
    const settling = every(clock, 60_000, async () => {
      if (leadership && !leadership.leading()) return;
      try {
        for (const r of await correlator.sweep())
          if (r.incident) await tell({ incident: r.incident, change: r.change });
      } catch (err) {
        logger.warn({ error: errorMessage(err) }, 'settling quiet incidents failed; will retry');
      }
    });
    closers.unshift(async () => settling.cancel());
    if (reconciler) {
      const reconcileTimer = every(clock, config.notify.reconcileInterval, reconcile);
      closers.unshift(async () => reconcileTimer.cancel());
      reconcile();
    }
    signals.process(
      (job) =>
        tracer.startActiveSpan('correlate signal', async (span) => {
          span.setAttributes({
            'guardian.signal.kind': job.data.kind,
            'guardian.signal.status': job.data.status,
          });
          try {
            const { incident, change, also = [] } = await correlator.apply(job.data);
            metrics.jobs.add(1, { queue: 'signals', outcome: 'ok' });
            for (const changed of [...also, ...(incident ? [{ incident, change }] : [])]) await tell(changed);
          } finally {
            span.end();
          }
        }),
      // One at a time per process keeps a fingerprint's firing and resolved signals in order.
      { concurrency: 1 },
    );

    // Detection: observations → signals, queued by a deterministic job id (a repeat is a no-op).
    // A detector emits a signal once, so one the queue cannot take now is held and queued later.
    const unqueued = createRetryBuffer<Signal>({
      add: (signal) => signals.add(`${signal.fingerprint}@${signal.status}@${signal.time}`, signal),
      what: 'signal',
      logger,
      onDrop: (signal) => metrics.signals.add(1, { kind: signal.kind, status: 'dropped' }),
    });
    const detectors = createDetectors(config);
    const anomaly = detectors.find((d) => d.id === METRIC_ANOMALY_DETECTOR_ID) as
      | MetricAnomalyDetector
      | undefined;
    const seriesBudget = new SeriesBudget({
      total: config.detection.series.total,
      perSource: config.detection.series.perSource,
      idleMs: config.detection.series.idle,
    });
    const engine = new DetectionEngine({
      detectors,
      clock,
      logger,
      // The anomaly detector learns a model per series: the one a flood of new series could
      // evict. Rule-based detectors see every series.
      seriesBudget: { budget: seriesBudget, detectors: [METRIC_ANOMALY_DETECTOR_ID] },
      tickMs: config.detection.tick,
      onSignal: (signal) => {
        metrics.signals.add(1, { kind: signal.kind, status: signal.status });
        unqueued.offer(signal);
      },
    });

    // Back-pressure for the OTLP receiver: the signal queue's depth, refreshed once a second.
    // Readiness: whether each queue this replica consumes moves, sampled at the same pace.
    let lastDepth = 0;
    const signalsMoving = createDrainWatch({ queue: signals, clock, stuckAfterMs: config.queue.stuckAfter });
    const notifyMoving = createDrainWatch({ queue: notify, clock, stuckAfterMs: config.queue.stuckAfter });
    const refreshDepth = async () => {
      lastDepth = await signals.depth().catch(() => lastDepth);
      await Promise.all([signalsMoving.sample(), notifyMoving.sample()]);
    };
    timers.push(every(clock, 1000, refreshDepth));
    metrics.meter
      .createObservableGauge('guardian.queue.depth', { unit: '{job}' })
      .addCallback((result) => result.observe(lastDepth, { queue: 'signals' }));
    // The size of every bounded state, so a cap being reached shows before it bites.
    metrics.meter
      .createObservableGauge('guardian.detection.series', { unit: '{series}' })
      .addCallback((result) => result.observe(seriesBudget.size));
    metrics.meter
      .createObservableCounter('guardian.detection.series.refused', { unit: '{point}' })
      .addCallback((result) => result.observe(seriesBudget.refusedEver));
    metrics.meter
      .createObservableGauge('guardian.detection.state.size', { unit: '{entry}' })
      .addCallback((result) => {
        for (const [detector, size] of Object.entries(engine.sizes())) result.observe(size, { detector });
      });
    metrics.meter
      .createObservableGauge('guardian.correlation.working_set', { unit: '{incident}' })
      .addCallback((result) => result.observe(correlator.size()));

    let stopping = false;
    const authOff = config.auth.mode === 'off';
    const authenticator = new Authenticator({ store, clock });
    const access = defaultAccess(store, clock, {
      authenticator,
      authOff,
      perKey: new RateLimiter({ rate: config.auth.keyRate, burst: config.auth.keyBurst }),
    });
    // Bounded by construction; shown so an operator sees how close to its bound each is.
    metrics.meter.createObservableGauge('guardian.auth.state', { unit: '{entry}' }).addCallback((result) => {
      result.observe(authenticator.cacheSize, { state: 'key_cache' });
      result.observe(access.perKey.size, { state: 'key_rate_buckets' });
      result.observe(access.failures.size, { state: 'failed_auth_buckets' });
    });
    const health = {
      checks: {
        store: () => store.ping(),
        queue: () => signals.depth().then(() => true),
        // The pipeline moves: signals can be queued, someone correlates, this replica's
        // consumers run and their backlogs shrink.
        signals_queued: async () => unqueued.accepting(),
        leader: async () => (leadership ? leadership.leaderKnown() : true),
        consumers: async () =>
          notify.consuming() && (leadership && !leadership.leading() ? true : signals.consuming()),
        draining: async () => notifyMoving.draining() && signalsMoving.draining(),
      },
      isStopping: () => stopping,
    };
    // One identity for both listeners: a series is the same whichever port it came in on.
    const identity = new SeriesIdentity(config.otlp.identifyingAttributes);
    const registerOtlp = async (instance: FastifyInstance) => {
      await instance.register(otlpReceiver, {
        sink: (observations) => {
          for (const o of observations) if (o.type === 'metric') history.record(o.series, o.time, o.value);
          engine.ingest(observations);
        },
        isSaturated: () => ({
          saturated: lastDepth + unqueued.pending() > config.otlp.maxQueueDepth,
          unavailable: stopping || !unqueued.accepting(),
          retryAfterSeconds: config.otlp.retryAfterSeconds,
        }),
        maxBodyBytes: config.otlp.maxBodyBytes,
        identity,
        maxConcurrentRequests: config.otlp.maxConcurrentRequests,
        maxBytesInFlight: config.otlp.maxBytesInFlight,
        retryAfterSeconds: 1,
        metrics,
        logger,
      });
    };
    const timeouts = { headersMs: config.http.headersTimeout, requestMs: config.http.requestTimeout };
    const app = await createHttpApp({
      logger,
      store,
      clock,
      access,
      // Actions through the API update the Slack message through the notify queue, as buttons do.
      requestUpdate: (incidentId) =>
        notify.add(`${incidentId}@action@${clock.now()}`, { incidentId, version: 0, change: 'action' }),
      outbox,
      pages: { history, signer },
      ...(slackApp ? { slackApp } : {}),
      timeouts,
      health,
      // Dead letters on the API port only, not on the ingest-only one.
      plugins: async (instance) => {
        await instance.register(deadLetterRoutes, { queues: { signals, notify } });
        await registerOtlp(instance);
        await instance.register(seriesRoutes, {
          list: anomaly ? (after, limit) => anomaly.seriesSeen(after, limit) : undefined,
        });
      },
    });
    closers.unshift(() => app.close());
    const ingestApp =
      config.otlp.port === undefined
        ? undefined
        : await createIngestApp({ logger, health, access, plugins: registerOtlp, timeouts });
    if (ingestApp) closers.unshift(() => ingestApp.close());
    // What the detectors learnt survives restarts and deploys: saved every `stateInterval` and
    // on shutdown, taken back here before the first observation.
    if (config.detection.stateInterval > 0) {
      const stateStore = config.queue.redisUrl
        ? createRedisStateStore({ redisUrl: config.queue.redisUrl, logger })
        : createFileStateStore(path.resolve(config.dataDir, 'detector-state.json.gz'));
      try {
        const saved = await stateStore.load();
        if (saved) {
          const restored = engine.restore(saved);
          logger.info({ from: stateStore.where, restored }, 'detector state restored');
        }
      } catch (err) {
        logger.warn(
          { from: stateStore.where, error: errorMessage(err) },
          'saved detector state could not be read; detectors start afresh',
        );
      }
      const saveState = async () => {
        try {
          await stateStore.save(engine.snapshot());
        } catch (err) {
          logger.warn(
            { to: stateStore.where, error: errorMessage(err) },
            'detector state could not be saved',
          );
        }
      };
      timers.push(every(clock, config.detection.stateInterval, saveState));
      closers.unshift(async () => {
        await saveState();
        await stateStore.close();
      });
    }
    engine.start();

    // Pull sources: each configured system is polled on its interval; its observations go to detection.
    const sources: PollSource[] = [];
    const airflow = config.sources.airflow;
    if (airflow.url) {
      sources.push(
        createAirflowSource({
          baseUrl: airflow.url,
          username: airflow.username,
          password: airflow.password ?? '',
          intervalMs: airflow.interval,
          overlapMs: airflow.overlap,
          clock,
          logger,
        }),
      );
    }
    const spark = config.sources.spark;
    if (spark.masterUrl) {
      sources.push(
        createSparkSource({
          masterUrl: spark.masterUrl,
          ...(spark.driverUrl ? { driverUrl: spark.driverUrl } : {}),
          ...(spark.connectEndpoint ? { connectEndpoint: spark.connectEndpoint } : {}),
          ...(spark.connectName ? { connectName: spark.connectName } : {}),
          intervalMs: spark.interval,
          clock,
          logger,
        }),
      );
    }
    const loki = config.sources.loki;
    if (loki.url) {
      sources.push(
        createLokiSource({
          baseUrl: loki.url,
          queries: loki.queries,
          ...(loki.tenant ? { tenant: loki.tenant } : {}),
          ...(loki.bearerToken
            ? { auth: { bearer: loki.bearerToken } }
            : loki.user
              ? { auth: { user: loki.user, password: loki.password ?? '' } }
              : {}),
          intervalMs: loki.interval,
          overlapMs: loki.overlap,
          clock,
          logger,
        }),
      );
    }
    // With several replicas (Redis configured), one of them polls: a lease in Redis says which.
    const lease =
      sources.length > 0 && config.queue.redisUrl
        ? createRedisPollLease({ redisUrl: config.queue.redisUrl, logger })
        : undefined;
    if (lease) closers.unshift(() => lease.close());
    const poller = new Poller({
      sources,
      clock,
      logger,
      sink: (observations) => engine.ingest(observations),
      ...(lease ? { lease } : {}),
    });
    poller.start();
    closers.unshift(() => poller.stop());

    let stopped: Promise<void> | undefined;
    return {
      app,
      store,
      engine,
      queues: { signals, notify },
      ingestApp,
      async listen() {
        const exposure: Exposure = decideExposure({
          host: config.host,
          authOff,
          anyKeyDefined: await authenticator.anyKeyDefined(),
        });
        logger[exposure.level]({ auth: exposure.mode, host: config.host }, exposure.message);
        if (exposure.mode === 'off') {
          timers.push(every(clock, 3_600_000, () => logger.warn({ auth: 'off' }, exposure.message)));
        }
        const url = await app.listen({ port: config.port, host: config.host });
        if (ingestApp) {
          const ingestUrl = await ingestApp.listen({ port: config.otlp.port ?? 0, host: config.host });
          logger.info({ url: ingestUrl }, `OTLP metrics also at ${ingestUrl}/v1/metrics (ingest only)`);
        }
        return url;
      },
      async idle() {
        // Signal jobs queue notify jobs (awaited inside the job), so one pass in this order suffices.
        while (unqueued.pending() > 0) await new Promise((resolve) => setImmediate(resolve));
        const drain = async () => {
          if (backend.drain) await backend.drain();
          else {
            await signals.idle();
            await notify.idle();
          }
        };
        await drain();
        // Late LLM drafts and Slack work answered through response_url queue more notify jobs.
        await Promise.all([notifier.settled(), slackApp?.settled()]);
        await drain();
      },
      stop() {
        stopped ??= (async () => {
          const deadline = Date.now() + config.queue.shutdownTimeout;
          stopping = true;
          engine.stop();
          for (const t of timers) t.cancel();
          // Signals held while the queue was away get half the time left to be queued.
          const left = await unqueued.flush(config.queue.shutdownTimeout / 2);
          const dropped = unqueued.close();
          if (left > 0)
            logger.error(
              { held: dropped.length, inFlight: left - dropped.length },
              'signals could not be queued before shutdown; they are lost',
            );
          // An in-process queue dies with the process: correlate what is queued first (its
          // signals exist nowhere else). Notifications waiting for their group wait need not be:
          // the incidents are stored, and the next start's reconciler posts them.
          if (backend.kind === 'in-process' && !deps.stepped) {
            const drained = await Promise.race([
              signals
                .idle()
                .then(() => notify.idle())
                .then(() => true),
              new Promise<boolean>((resolve) =>
                setTimeout(resolve, Math.max(0, deadline - Date.now()) / 2, false).unref(),
              ),
            ]);
            // What could not be correlated in time is saved and queued again on the next start.
            const left = signals.unfinished?.() ?? [];
            if (!drained && left.length > 0) {
              try {
                saveJobs(unfinishedFile, left);
                logger.warn(
                  { saved: left.length, file: unfinishedFile },
                  'queued signals saved for the next start',
                );
              } catch (err) {
                logger.error(
                  { lost: left.length, error: errorMessage(err) },
                  'queued signals could not be saved; they are lost',
                );
              }
            }
          }
          await runClosers(closers, logger, deadline);
        })();
        return stopped;
      },
    };
  } catch (err) {
    for (const t of timers) t.cancel();
    await runClosers(closers, logger, Date.now() + 20_000);
    throw err;
  }
}

/** Who may act from Slack; warns when anyone may, and refuses user groups without a token. */
function slackAuthorizer(config: GuardianConfig, clock: Clock, logger: Logger): SlackAuthorizer {
  const { responders, teams, token, apiUrl, groupMembersTtl } = config.slack;
  const groups = responders.filter((id) => id.startsWith('S'));
  if (groups.length > 0 && !token) {
    throw new ConfigError(
      'slack.responders',
      `names user groups (${groups.join(', ')}) but SLACK_BOT_TOKEN is not set: their members cannot be looked up`,
    );
  }
  if (responders.length === 0) {
    logger.warn(
      'slack.responders (SLACK_RESPONDERS) is empty: any member of the workspace can resolve and silence incidents from Slack',
    );
  }
  if (teams.length === 0) {
    logger.warn(
      'slack.teams (SLACK_TEAM_IDS) is empty: requests from any workspace the Slack app is installed in are taken',
    );
  }
  return new SlackAuthorizer({
    responders,
    teams,
    clock,
    logger: logger.child({ component: 'slack-authorization' }),
    groupMembersTtlMs: groupMembersTtl,
    ...(groups.length > 0 && token
      ? { groupMembers: slackGroupMembers({ token, ...(apiUrl ? { apiUrl } : {}), logger }) }
      : {}),
  });
}

/** The least each closer is given once the overall deadline has passed. */
const LATE_CLOSER_MS = 250;

/**
 * Runs the closers in order, each until it ends or the deadline passes (then it is left behind
 * and the next one runs), so that one dependency that never answers cannot hold shutdown.
 */
async function runClosers(
  closers: readonly (() => Promise<void>)[],
  logger: Logger,
  deadline: number,
): Promise<void> {
  for (const close of closers) {
    const budget = Math.max(LATE_CLOSER_MS, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    try {
      const done = await Promise.race([
        close().then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(resolve, budget, false);
        }),
      ]);
      if (!done) logger.warn({ waitedMs: budget }, 'a component did not stop in time; left behind');
    } catch (err) {
      logger.warn({ err }, 'error while shutting down');
    } finally {
      clearTimeout(timer);
    }
  }
}
