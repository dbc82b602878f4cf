import path from 'node:path';
import { trace } from '@opentelemetry/api';
import type { GuardianConfig } from '../config/schema.ts';
import { type Clock, errorMessage, every, type Incident, type Signal } from '../core/index.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { NotifyJob } from '../notify/notifier.ts';
import type { DeliveryReconciler } from '../notify/reconciler.ts';
import type { WorkQueue } from '../queue/queue.ts';
import { createRedisPollLease } from '../sources/poll-lease.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { GuardianMetrics } from '../telemetry/metrics.ts';
import { Correlator } from './correlator.ts';
import type { IncidentChange } from './incident-state.ts';
import { type Leadership, leadCorrelation } from './leadership.ts';

const tracer = trace.getTracer('guardian');

export interface CorrelationStageOptions {
  config: Pick<GuardianConfig, 'queue' | 'notify' | 'correlation' | 'dataDir'>;
  store: IncidentStore;
  signals: WorkQueue<Signal>;
  notify: WorkQueue<NotifyJob>;
  /** Queues incidents stored and never posted again; run by the leader. */
  reconciler: DeliveryReconciler | undefined;
  clock: Clock;
  logger: Logger;
  metrics: GuardianMetrics;
}

export interface CorrelationStage {
  /** Which replica correlates, when there can be several (Redis configured). */
  readonly leadership: Leadership | undefined;
  /** Run in order at shutdown. */
  readonly closers: (() => Promise<void>)[];
}

/**
 * The correlation stage, consuming the `signals` queue: signals → incidents; a change worth
 * telling becomes a notify job. With several replicas one of them correlates, settles quiet
 * incidents and reconciles deliveries: a lease in Redis says which.
 */
export function createCorrelationStage(options: CorrelationStageOptions): CorrelationStage {
  const { config, store, signals, notify, reconciler, clock, logger, metrics } = options;
  const closers: (() => Promise<void>)[] = [];
  const { link, burst, precedence, pageAfterDags } = config.correlation;
  // The fencing token of this replica's current lead (see IncidentStore.nextLeaderEpoch).
  let epoch: number | undefined;
  const correlator = new Correlator({
    store,
    clock,
    logger,
    metrics,
    fence: () => epoch,
    windows: { linkMs: link, burstMs: burst },
    causal: { precedenceMs: precedence, pageAfterDags },
  });
  metrics.meter
    .createObservableGauge('guardian.correlation.working_set', { unit: '{incident}' })
    .addCallback((result) => result.observe(correlator.size()));
  const tell = async ({ incident: i, change }: { incident: Incident; change: IncidentChange }) => {
    // The delivery ledger says whether it was posted (or claimed); the notifier alone writes it.
    const thread = (await store.getDelivery(i.id))?.thread ?? null;
    // A 'none' result still notifies an incident never posted: an earlier attempt may have
    // stopped between writing it and queueing its notification.
    if (change === 'none' && thread?.ts) return;
    // Quiet incidents are recorded, not posted, until something in them deserves a human.
    if (i.quiet && !thread) return;
    // The first post waits a moment, so what one poll reports of one cause (and the merges it
    // causes) goes out as one message rather than several.
    await notify.add(
      `${i.id}@${i.version}`,
      { incidentId: i.id, version: i.version, change },
      thread ? {} : { delayMs: config.notify.groupWait },
    );
  };
  // Incidents stored and never posted are queued again by the leader, on start, on taking the
  // lead and every reconcileInterval.
  // The pass in flight, so shutdown waits for it before the store closes under it.
  let reconciling: Promise<void> | undefined;
  const reconcile = () => {
    if (!reconciler || reconciling || (leadership && !leadership.leading())) return;
    reconciling = reconciler
      .run()
      .then(
        () => {},
        (err: unknown) =>
          logger.warn({ error: errorMessage(err) }, 'looking for incidents never posted failed; will retry'),
      )
      .finally(() => {
        reconciling = undefined;
      });
  };
  let leadership: Leadership | undefined;
  if (config.queue.redisUrl) {
    const correlatorLease = createRedisPollLease({
      redisUrl: config.queue.redisUrl,
      key: 'guardian:correlator-lease',
      duty: 'correlates signals',
      restartMarker: path.join(config.dataDir, 'correlator-lease.json'),
      logger,
    });
    closers.unshift(() => correlatorLease.close());
    const led = leadCorrelation({
      lease: correlatorLease,
      queue: signals,
      onLead: async () => {
        epoch = await store.nextLeaderEpoch();
        logger.info({ epoch }, 'correlator leader epoch');
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
    closers.unshift(async () => {
      reconcileTimer.cancel();
      await reconciling;
    });
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
  return { leadership, closers };
}
