import { describe, expect, it } from 'vitest';
import { GuardianError } from '../../src/core/index.ts';
import type { DeadLetterListener, QueueBackend } from '../../src/queue/queue.ts';

export interface QueueUnderTest {
  backend: QueueBackend;
  /** Lets `ms` of queue time pass (a virtual clock moves; a real one is waited for). */
  advance(ms: number): Promise<void>;
}

export type MakeQueueBackend = (onDeadLetter: DeadLetterListener) => Promise<QueueUnderTest>;

const tick = () => new Promise((r) => setTimeout(r, 20));
const uniqueName = () => `q${Math.random().toString(36).slice(2, 10)}`;

/** The behaviour every queue implementation must have (see src/queue/queue.ts). */
export function describeQueueContract(name: string, make: MakeQueueBackend): void {
  describe(`queue contract: ${name}`, () => {
    async function setUp(options: { attempts?: number; backoffMs?: number } = {}) {
      const dead: { id: string; error: unknown }[] = [];
      const q = await make((_queue, id, error) => dead.push({ id, error }));
      const queue = q.backend.queue<{ n: number }>(uniqueName(), { attempts: 3, backoffMs: 100, ...options });
      return { ...q, queue, dead };
    }

    it('processes a job once, with its data', async () => {
      const { backend, queue } = await setUp();
      const seen: unknown[] = [];
      queue.process(async (job) => {
        seen.push([job.id, job.data, job.attempt]);
      });
      await queue.add('job-1', { n: 1 });
      await queue.idle();
      expect(seen).toEqual([['job-1', { n: 1 }, 1]]);
      await backend.close();
    });

    it('ignores a duplicate id while the job is pending, and runs it again once it is done', async () => {
      const { backend, queue } = await setUp();
      const seen: number[] = [];
      await queue.add('same', { n: 1 });
      await queue.add('same', { n: 2 });
      queue.process(async (job) => {
        seen.push(job.data.n);
      });
      await queue.idle();
      expect(seen).toEqual([1]);
      await queue.add('same', { n: 3 });
      await queue.idle();
      expect(seen).toEqual([1, 3]);
      await backend.close();
    });

    it('takes ids with colons and all-digit ids', async () => {
      const { backend, queue } = await setUp();
      const seen: string[] = [];
      queue.process(async (job) => {
        seen.push(job.id);
      });
      await queue.add('inc_1:v2@resolved', { n: 1 });
      await queue.add('12345', { n: 2 });
      await queue.idle();
      expect(seen.sort()).toEqual(['12345', 'inc_1:v2@resolved']);
      await backend.close();
    });

    it('retries a failed job with backoff until it succeeds', async () => {
      const { backend, queue, advance, dead } = await setUp();
      const attempts: number[] = [];
      queue.process(async (job) => {
        attempts.push(job.attempt);
        if (job.attempt < 2) throw new Error('transient');
      });
      await queue.add('flaky', { n: 1 });
      await queue.idle();
      expect(attempts).toEqual([1]);
      await advance(150);
      await eventuallyEqual(() => attempts, [1, 2]);
      expect(dead).toEqual([]);
      await backend.close();
    });

    it('does not retry an error marked not retryable, and dead-letters the job', async () => {
      const { backend, queue, advance, dead } = await setUp();
      let runs = 0;
      queue.process(async () => {
        runs++;
        throw new GuardianError('invalid_auth', 'permanent', { retryable: false });
      });
      await queue.add('permanent', { n: 1 });
      await eventuallyEqual(() => dead.map((d) => d.id), ['permanent']);
      await advance(1_000);
      expect(runs).toBe(1);
      await backend.close();
    });

    it('dead-letters a job whose attempts are exhausted', async () => {
      const { backend, queue, advance, dead } = await setUp({ attempts: 2, backoffMs: 50 });
      let runs = 0;
      queue.process(async () => {
        runs++;
        throw new Error('always');
      });
      await queue.add('doomed', { n: 1 });
      await queue.idle();
      await advance(100);
      await eventuallyEqual(() => dead.map((d) => d.id), ['doomed']);
      expect(runs).toBe(2);
      await backend.close();
    });

    it('keeps a dead letter with its data and error, lists it, and replays it once asked', async () => {
      const { backend, queue, dead } = await setUp();
      let fail = true;
      const seen: number[] = [];
      queue.process(async (job) => {
        if (fail) throw new GuardianError('invalid_auth', 'slack said invalid_auth', { retryable: false });
        seen.push(job.data.n);
      });
      await queue.add('kept', { n: 7 });
      await eventuallyEqual(() => dead.map((d) => d.id), ['kept']);
      let letters = await queue.deadLetters();
      // BullMQ keeps it once its 'failed' event ran, a moment after the listener heard of it.
      for (let i = 0; i < 100 && letters.length === 0; i++) {
        await tick();
        letters = await queue.deadLetters();
      }
      expect(letters[0]).toMatchObject({
        id: 'kept',
        data: { n: 7 },
        error: expect.stringMatching(/invalid_auth/),
      });
      expect(await queue.replay('nothing-by-that-id')).toBe(false);
      fail = false;
      expect(await queue.replay('kept')).toBe(true);
      await queue.idle();
      await eventuallyEqual(() => seen, [7]);
      expect(await queue.deadLetters()).toEqual([]);
      await backend.close();
    });

    it('waits at least the retryAfterMs a failure asks for', async () => {
      const { backend, queue, advance } = await setUp({ backoffMs: 10 });
      const attempts: number[] = [];
      queue.process(async (job) => {
        attempts.push(job.attempt);
        if (job.attempt === 1)
          throw new GuardianError('ratelimited', 'slow down', { retryable: true, retryAfterMs: 400 });
      });
      await queue.add('limited', { n: 1 });
      await queue.idle();
      await advance(200);
      await queue.idle();
      expect(attempts).toEqual([1]);
      await advance(300);
      await eventuallyEqual(() => attempts, [1, 2]);
      await backend.close();
    });

    it('runs no more jobs at once than its concurrency', async () => {
      const { backend, queue } = await setUp();
      let running = 0;
      let most = 0;
      queue.process(
        async () => {
          running++;
          most = Math.max(most, running);
          await tick();
          running--;
        },
        { concurrency: 2 },
      );
      await Promise.all(Array.from({ length: 8 }, (_, i) => queue.add(`c${i}`, { n: i })));
      await queue.idle();
      expect(most).toBe(2);
      await backend.close();
    });

    it('counts pending jobs in depth()', async () => {
      const { backend, queue } = await setUp();
      await queue.add('a', { n: 1 });
      await queue.add('b', { n: 2 });
      expect(await queue.depth()).toBe(2);
      queue.process(async () => {});
      await queue.idle();
      expect(await queue.depth()).toBe(0);
      await backend.close();
    });

    it('leaves jobs waiting while paused, lets the running one finish, and runs the rest on resume', async () => {
      const { backend, queue } = await setUp();
      const seen: number[] = [];
      let release: () => void = () => {};
      const started = new Promise<void>((resolveStarted) => {
        queue.process(async (job) => {
          if (job.data.n === 1) {
            resolveStarted();
            await new Promise<void>((r) => {
              release = r;
            });
          }
          seen.push(job.data.n);
        });
      });
      await queue.add('first', { n: 1 });
      await started;
      const paused = queue.pause();
      await queue.add('second', { n: 2 });
      await tick();
      release();
      await paused;
      expect(seen).toEqual([1]);
      for (let i = 0; i < 10; i++) await tick();
      expect(seen).toEqual([1]);
      expect(await queue.depth()).toBe(1);
      queue.resume();
      await queue.idle();
      expect(seen).toEqual([1, 2]);
      await backend.close();
    });

    it('says whether it consumes, and counts the jobs ready to run in waiting()', async () => {
      const { backend, queue } = await setUp();
      expect(queue.consuming()).toBe(false);
      await queue.add('a', { n: 1 });
      await queue.add('b', { n: 2 }, { delayMs: 60_000 });
      expect(await queue.waiting()).toBe(1);
      await queue.pause();
      queue.process(async () => {});
      expect(queue.consuming()).toBe(false);
      queue.resume();
      await queue.idle();
      expect(await queue.waiting()).toBe(0);
      expect(await queue.depth()).toBe(1);
      for (let i = 0; i < 50 && !queue.consuming(); i++) await tick();
      expect(queue.consuming()).toBe(true);
      await queue.pause();
      expect(queue.consuming()).toBe(false);
      await backend.close();
    });

    it('starts paused when paused before it has a handler', async () => {
      const { backend, queue } = await setUp();
      const seen: number[] = [];
      await queue.pause();
      await queue.add('a', { n: 1 });
      queue.process(async (job) => {
        seen.push(job.data.n);
      });
      for (let i = 0; i < 10; i++) await tick();
      expect(seen).toEqual([]);
      queue.resume();
      await queue.idle();
      expect(seen).toEqual([1]);
      await backend.close();
    });

    it('lets a running job finish on close, and runs nothing after', async () => {
      const { backend, queue } = await setUp();
      const finished: number[] = [];
      let release: () => void = () => {};
      const started = new Promise<void>((resolveStarted) => {
        queue.process(async (job) => {
          if (job.data.n === 1) {
            resolveStarted();
            await new Promise<void>((r) => {
              release = r;
            });
          }
          finished.push(job.data.n);
        });
      });
      await queue.add('slow', { n: 1 });
      await queue.add('after', { n: 2 });
      await started;
      const closed = backend.close();
      await tick();
      release();
      await closed;
      expect(finished).toEqual([1]);
    });
  });
}

async function eventuallyEqual<T>(get: () => T, expected: T, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      expect(get()).toEqual(expected);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await tick();
    }
  }
}
