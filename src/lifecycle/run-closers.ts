import type { Logger } from '../telemetry/logger.ts';

/** Something to stop at shutdown. */
export type Closer = () => Promise<void>;

/** The least each closer is given once the overall deadline has passed. */
const LATE_CLOSER_MS = 250;

/**
 * Runs the closers in order, each until it ends or the deadline passes (then it is left behind
 * and the next one runs), so that one dependency that never answers cannot hold shutdown.
 */
export async function runClosers(
  closers: readonly Closer[],
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
