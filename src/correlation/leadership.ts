import { errorMessage } from '../core/index.ts';
import type { WorkQueue } from '../queue/queue.ts';
import type { PollLease } from '../sources/poll-lease.ts';
import type { Logger } from '../telemetry/logger.ts';

export interface LeadershipOptions {
  /** Held by at most one replica at a time (a Redis lease). */
  lease: PollLease;
  /** The queue only the leader takes jobs from (the signals queue). */
  queue: Pick<WorkQueue<unknown>, 'pause' | 'resume'>;
  /** Called when this replica becomes the leader, before it takes a job (reload state here). */
  onLead: () => void | Promise<void>;
  /** How often the lease is checked: well inside its TTL. */
  intervalMs: number;
  logger: Logger;
}

export interface Leadership {
  /** This replica leads now. */
  leading(): boolean;
  /** Some replica (this one or another) leads now, as far as the lease says. */
  leaderKnown(): Promise<boolean>;
  /** Stops checking, pauses the queue and gives the lease up so another replica leads at once. */
  stop(): Promise<void>;
}

/**
 * Makes one replica the correlator. Grouping needs one view of the open incidents: with several
 * replicas each taking signal jobs, two failures of one cause could open two incidents, each in
 * its own working set. So only the replica holding the lease takes signal jobs; the others keep
 * their consumer paused (jobs wait in Redis, nothing is lost). A replica that becomes leader
 * reloads its working set from the store first, since others wrote meanwhile. Conditional writes
 * in the store still guard the moment of a hand-over.
 *
 * The queue is paused at once: call this before the queue gets its handler.
 */
export function leadCorrelation(options: LeadershipOptions): Leadership {
  const { lease, queue, logger } = options;
  let leading = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const ready = queue.pause();

  const check = async (): Promise<void> => {
    await ready;
    const holds = await lease.hold();
    if (stopped) return;
    if (holds && !leading) {
      await options.onLead();
      leading = true;
      queue.resume();
      logger.info({}, 'this replica correlates signals');
    } else if (!holds && leading) {
      leading = false;
      await queue.pause();
      logger.info({}, 'another replica correlates signals; this one stands by');
    }
  };
  // A check that hangs (a lost connection) must not stop the next ones: the timer re-arms on its
  // own and a check starts only when the previous one ended.
  let checking = false;
  const runCheck = () => {
    if (checking) return;
    checking = true;
    void check()
      .catch((err) => logger.warn({ error: errorMessage(err) }, 'correlator lease check failed'))
      .finally(() => {
        checking = false;
      });
  };
  const loop = () => {
    timer = setTimeout(() => {
      if (stopped) return;
      runCheck();
      loop();
    }, options.intervalMs);
    timer.unref();
  };
  runCheck();
  loop();

  return {
    leading: () => leading,
    leaderKnown: async () => leading || ((await lease.heldByAnyone?.()) ?? false),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      leading = false;
      await queue.pause();
      await lease.release();
    },
  };
}
