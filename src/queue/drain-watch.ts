import type { Clock } from '../core/index.ts';
import type { WorkQueue } from './queue.ts';

export interface DrainWatchOptions {
  queue: Pick<WorkQueue<unknown>, 'waiting'>;
  clock: Clock;
  /** Jobs ready to run and none of them taken for this long: the queue is stuck. */
  stuckAfterMs: number;
}

/** Whether a queue's backlog moves (readiness). Fed by `sample()` on an interval. */
export interface DrainWatch {
  /** Reads the backlog once; an unreachable queue counts as no progress. */
  sample(): Promise<void>;
  /** False when jobs have been ready to run for `stuckAfterMs` and the backlog never shrank. */
  draining(): boolean;
}

/**
 * A Redis ping says Redis answers, not that Guardian works: after an outage a consumer may be
 * connected and yet take nothing. Progress is what readiness should report: the backlog of jobs
 * ready to run was empty, or shrank, within `stuckAfterMs`. Any consumer's progress counts, so a
 * replica standing by reports the leader's.
 */
export function createDrainWatch(options: DrainWatchOptions): DrainWatch {
  const { clock } = options;
  let lastProgress = clock.now();
  let lastBacklog = 0;
  return {
    async sample() {
      let backlog: number;
      try {
        backlog = await options.queue.waiting();
      } catch {
        return;
      }
      if (backlog === 0 || backlog < lastBacklog) lastProgress = clock.now();
      lastBacklog = backlog;
    },
    draining: () => clock.now() - lastProgress < options.stuckAfterMs,
  };
}
