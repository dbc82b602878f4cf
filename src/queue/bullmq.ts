import { type Job as BullJob, Queue, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { DependencyError, GuardianError } from '../core/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import {
  type AddOptions,
  backoffDelay,
  DEAD_LETTERS_KEPT,
  type DeadLetter,
  type DeadLetterListener,
  type JobHandler,
  MAX_BACKOFF_MS,
  type QueueBackend,
  type QueueOptions,
  type WorkQueue,
} from './queue.ts';

/** Deaths of the process running a job before the job fails for good (BullMQ's default is 1). */
export const STALLS_BEFORE_DEAD = 5;

export interface BullmqQueueOptions {
  /** `redis://` or `rediss://` URL. */
  redisUrl: string;
  /**
   * Key prefix in Redis, so several Guardians (or tests) can share one Redis.
   * @defaultValue guardian
   */
  prefix?: string;
  logger: Logger;
  onDeadLetter?: DeadLetterListener;
}

const DEFAULT_ATTEMPTS = 5;
const DEFAULT_BACKOFF_MS = 1000;
const IDLE_POLL_MS = 25;
/** How long `close()` waits for BullMQ to close cleanly before it drops the connections. */
const CLOSE_TIMEOUT_MS = 5000;

/** What a BullMQ job carries: the caller's id (BullMQ's own id is an encoding of it) and data. */
interface Envelope<T> {
  readonly id: string;
  readonly data: T;
}

/**
 * BullMQ on Redis, for several replicas. Delivery is at-least-once (a stalled job runs again);
 * Guardian's handlers are idempotent. A Redis outage is logged and turns operations into
 * retryable `DependencyError`s; it never crashes the process.
 */
export function createBullmqQueueBackend(options: BullmqQueueOptions): QueueBackend {
  const queues: BullmqQueue<unknown>[] = [];
  // Producers fail fast when Redis is away; workers (blocking commands) retry for ever.
  const producer = new Redis(options.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: false,
  });
  producer.on('error', (err) => options.logger.warn({ err: err.message }, 'redis (queue producer) error'));
  return {
    kind: 'bullmq',
    queue<T>(name: string, queueOptions: QueueOptions = {}): WorkQueue<T> {
      const q = new BullmqQueue<T>(name, queueOptions, options, producer);
      queues.push(q as BullmqQueue<unknown>);
      return q;
    },
    async close() {
      await Promise.all(queues.map((q) => q.close()));
      producer.disconnect();
    },
  };
}

class BullmqQueue<T> implements WorkQueue<T> {
  readonly name: string;
  readonly #queue: Queue;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #o: BullmqQueueOptions;
  readonly #producer: Redis;
  /** A Redis list of dead letters (JSON), newest first. */
  readonly #deadKey: string;
  #worker: Worker | undefined;
  #workerConnection: Redis | undefined;
  #closing: Promise<void> | undefined;
  #paused = false;
  /** Handler calls running now (ours to count: BullMQ's own wait may hang on a lost connection). */
  #running = 0;
  #runningDone: (() => void)[] = [];

  constructor(name: string, queueOptions: QueueOptions, options: BullmqQueueOptions, producer: Redis) {
    this.name = name;
    this.#o = options;
    this.#attempts = queueOptions.attempts ?? DEFAULT_ATTEMPTS;
    this.#backoffMs = queueOptions.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.#maxBackoffMs = queueOptions.maxBackoffMs ?? MAX_BACKOFF_MS;
    this.#producer = producer;
    this.#deadKey = `${options.prefix ?? 'guardian'}:${name}:dead-letters`;
    this.#queue = new Queue(name, { connection: producer, prefix: options.prefix ?? 'guardian' });
    this.#queue.on('error', (err) => options.logger.warn({ queue: name, err: err.message }, 'queue error'));
  }

