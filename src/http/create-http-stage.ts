import type { FastifyInstance } from 'fastify';
import { Authenticator } from '../auth/authenticator.ts';
import { decideExposure } from '../auth/protected-mode.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import type { SeriesHistory } from '../charts/series-history.ts';
import type { GuardianConfig } from '../config/schema.ts';
import { type Clock, errorMessage, every, type Signal, type TimerHandle } from '../core/index.ts';
import type { Leadership } from '../correlation/leadership.ts';
import type { DetectionStage } from '../detection/create-detection-stage.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { NotifyStage } from '../notify/create-notify-stage.ts';
import type { NotifyJob } from '../notify/notifier.ts';
import type { WorkQueue } from '../queue/queue.ts';
import { SeriesIdentity } from '../sources/otlp/normalise.ts';
import { otlpReceiver } from '../sources/otlp/receiver.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { GuardianMetrics } from '../telemetry/metrics.ts';
import { createHttpApp, createIngestApp, defaultAccess } from './app.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { seriesRoutes } from './routes/series.ts';

export interface HttpStageOptions {
  config: Pick<GuardianConfig, 'auth' | 'otlp' | 'http' | 'host' | 'port'>;
  store: IncidentStore;
  queues: { signals: WorkQueue<Signal>; notify: WorkQueue<NotifyJob> };
  detection: DetectionStage;
  notifyStage: NotifyStage;
  leadership: Leadership | undefined;
  history: SeriesHistory;
  clock: Clock;
  logger: Logger;
  metrics: GuardianMetrics;
  /** True once Guardian is stopping: readiness fails and the OTLP receiver answers 503. */
  isStopping: () => boolean;
}

export interface HttpStage {
  readonly app: FastifyInstance;
  /** The ingest-only app (`otlp.port`), when configured. */
  readonly ingestApp: FastifyInstance | undefined;
  /** See `Guardian.listen`. */
  listen(): Promise<string>;
  /** Timers the caller cancels when Guardian stops (filled by `listen`). */
  readonly timers: TimerHandle[];
  /** Run in order at shutdown. */
  readonly closers: (() => Promise<void>)[];
}

/**
 * Guardian's HTTP surface: API keys and rate limits, health and readiness, the OTLP receiver
 * (on the API port and on the ingest-only port when configured), dead letters, series, the
 * incident pages and the Slack app.
 */
export async function createHttpStage(options: HttpStageOptions): Promise<HttpStage> {
  const { config, store, queues, detection, notifyStage, leadership, history, clock, logger, metrics } =
    options;
  const { signals, notify } = queues;
  const authOff = config.auth.mode === 'off';
  const authenticator = new Authenticator({
    store,
    clock,
    onStale: (err) =>
      logger.warn(
        { error: errorMessage(err) },
        'the API key store does not answer: the keys read before it stopped are used (up to 1 h)',
      ),
  });
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
      signals_queued: async () => detection.accepting(),
      leader: async () => (leadership ? leadership.leaderKnown() : true),
      consumers: async () =>
        notify.consuming() && (leadership && !leadership.leading() ? true : signals.consuming()),
      draining: async () => detection.draining(),
    },
    isStopping: options.isStopping,
  };
  // One identity for both listeners: a series is the same whichever port it came in on.
  const identity = new SeriesIdentity(config.otlp.identifyingAttributes, config.otlp.contextAttributes);
  const registerOtlp = async (instance: FastifyInstance) => {
    await instance.register(otlpReceiver, {
      sink: (observations) => {
        for (const o of observations) if (o.type === 'metric') history.record(o.series, o.time, o.value);
        detection.engine.ingest(observations);
        return detection.settled(5_000);
      },
      isSaturated: () => ({
        saturated: detection.saturated(),
        unavailable: options.isStopping() || !detection.accepting(),
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
  const { slackApp } = notifyStage;
  const { anomaly } = detection;
  const closers: (() => Promise<void>)[] = [];
  const timeouts = { headersMs: config.http.headersTimeout, requestMs: config.http.requestTimeout };
  const app = await createHttpApp({
    logger,
    store,
    clock,
    access,
    // Actions through the API update the Slack message through the notify queue, as buttons do.
    requestUpdate: notifyStage.requestUpdate,
    outbox: notifyStage.outbox,
    pages: { history, signer: notifyStage.signer },
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
  const timers: TimerHandle[] = [];
  return {
    app,
    ingestApp,
    timers,
    closers,
    async listen() {
      const exposure = decideExposure({
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
  };
}
