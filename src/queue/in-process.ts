import type { Clock } from '../core/index.ts';
import { GuardianError } from '../core/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import {
  type AddOptions,
  backoffDelay,
  DEAD_LETTERS_KEPT,
  type DeadLetter,
  type DeadLetterListener,
  type Job,
  type JobHandler,
  MAX_BACKOFF_MS,
  type QueueBackend,
  type QueueOptions,
  type WorkQueue,
} from './queue.ts';

export interface InProcessQueueOptions {
  /** Retry delays run on this clock, so virtual-time replay moves them too. */
  clock: Clock;
  logger: Logger;
  onDeadLetter?: DeadLetterListener;
  /**
   * Run jobs only in `drain()`, one at a time, stage by stage: the pipeline's order then depends on
   * nothing but its input (replay). @defaultValue false
   */
  stepped?: boolean;
}

const DEFAULT_ATTEMPTS = 5;
const DEFAULT_BACKOFF_MS = 1000;

/** The embedded queue: FIFO in memory, the same contract as BullMQ (see queue.ts). */
export function createInProcessQueueBackend(options: InProcessQueueOptions): QueueBackend {
  const queues: InProcessQueue<unknown>[] = [];
  return {
    kind: 'in-process',
    queue<T>(name: string, queueOptions: QueueOptions = {}): WorkQueue<T> {
      const q = new InProcessQueue<T>(name, queueOptions, options);
      queues.push(q as InProcessQueue<unknown>);
      return q;
    },
    async close() {
      await Promise.all(queues.map((q) => q.close()));
    },
    ...(options.stepped
      ? {
          async drain() {
            let ran = true;
            while (ran) {
              ran = false;
              for (const q of queues) while (await q.runNext()) ran = true;
            }
          },
        }
      : {}),
  };
}

interface Entry<T> {
  readonly id: string;
  readonly data: T;
  attempt: number;
}

class InProcessQueue<T> implements WorkQueue<T> {
  readonly name: string;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #o: InProcessQueueOptions;
  readonly #waiting: Entry<T>[] = [];
  /** Ids waiting, delayed or running: adding one of them again is a no-op. */
  readonly #known = new Set<string>();
  readonly #delayed = new Map<string, { readonly timer: { cancel(): void }; readonly data: T }>();
  #running = 0;
  #concurrency = 1;
  #handler: JobHandler<T> | undefined;
  #closed = false;
  #paused = false;
  #idleWaiters: (() => void)[] = [];
  /** Oldest first; in memory, so they do not outlive the process. */
  readonly #dead: DeadLetter<T>[] = [];
  #dispatchScheduled = false;

  constructor(name: string, queueOptions: QueueOptions, options: InProcessQueueOptions) {
    this.name = name;
    this.#attempts = queueOptions.attempts ?? DEFAULT_ATTEMPTS;
    this.#backoffMs = queueOptions.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.#maxBackoffMs = queueOptions.maxBackoffMs ?? MAX_BACKOFF_MS;
    this.#o = options;
  }

