import { errorMessage } from '../core/index.ts';
import type { Logger } from '../telemetry/logger.ts';

export interface RetryBufferOptions<T> {
  /** Puts one item on the queue; rejects when the queue cannot take it now. */
  add: (item: T) => Promise<void>;
  /**
   * Items held at most. Producers are refused while anything is held (see `accepting`), so only
   * work no producer can be asked to repeat (detector ticks, pollers) fills it up to this; past it
   * the newest item is dropped, counted and logged. @defaultValue 100000
   */
  capacity?: number;
  /** First wait before adding a held item again; doubles up to `maxRetryMs`. @defaultValue 250 */
  retryMs?: number;
  /** @defaultValue 5000 */
  maxRetryMs?: number;
  /** Called for an item dropped because the buffer was full. */
  onDrop?: (item: T) => void;
  /** What the items are, for the log ("signal"). */
  what: string;
  logger: Logger;
}

/** A buffer in front of a queue: an item that could not be queued is held and added again. */
export interface RetryBuffer<T> {
  /** Queues `item`, now or (when the queue fails) later, keeping the order of offers. */
  offer(item: T): void;
  /** False while items are held: the queue is failing, producers that can retry should. */
  accepting(): boolean;
  /** Items held now plus adds in flight. */
  pending(): number;
  /**
   * Resolves once every item offered so far was added or held (not once held ones are queued),
   * or after `timeoutMs`: what a producer waits for before it says "taken", so that a crash right
   * after cannot lose an item it was told was taken while the queue works.
   */
  settled(timeoutMs: number): Promise<void>;
  /** Resolves once nothing is held or in flight, or after `timeoutMs`; returns what is left. */
  flush(timeoutMs: number): Promise<number>;
  /** Stops retrying; returns the items still held (the caller decides what becomes of them). */
  close(): T[];
}

interface Entry<T> {
  readonly seq: number;
  readonly item: T;
}

/**
 * Signals a detector emits are emitted once: a detector that fired does not fire again while the
 * condition lasts. So a signal the queue could not take (Redis away) must not be dropped after a
 * log line: it is held here, in order, and added again with backoff until the queue takes it.
 * While anything is held, `accepting()` is false so the OTLP receiver answers 503 and exporters
 * retry their pushes, and the buffer only grows by what cannot be refused. Held items are in
 * memory: they survive an outage of the queue, not a crash of the process.
 */
export function createRetryBuffer<T>(options: RetryBufferOptions<T>): RetryBuffer<T> {
  const capacity = options.capacity ?? 100_000;
  const firstRetryMs = options.retryMs ?? 250;
  const maxRetryMs = options.maxRetryMs ?? 5000;
  const { logger } = options;
  /** Held items, in offer order. */
  const held: Entry<T>[] = [];
  let inFlight = 0;
  /** Adds in flight, each resolved (never rejected) when its item is added or held. */
  const adding = new Set<Promise<void>>();
  let seq = 0;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = firstRetryMs;
  let draining = false;
  const settledWaiters: (() => void)[] = [];

  const settle = () => {
    if (held.length > 0 || inFlight > 0) return;
    for (const w of settledWaiters.splice(0)) w();
  };

  const hold = (entry: Entry<T>) => {
    if (held.length >= capacity) {
      logger.error({ capacity }, `${options.what} dropped: the retry buffer is full`);
      options.onDrop?.(entry.item);
      return;
    }
    // An add that failed after later ones went to the buffer keeps its place in the order.
    let i = held.length;
    while (i > 0 && held[i - 1]!.seq > entry.seq) i--;
    held.splice(i, 0, entry);
  };

  const scheduleDrain = () => {
    if (closed || retryTimer || draining || held.length === 0) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void drain();
    }, retryMs);
    retryTimer.unref();
  };

  const drain = async () => {
    draining = true;
    try {
      while (!closed && held.length > 0) {
        const entry = held[0]!;
        try {
          await options.add(entry.item);
        } catch (err) {
          retryMs = Math.min(maxRetryMs, retryMs * 2);
          logger.warn(
            { held: held.length, retryInMs: retryMs, error: errorMessage(err) },
            `${options.what} still cannot be queued; kept for a retry`,
          );
          return;
        }
        if (held[0] === entry) held.shift();
        retryMs = firstRetryMs;
      }
      if (held.length === 0) logger.info(`held ${options.what}s queued again`);
    } finally {
      draining = false;
      scheduleDrain();
      settle();
    }
  };

  return {
    offer(item) {
      const entry = { seq: seq++, item };
      if (closed || held.length > 0) {
        // Behind what is held, so that a signal never overtakes an earlier one.
        hold(entry);
        scheduleDrain();
        return;
      }
      inFlight++;
      const added: Promise<void> = options
        .add(item)
        .catch((err: unknown) => {
          if (held.length === 0)
            logger.warn(
              { error: errorMessage(err) },
              `${options.what} could not be queued; kept for a retry`,
            );
          hold(entry);
          scheduleDrain();
        })
        .finally(() => {
          inFlight--;
          adding.delete(added);
          settle();
        });
      adding.add(added);
    },
    accepting: () => held.length === 0,
    pending: () => held.length + inFlight,
    async settled(timeoutMs) {
      if (adding.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(adding),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    },
    async flush(timeoutMs) {
      if (held.length > 0 && !draining) {
        clearTimeout(retryTimer);
        retryTimer = undefined;
        void drain();
      }
      if (held.length > 0 || inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          timer.unref();
          settledWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return held.length + inFlight;
    },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      return held.splice(0).map((e) => e.item);
    },
  };
}
