import {
  createDetectors,
  METRIC_ANOMALY_DETECTOR_ID,
  type MetricAnomalyDetector,
} from '../../detectors/index.ts';
import type { GuardianConfig } from '../config/schema.ts';
import { type Clock, every, type Signal, type TimerHandle } from '../core/index.ts';
import type { NotifyJob } from '../notify/notifier.ts';
import { createDrainWatch } from '../queue/drain-watch.ts';
import type { WorkQueue } from '../queue/queue.ts';
import { createRetryBuffer } from '../queue/retry-buffer.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { GuardianMetrics } from '../telemetry/metrics.ts';
import { DetectionEngine } from './engine.ts';
import { persistDetectorState } from './persist-state.ts';
import { SeriesBudget } from './series-budget.ts';

export interface DetectionStageOptions {
  config: GuardianConfig;
  signals: WorkQueue<Signal>;
  notify: WorkQueue<NotifyJob>;
  clock: Clock;
  logger: Logger;
  metrics: GuardianMetrics;
}

/** What the detection stage gives the rest of Guardian. */
export interface DetectionStage {
  readonly engine: DetectionEngine;
  /** The metric anomaly detector, when configured (it lists the series it has seen). */
  readonly anomaly: MetricAnomalyDetector | undefined;
  /** Signals held because the queue could not take them yet. */
  pending(): number;
  /** False while signals are held: producers are refused until the queue takes them. */
  accepting(): boolean;
  /**
   * Resolves once the signals emitted so far are queued (or held), at most after `timeoutMs`:
   * what a push waits for before it is answered 200.
   */
  settled(timeoutMs: number): Promise<void>;
  /** Back-pressure: the signal queue's depth (sampled once a second) and the held signals pass `otlp.maxQueueDepth`. */
  saturated(): boolean;
  /** Readiness: each queue this replica consumes moves (sampled at the same pace). */
  draining(): boolean;
  /** Takes back the saved detector state, then starts the engine; returns its timers and closers. */
  start(): Promise<{ timers: TimerHandle[]; closers: (() => Promise<void>)[] }>;
  /**
   * At shutdown: stops detection, then gives held signals `timeoutMs` to be queued; what is left
   * is logged as lost.
   */
  halt(timeoutMs: number): Promise<void>;
  /** Timers the caller cancels when Guardian stops. */
  readonly timers: TimerHandle[];
}

/**
 * The detection stage: observations → signals, queued by a deterministic job id (a repeat is a
 * no-op). A detector emits a signal once, so one the queue cannot take now is held and queued
 * later; while any is held, or the queue is deep, the OTLP receiver is told to push back.
 */
export function createDetectionStage(options: DetectionStageOptions): DetectionStage {
  const { config, signals, notify, clock, logger, metrics } = options;
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
  // The signal queue's depth, refreshed once a second; whether the queues move, at the same pace.
  let lastDepth = 0;
  const signalsMoving = createDrainWatch({ queue: signals, clock, stuckAfterMs: config.queue.stuckAfter });
  const notifyMoving = createDrainWatch({ queue: notify, clock, stuckAfterMs: config.queue.stuckAfter });
  const refreshDepth = async () => {
    lastDepth = await signals.depth().catch(() => lastDepth);
    await Promise.all([signalsMoving.sample(), notifyMoving.sample()]);
  };
  const timers = [every(clock, 1000, refreshDepth)];
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
  return {
    engine,
    anomaly,
    pending: () => unqueued.pending(),
    accepting: () => unqueued.accepting(),
    settled: (timeoutMs) => unqueued.settled(timeoutMs),
    saturated: () => lastDepth + unqueued.pending() > config.otlp.maxQueueDepth,
    draining: () => notifyMoving.draining() && signalsMoving.draining(),
    timers,
    async start() {
      const persisted = await persistDetectorState({ config, engine, clock, logger });
      engine.start();
      return persisted
        ? { timers: [persisted.timer], closers: [persisted.close] }
        : { timers: [], closers: [] };
    },
    async halt(timeoutMs) {
      engine.stop();
      const left = await unqueued.flush(timeoutMs);
      const dropped = unqueued.close();
      if (left > 0)
        logger.error(
          { held: dropped.length, inFlight: left - dropped.length },
          'signals could not be queued before shutdown; they are lost',
        );
    },
  };
}