  async add(id: string, data: T, options: AddOptions = {}): Promise<void> {
    if (this.#closed) throw new GuardianError('queue_closed', `queue ${this.name} is closed`);
    if (this.#known.has(id)) return;
    this.#known.add(id);
    const delayMs = Math.max(0, options.delayMs ?? 0);
    if (delayMs === 0) {
      this.#waiting.push({ id, data, attempt: 1 });
      this.#scheduleDispatch();
      return;
    }
    const timer = this.#o.clock.setTimer(delayMs, () => {
      this.#delayed.delete(id);
      if (this.#closed) return;
      this.#waiting.push({ id, data, attempt: 1 });
      this.#scheduleDispatch();
    });
    this.#delayed.set(id, { timer, data });
  }

  process(handler: JobHandler<T>, options: { concurrency?: number } = {}): void {
    if (this.#handler) throw new Error(`queue ${this.name} already has a handler`);
    this.#handler = handler;
    this.#concurrency = Math.max(1, options.concurrency ?? 1);
    this.#scheduleDispatch();
  }

  async pause(): Promise<void> {
    this.#paused = true;
    while (this.#running > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  resume(): void {
    this.#paused = false;
    this.#scheduleDispatch();
  }

  async depth(): Promise<number> {
    return this.#waiting.length + this.#delayed.size + this.#running;
  }

  async waiting(): Promise<number> {
    return this.#waiting.length;
  }

  consuming(): boolean {
    return Boolean(this.#handler) && !this.#paused && !this.#closed;
  }

  async deadLetters(limit = DEAD_LETTERS_KEPT): Promise<DeadLetter<T>[]> {
    return this.#dead.slice(-limit).reverse();
  }

  async replay(id: string): Promise<boolean> {
    const i = this.#dead.findIndex((d) => d.id === id);
    if (i < 0) return false;
    const [letter] = this.#dead.splice(i, 1);
    await this.add(letter!.id, letter!.data);
    return true;
  }

  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const { timer } of this.#delayed.values()) timer.cancel();
    this.#delayed.clear();
    this.#waiting.length = 0;
    while (this.#running > 0) await new Promise((resolve) => setImmediate(resolve));
    this.#notifyIdle();
  }

  #isIdle(): boolean {
    return this.#running === 0 && (this.#waiting.length === 0 || !this.#handler);
  }

  /** Stepped mode: runs the next waiting job, if any, to its end. */
  async runNext(): Promise<boolean> {
    const entry = this.#paused ? undefined : this.#waiting.shift();
    if (!entry || !this.#handler || this.#closed) {
      if (entry) this.#waiting.unshift(entry);
      return false;
    }
    this.#running++;
    await this.#run(this.#handler, entry);
    return true;
  }

  #scheduleDispatch(): void {
    if (this.#o.stepped || this.#dispatchScheduled) return;
    this.#dispatchScheduled = true;
    // Never run a handler inside add()'s call stack.
    setImmediate(() => {
      this.#dispatchScheduled = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    const handler = this.#handler;
    if (!handler || this.#closed || this.#paused || this.#o.stepped) return;
    while (this.#running < this.#concurrency && this.#waiting.length > 0) {
      const entry = this.#waiting.shift()!;
      this.#running++;
      void this.#run(handler, entry);
    }
  }

  async #run(handler: JobHandler<T>, entry: Entry<T>): Promise<void> {
    const job: Job<T> = { id: entry.id, data: entry.data, attempt: entry.attempt };
    try {
      await handler(job);
      this.#known.delete(entry.id);
    } catch (err) {
      this.#failed(entry, err);
    } finally {
      this.#running--;
      this.#dispatch();
      this.#notifyIdle();
    }
  }

  #failed(entry: Entry<T>, err: unknown): void {
    const retryable = !(err instanceof GuardianError) || err.retryable;
    if (!retryable || entry.attempt >= this.#attempts || this.#closed) {
      this.#known.delete(entry.id);
      this.#o.logger.warn(
        { queue: this.name, jobId: entry.id, attempt: entry.attempt, err },
        'job failed for good',
      );
      this.#dead.push({
        id: entry.id,
        data: entry.data,
        error: err instanceof Error ? err.message : String(err),
        failedAt: this.#o.clock.now(),
        attempts: entry.attempt,
      });
      if (this.#dead.length > DEAD_LETTERS_KEPT) this.#dead.shift();
      this.#o.onDeadLetter?.(this.name, entry.id, err);
      return;
    }
    const delay = backoffDelay(entry.attempt, this.#backoffMs, this.#maxBackoffMs, err);
    this.#o.logger.debug(
      { queue: this.name, jobId: entry.id, attempt: entry.attempt, delay, err },
      'job will be retried',
    );
    const timer = this.#o.clock.setTimer(delay, () => {
      this.#delayed.delete(entry.id);
      if (this.#closed) return;
      this.#waiting.push({ ...entry, attempt: entry.attempt + 1 });
      this.#scheduleDispatch();
    });
    this.#delayed.set(entry.id, { timer, data: entry.data });
  }

  #notifyIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
