import { GuardianError } from '../core/index.ts';

/**
 * Work between pipeline stages. One contract, two implementations: BullMQ on Redis (several
 * replicas) and in-process (embedded default). The contract suite in `test/contracts/` runs
 * against both.
 *
 * Delivery is at-least-once: handlers must be idempotent. A handler that throws a `GuardianError`
 * with `retryable: false` is not retried; one with `retryAfterMs` is retried no sooner than that.
 */
export interface Job<T> {
  readonly id: string;
  readonly data: T;
  /** 1 on the first run, 2 on the first retry… */
  readonly attempt: number;
}

export type JobHandler<T> = (job: Job<T>) => Promise<void>;

export interface QueueOptions {
  /**
   * Runs before a job fails for good.
   * @defaultValue 5
   */
  attempts?: number;
  /**
   * Base of the exponential backoff between attempts (delay = base · 2^(attempt−1)).
   * @defaultValue 1000
   */
  backoffMs?: number;
  /**
   * The longest wait between two attempts, so that a job keeps being tried at a steady pace
   * through a long outage of a dependency. @defaultValue 30000
   */
  maxBackoffMs?: number;
}

/** The longest wait between two attempts of a job, unless a queue says otherwise. */
export const MAX_BACKOFF_MS = 30_000;

/**
 * The wait before the next attempt of a job that failed `attemptsMade` times: exponential from
 * `baseMs`, capped at `capMs`, and never sooner than the peer's `Retry-After`.
 */
export function backoffDelay(attemptsMade: number, baseMs: number, capMs: number, err: unknown): number {
  const backoff = Math.min(capMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  const retryAfter = err instanceof GuardianError ? (err.retryAfterMs ?? 0) : 0;
  return Math.max(backoff, retryAfter);
}

/**
 * Attempts that keep a job tried for about `windowMs` with this backoff: how long a dependency
 * may be away before the job becomes a dead letter.
 */
export function attemptsWithin(windowMs: number, baseMs: number, capMs = MAX_BACKOFF_MS): number {
  let attempts = 1;
  for (let waited = 0; waited < windowMs; attempts++)
    waited += backoffDelay(attempts, baseMs, capMs, undefined);
  return attempts;
}

export interface AddOptions {
  /** Run the job no sooner than this long from now (on the queue's clock). */
  delayMs?: number;
}

export interface WorkQueue<T> {
  readonly name: string;
  /**
   * Adds a job. While a job with the same id is waiting, delayed or running, adding it again is a
   * no-op. Ids may use any characters (implementations encode them as their backend needs).
   */
  add(id: string, data: T, options?: AddOptions): Promise<void>;
  /** Starts processing with `handler`. Call once per queue. */
  process(handler: JobHandler<T>, options?: { concurrency?: number }): void;
  /**
   * Stops taking jobs (they wait, and other consumers may take them); resolves once the running
   * ones finished. A queue paused before `process` starts paused.
   */
  pause(): Promise<void>;
  /** Takes jobs again after `pause`. */
  resume(): void;
  /** Jobs waiting, delayed or running. */
  depth(): Promise<number>;
  /** Jobs ready to run now and not running yet (the backlog a live consumer drains). */
  waiting(): Promise<number>;
  /**
   * True while this consumer takes jobs: it has a handler, is not paused, and its connection to
   * the backend is up. Readiness reports it; it never throws.
   */
  consuming(): boolean;
  /**
   * Jobs that failed for good (attempts exhausted or not retryable), newest first, at most
   * `limit` (the queue keeps the last 1,000).
   */
  deadLetters(limit?: number): Promise<DeadLetter<T>[]>;
  /**
   * Queues a dead letter again under its id, its attempts starting over, and forgets it as dead.
   * False when no dead letter has that id.
   */
  replay(id: string): Promise<boolean>;
  /** Resolves once no job is waiting or running (delayed retries may remain). */
  idle(): Promise<void>;
  /**
   * Stops taking jobs, waits for running ones to finish, releases connections. Bounded: a backend
   * that does not answer (Redis away) does not hold it for more than a few seconds.
   */
  close(): Promise<void>;
}

export interface QueueBackend {
  readonly kind: 'in-process' | 'bullmq';
  queue<T>(name: string, options?: QueueOptions): WorkQueue<T>;
  /** Closes every queue it made, then its connections. */
  close(): Promise<void>;
  /**
   * Stepped backends only (deterministic replay): runs waiting jobs one at a time, queue by queue
   * in the order the queues were made, until none is left. Jobs run at no other time.
   */
  drain?(): Promise<void>;
}

/** A job that failed for good, kept so that it can be looked at and replayed. */
export interface DeadLetter<T = unknown> {
  readonly id: string;
  readonly data: T;
  /** The last error's message. */
  readonly error: string;
  /** Epoch ms (wall clock of the process that gave up). */
  readonly failedAt: number;
  readonly attempts: number;
}

/** Dead letters a queue keeps; older ones are dropped. */
export const DEAD_LETTERS_KEPT = 1000;

/** Called when a job failed for good (attempts exhausted or not retryable). */
export type DeadLetterListener = (queue: string, jobId: string, error: unknown) => void;
