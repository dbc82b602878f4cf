import type { FastifyInstance } from 'fastify';
import { SeriesHistory } from './charts/series-history.ts';
import type { GuardianConfig } from './config/schema.ts';
import { type Clock, type Signal, systemClock, type TimerHandle } from './core/index.ts';
import { createCorrelationStage } from './correlation/create-correlation-stage.ts';
import { createDetectionStage } from './detection/create-detection-stage.ts';
import type { DetectionEngine } from './detection/engine.ts';
import { createHttpStage } from './http/create-http-stage.ts';
import { openIncidentStore } from './incidents/open-store.ts';
import type { IncidentStore } from './incidents/store.ts';
import { type Closer, runClosers } from './lifecycle/run-closers.ts';
import { createNotifyStage } from './notify/create-notify-stage.ts';
import type { NotifyJob } from './notify/notifier.ts';
import { createQueues } from './queue/create-queues.ts';
import type { WorkQueue } from './queue/queue.ts';
import { peerConnections } from './sources/clients.ts';
import { createSources } from './sources/create-sources.ts';
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

/**
 * Builds Guardian from its config: store → queues → notifier → correlator → detection → HTTP →
 * sources. Data flows one way: OTLP receiver → detection engine → `signals` queue → correlator →
 * incident store → `notify` queue → notifier → Slack. Throws (before anything listens) if a
 * dependency cannot be set up at all; after that, failures are handled where they happen. Each
 * stage's factory owns its policies; this only wires them, and stops them in reverse order.
 */
export async function createGuardian(config: GuardianConfig, deps: GuardianDeps): Promise<Guardian> {
  const clock = deps.clock ?? systemClock;
  const { logger } = deps;
  const stepped = deps.stepped ?? false;
  const metrics = deps.metrics ?? createGuardianMetrics();
  const closers: Closer[] = [];
  const timers: TimerHandle[] = [];

  try {
    const opened = await openIncidentStore(config, logger);
    closers.unshift(opened.close);
    const { store } = opened;
    const queues = await createQueues({ config, clock, logger, metrics, stepped });
    closers.unshift(...queues.closers);
    const { signals, notify } = queues;
    // Peers' connections mapped once, shared by the notifier's routing, diagnostics and sources.
    const peers = peerConnections(config.sources);
    // The recent points of each series, for the charts of metric incidents.
    const history = new SeriesHistory({
      maxSeries: config.history.maxSeries,
      pointsPerSeries: config.history.points,
    });
    const notifyStage = createNotifyStage({
      config,
      store,
      notify,
      peers,
      history,
      clock,
      logger,
      metrics,
      stepped,
    });
    const { reconciler } = notifyStage;
    const correlation = createCorrelationStage({
      config,
      store,
      signals,
      notify,
      reconciler,
      clock,
      logger,
      metrics,
    });
    closers.unshift(...correlation.closers);
    const detection = createDetectionStage({ config, signals, notify, clock, logger, metrics });
    timers.push(...detection.timers);
    let stopping = false;
    const http = await createHttpStage({
      config,
      store,
      queues,
      detection,
      notifyStage,
      leadership: correlation.leadership,
      history,
      clock,
      logger,
      metrics,
      isStopping: () => stopping,
    });
    closers.unshift(...http.closers);
    const started = await detection.start();
    timers.push(...started.timers);
    closers.unshift(...started.closers);
    const sources = createSources({ config, peers, clock, logger, sink: (o) => detection.engine.ingest(o) });
    closers.unshift(...sources.closers);

    let stopped: Promise<void> | undefined;
    return {
      app: http.app,
      store,
      engine: detection.engine,
      queues: { signals, notify },
      ingestApp: http.ingestApp,
      listen: () => http.listen(),
      async idle() {
        // Signal jobs queue notify jobs (awaited inside the job), so one pass in this order suffices.
        while (detection.pending() > 0) await new Promise((resolve) => setImmediate(resolve));
        await queues.drain();
        // Late LLM drafts and Slack work answered through response_url queue more notify jobs.
        await notifyStage.settled();
        await queues.drain();
      },
      stop() {
        stopped ??= (async () => {
          const deadline = Date.now() + config.queue.shutdownTimeout;
          stopping = true;
          for (const t of [...timers, ...http.timers]) t.cancel();
          // Signals held while the queue was away get half the time left to be queued.
          await detection.halt(config.queue.shutdownTimeout / 2);
          // Late drafts and Slack work after its ack finish first, with half the time left: what
          // they queue (a message's update) is then handled or saved with the rest.
          await settledWithin(notifyStage.settled(), (deadline - Date.now()) / 2);
          // An in-process queue dies with the process: what it holds is correlated or saved.
          await queues.finish(deadline);
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

/** Waits for `work` at most `ms`: shutdown must end whatever the dependencies do. */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => {}),
    new Promise((resolve) => {
      timer = setTimeout(resolve, Math.max(0, ms));
    }),
  ]);
  clearTimeout(timer);
}