  async add(id: string, data: T, options: AddOptions = {}): Promise<void> {
    const envelope: Envelope<T> = { id, data };
    await this.#redis('add', () =>
      this.#queue.add(this.name, envelope, {
        jobId: encodeJobId(id),
        ...(options.delayMs && options.delayMs > 0 ? { delay: Math.round(options.delayMs) } : {}),
        attempts: this.#attempts,
        backoff: { type: 'guardian', delay: this.#backoffMs },
        // Finished jobs leave Redis, so the same id can be queued again later.
        removeOnComplete: true,
        removeOnFail: true,
      }),
    );
  }

  process(handler: JobHandler<T>, options: { concurrency?: number } = {}): void {
    if (this.#worker) throw new Error(`queue ${this.name} already has a handler`);
    const connection = new Redis(this.#o.redisUrl, { maxRetriesPerRequest: null });
    connection.on('error', (err) =>
      this.#o.logger.warn({ queue: this.name, err: err.message }, 'redis (worker) error'),
    );
    this.#workerConnection = connection;
    const backoffMs = this.#backoffMs;
    const maxBackoffMs = this.#maxBackoffMs;
    this.#worker = new Worker<Envelope<T>>(
      this.name,
      async (job: BullJob<Envelope<T>>, token?: string) => {
        // A fetch in flight when pause() was called may still bring a job: hand it back untouched
        // (a paused correlator must not take signals another replica now leads).
        if (this.#paused && token) {
          await job.moveToWait(token);
          throw new WaitingError();
        }
        this.#running++;
        try {
          await handler({ id: job.data.id, data: job.data.data, attempt: job.attemptsMade + 1 });
        } catch (err) {
          if (err instanceof GuardianError && !err.retryable)
            throw new UnrecoverableError(`${err.code}: ${err.message}`);
          throw err;
        } finally {
          this.#running--;
          if (this.#running === 0) for (const done of this.#runningDone.splice(0)) done();
        }
      },
      {
        connection,
        // A queue paused before it has a handler starts its worker on resume().
        autorun: !this.#paused,
        prefix: this.#o.prefix ?? 'guardian',
        concurrency: Math.max(1, options.concurrency ?? 1),
        // A job running when its process died is taken again (a stall). BullMQ fails it for good
        // after its second stall by default, but a process that dies at start (a crash loop) takes
        // every job that runs beside the one that kills it down with it: those bystanders were
        // dead-lettered after two restarts. A job now fails for good only when it was running in
        // more than STALLS_BEFORE_DEAD processes that died.
        maxStalledCount: STALLS_BEFORE_DEAD,
        settings: {
          // Exponential, but never sooner than the peer's Retry-After.
          backoffStrategy: (attemptsMade, _type, err) =>
            backoffDelay(attemptsMade, backoffMs, maxBackoffMs, err),
        },
      },
    );
    this.#worker.on('error', (err) =>
      this.#o.logger.warn({ queue: this.name, err: err.message }, 'worker error'),
    );
    this.#worker.on('failed', (job, err) => {
      if (!job) return;
      const final =
        err instanceof UnrecoverableError ||
        err.name === 'UnrecoverableError' ||
        job.attemptsMade >= this.#attempts;
      if (!final) return;
      this.#o.logger.warn({ queue: this.name, jobId: job.data.id, err: err.message }, 'job failed for good');
      // BullMQ removes the failed job (so its id can be queued again): keep it as a dead letter.
      const letter: DeadLetter<T> = {
        id: job.data.id,
        data: job.data.data,
        error: err.message,
        failedAt: Date.now(),
        attempts: job.attemptsMade,
      };
      this.#producer
        .multi()
        .lpush(this.#deadKey, JSON.stringify(letter))
        .ltrim(this.#deadKey, 0, DEAD_LETTERS_KEPT - 1)
        .exec()
        .catch((e: Error) =>
          this.#o.logger.error(
            { queue: this.name, jobId: job.data.id, err: e.message },
            'dead letter could not be kept',
          ),
        );
      this.#o.onDeadLetter?.(this.name, job.data.id, err);
    });
  }

  async pause(): Promise<void> {
    this.#paused = true;
    // BullMQ's own wait for active jobs reconnects its blocking connection, which never completes
    // while Redis is away (and then pause() never returns): stop fetching without it, and wait for
    // the handler calls we count ourselves. Waiting jobs stay for other workers.
    if (this.#worker?.isRunning()) await this.#worker.pause(true);
    if (this.#running > 0) await new Promise<void>((resolve) => this.#runningDone.push(resolve));
  }

  resume(): void {
    this.#paused = false;
    const worker = this.#worker;
    if (!worker) return;
    // Restarts the worker's loop whether pause() stopped it or it never ran (autorun off).
    void Promise.resolve(worker.resume()).catch((err: Error) =>
      this.#o.logger.warn({ queue: this.name, err: err.message }, 'worker could not resume'),
    );
  }

  async depth(): Promise<number> {
    const counts = await this.#redis('depth', () =>
      this.#queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized'),
    );
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async waiting(): Promise<number> {
    const counts = await this.#redis('waiting', () => this.#queue.getJobCounts('waiting', 'prioritized'));
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  consuming(): boolean {
    const worker = this.#worker;
    return (
      worker !== undefined &&
      !this.#paused &&
      !this.#closing &&
      worker.isRunning() &&
      !worker.isPaused() &&
      this.#workerConnection?.status === 'ready'
    );
  }

  async deadLetters(limit = DEAD_LETTERS_KEPT): Promise<DeadLetter<T>[]> {
    const raw = await this.#redis('deadLetters', () => this.#producer.lrange(this.#deadKey, 0, limit - 1));
    return raw.map((r) => JSON.parse(r) as DeadLetter<T>);
  }

  async replay(id: string): Promise<boolean> {
    const raw = await this.#redis('replay', () => this.#producer.lrange(this.#deadKey, 0, -1));
    const found = raw.find((r) => (JSON.parse(r) as DeadLetter<T>).id === id);
    if (!found) return false;
    const letter = JSON.parse(found) as DeadLetter<T>;
    await this.add(letter.id, letter.data);
    await this.#redis('replay', () => this.#producer.lrem(this.#deadKey, 1, found));
    return true;
  }

  async idle(): Promise<void> {
    for (;;) {
      const counts = await this.#redis('idle', () =>
        this.#queue.getJobCounts('waiting', 'active', 'prioritized'),
      );
      if (Object.values(counts).every((n) => n === 0)) return;
      await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      // BullMQ's close waits on Redis; with Redis away it would wait for ever.
      const clean = (async () => {
        await this.#worker?.close();
        await this.#queue.close();
      })();
      const timedOut = await Promise.race([
        clean.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS, true).unref()),
      ]);
      if (timedOut) {
        this.#o.logger.warn({ queue: this.name }, 'queue did not close in time; dropping its connections');
        void this.#worker?.close(true).catch(() => {});
        void clean.catch(() => {});
      }
      this.#workerConnection?.disconnect();
    })();
    return this.#closing;
  }

  async #redis<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw new DependencyError(
        'redis',
        'redis_unavailable',
        `${operation} on queue ${this.name} failed: ${(err as Error).message}`,
        {
          retryable: true,
          cause: err,
        },
      );
    }
  }
}

/** BullMQ ids may not contain `:` nor be all digits: base64url with a prefix is neither. */
function encodeJobId(id: string): string {
  return `j_${Buffer.from(id).toString('base64url')}`;
}
