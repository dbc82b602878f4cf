import path from 'node:path';
import type { GuardianConfig } from '../config/schema.ts';
import { type Clock, errorMessage, type Signal } from '../core/index.ts';
import type { NotifyJob } from '../notify/notifier.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { GuardianMetrics } from '../telemetry/metrics.ts';
import { createQueueBackend } from './index.ts';
import { attemptsWithin, type QueueBackend, type WorkQueue } from './queue.ts';
import { saveJobs, takeSavedJobs } from './saved-jobs.ts';

export interface QueuesOptions {
  config: Pick<GuardianConfig, 'queue' | 'dataDir'>;
  clock: Clock;
  logger: Logger;
  metrics: GuardianMetrics;
  /** Deterministic replay (in-process only): jobs run in `drain()`. */
  stepped: boolean;
}

/** The queue backend and Guardian's two queues. */
export interface Queues {
  readonly backend: QueueBackend;
  readonly signals: WorkQueue<Signal>;
  readonly notify: WorkQueue<NotifyJob>;
  /** Resolves once both queues are idle (stage by stage when the backend drains itself). */
  drain(): Promise<void>;
  /**
   * At shutdown, for an in-process queue (which dies with the process): correlates what is queued
   * until half the time to `deadline`, then saves the signals left for the next start.
   */
  finish(deadline: number): Promise<void>;
  /** Run in order at shutdown. */
  readonly closers: (() => Promise<void>)[];
}

/**
 * Queues: BullMQ on Redis when REDIS_URL is set, in-process otherwise. Signals an in-process
 * queue held when the last shutdown's deadline passed are queued first.
 */
/** How long a job is retried through a failing dependency before it becomes a dead letter. */
const RETRY_WINDOW_MS = 3_600_000;

export async function createQueues(options: QueuesOptions): Promise<Queues> {
  const { config, clock, logger, metrics, stepped } = options;
  const backend = createQueueBackend({
    ...(config.queue.redisUrl ? { redisUrl: config.queue.redisUrl } : {}),
    clock,
    logger,
    ...(stepped ? { stepped: true } : {}),
    onDeadLetter: (queue, jobId, error) => {
      metrics.jobs.add(1, { queue, outcome: 'dead_letter' });
      logger.error({ queue, jobId, error: errorMessage(error) }, 'job failed for good');
    },
  });
  // Retried (at most 30 s apart) for about an hour: a DynamoDB or Slack outage delays work, and
  // only a job still failing after that becomes a dead letter (`guardian jobs` replays it).
  const signals = backend.queue<Signal>('signals', {
    attempts: attemptsWithin(RETRY_WINDOW_MS, 500),
    backoffMs: 500,
  });
  const notify = backend.queue<NotifyJob>('notify', {
    attempts: attemptsWithin(RETRY_WINDOW_MS, 1000),
    backoffMs: 1000,
  });
  const unfinishedFile = path.resolve(config.dataDir, 'unfinished-signals.json');
  // Only an in-process queue loses what it holds; a stepped one is a replay's, run to the end.
  const keepsUnfinished = backend.kind === 'in-process' && !stepped;
  if (keepsUnfinished) {
    try {
      const saved = takeSavedJobs<Signal>(unfinishedFile);
      for (const job of saved) await signals.add(job.id, job.data);
      if (saved.length > 0)
        logger.info({ queued: saved.length }, 'signals saved at the last shutdown queued again');
    } catch (err) {
      logger.error({ error: errorMessage(err) }, 'signals saved at the last shutdown could not be read');
    }
  }
  return {
    backend,
    signals,
    notify,
    async drain() {
      if (backend.drain) await backend.drain();
      else {
        await signals.idle();
        await notify.idle();
      }
    },
    async finish(deadline) {
      // Correlate what is queued first (its signals exist nowhere else). Notifications waiting
      // for their group wait need not be: the incidents are stored, and the next start's
      // reconciler posts them.
      if (!keepsUnfinished) return;
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
      if (drained || left.length === 0) return;
      try {
        saveJobs(unfinishedFile, left);
        logger.warn({ saved: left.length, file: unfinishedFile }, 'queued signals saved for the next start');
      } catch (err) {
        logger.error(
          { lost: left.length, error: errorMessage(err) },
          'queued signals could not be saved; they are lost',
        );
      }
    },
    closers: [() => backend.close()],
  };
}
