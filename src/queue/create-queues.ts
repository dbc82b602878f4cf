import path from 'node:path';
import type { GuardianConfig } from '../config/schema.ts';
import { type Clock, errorMessage, type Signal } from '../core/index.ts';
import type { NotifyJob } from '../notify/notifier.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { GuardianMetrics } from '../telemetry/metrics.ts';
import { createQueueBackend } from './index.ts';
import { QueueJournal } from './journal.ts';
import { attemptsWithin, type QueueBackend, type WorkQueue } from './queue.ts';
import { takeSavedJobs } from './saved-jobs.ts';

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
   * At shutdown, for an in-process queue: correlates what is queued until half the time to
   * `deadline`; what is left stays in the journal for the next start.
   */
  finish(deadline: number): Promise<void>;
  /** Run in order at shutdown. */
  readonly closers: (() => Promise<void>)[];
}

/** How long a job is retried through a failing dependency before it becomes a dead letter. */
const RETRY_WINDOW_MS = 3_600_000;

/**
 * Queues: BullMQ on Redis when REDIS_URL is set, in-process otherwise. An in-process signals
 * queue is journaled in `dataDir` (see {@link QueueJournal}): the signals an earlier process
 * accepted and did not correlate, whatever stopped it, are queued first.
 */
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
  const queued = backend.queue<Signal>('signals', {
    attempts: attemptsWithin(RETRY_WINDOW_MS, 500),
    backoffMs: 500,
  });
  const notify = backend.queue<NotifyJob>('notify', {
    attempts: attemptsWithin(RETRY_WINDOW_MS, 1000),
    backoffMs: 1000,
  });
  // Only an in-process queue loses what it holds; a stepped one is a replay's, run to the end.
  const journal =
    backend.kind === 'in-process' && !stepped
      ? QueueJournal.open<Signal>(path.resolve(config.dataDir, 'signals-journal.jsonl'), logger)
      : undefined;
  const signals = journal ? journal.wrap(queued) : queued;
  if (journal) {
    const left = journal.pending();
    for (const job of left) await queued.add(job.id, job.data);
    if (left.length > 0)
      logger.info({ queued: left.length }, 'signals an earlier process accepted queued again');
    // The file a version before the journal saved at its shutdown deadline.
    const legacy = path.resolve(config.dataDir, 'unfinished-signals.json');
    try {
      for (const job of takeSavedJobs<Signal>(legacy)) await signals.add(job.id, job.data);
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
      // Correlate what is queued while half the time lasts; what is left is in the journal.
      // Notifications waiting for their group wait need not be: the incidents are stored, and
      // the next start's reconciler posts them.
      if (!journal) return;
      const drained = await Promise.race([
        signals
          .idle()
          .then(() => notify.idle())
          .then(() => true),
        new Promise<boolean>((resolve) =>
          setTimeout(resolve, Math.max(0, deadline - Date.now()) / 2, false).unref(),
        ),
      ]);
      if (!drained)
        logger.warn(
          { left: journal.pending().length },
          'queued signals left in the journal for the next start',
        );
    },
    closers: [() => backend.close(), async () => journal?.close()],
  };
}
