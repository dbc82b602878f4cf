import { VersionConflictError } from '../core/index.ts';

/** How {@link optimistic} retries a read-change-write that lost a race. */
export interface OptimisticOptions {
  /**
   * What is being written, for the error when every attempt lost ("incident inc_1: record a
   * notification").
   */
  readonly what: string;
  /**
   * Attempts in all. Each lost race means another writer got in between the read and the write;
   * eight in a row means contention that waiting in the queue resolves better than spinning.
   * @defaultValue 8
   */
  readonly attempts?: number;
  /**
   * Which errors are lost races (the attempt is run again); anything else is thrown at once.
   * @defaultValue errors that are a `VersionConflictError`
   */
  readonly isConflict?: (err: unknown) => boolean;
  /** Runs after every lost race, the last one included (a cache to reload, a debug line). */
  readonly onConflict?: (err: unknown, attempt: number) => Promise<void> | void;
}

/** Attempts {@link optimistic} makes unless told otherwise. */
export const OPTIMISTIC_ATTEMPTS = 8;

/**
 * Runs `attempt` — read the item, apply a change, write it on the condition that nothing changed
 * since the read — until it does not lose a race, at most `attempts` times. Every conditional
 * write in Guardian retries this way, so the bound and the error are the same everywhere: a
 * {@link VersionConflictError} (retryable: a queued job runs again later) that says what could not
 * be written and how many races it lost.
 */
export async function optimistic<T>(attempt: () => Promise<T>, options: OptimisticOptions): Promise<T> {
  const attempts = options.attempts ?? OPTIMISTIC_ATTEMPTS;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new RangeError(`attempts must be a positive integer, not ${attempts}`);
  }
  const isConflict = options.isConflict ?? ((err: unknown) => err instanceof VersionConflictError);
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isConflict(err)) throw err;
      // Even after the last attempt: whoever calls again should start from a fresh read.
      await options.onConflict?.(err, n);
      if (n >= attempts) {
        throw new VersionConflictError(`${options.what}: lost ${attempts} write races in a row`);
      }
    }
  }
}
